"""The package's layers, checked from its imports: no module imports a module of a higher layer,
and no two modules import each other, directly or round a circle. Imports made only for type
checking count too: they are part of what a reader has to hold in mind.

Layers, lowest first (docs/architecture.md draws them):
  foundation   errors, version, util, config, events, timing, health, the session folder
  frames       a frame and its code, buffer pools, the overlay drawing
  sync model   libcamera's software-sync algorithm and messages, the LED, start on the sync grid, clocks
  sources      the cameras (sim, picamera2, OpenCV)
  recording    encoders, the take, segments, timing rows, MP4, snapshots
  pipeline     one camera's capture and processor loops, the latest-frame slot, restart backoff;
               the preview: its interface, renderer and feeds (windows and the stream sit above)
  system       CameraSystem: every camera, recording control, status, events
  tools        self-test, verify, report, recover, synccheck, align, blink
  interfaces   the slave protocol (commands, with the preview stream), preview windows (display)
  modes        interactive, headless, slave; the command line; the package face
The client (master side) stands apart: it talks to slaves over pipes and imports no layer above
the foundation but the clock description of the sync model."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "camera_core"

LAYERS: list[tuple[str, list[str]]] = [
    (
        "foundation",
        [
            "camera_core.errors",
            "camera_core.version",
            "camera_core.util",
            "camera_core.config",
            "camera_core.events",
            "camera_core.timing",
            "camera_core.health",
            "camera_core.session",
            "camera_core.unfinished_sessions",
        ],
    ),
    (
        "frames",
        [
            "camera_core.sources.frame",
            "camera_core.sources.framecode",
            "camera_core.sources.pool",
            "camera_core.overlay_style",
            "camera_core.burnin",
            "camera_core.overlay",
        ],
    ),
    (
        "sync model",
        [
            "camera_core.sync.algorithm",
            "camera_core.sync.protocol",
            "camera_core.sync.led",
            "camera_core.sync.start",
            "camera_core.sync.picamera2_sync",
            "camera_core.sync.clocks",
        ],
    ),
    ("sources", ["camera_core.sources"]),
    ("recording", ["camera_core.recording", "camera_core.snapshot"]),
    ("pipeline", ["camera_core.pipeline", "camera_core.preview"]),
    ("system", ["camera_core.system"]),
    (
        "tools",
        [
            "camera_core.selftest",
            "camera_core.verify",
            "camera_core.report",
            "camera_core.recovery",
            "camera_core.sync",
        ],
    ),
    ("interfaces", ["camera_core.commands", "camera_core.display"]),
    ("modes", ["camera_core.modes", "camera_core.cli", "camera_core.__main__", "camera_core"]),
]
CLIENT = "camera_core.client"
CLIENT_MAY_USE = ("camera_core.errors", "camera_core.util", "camera_core.version", "camera_core.sync.clocks")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """(imported camera_core module, line) for every import in the file, at any depth."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import module` names a module; `from module import name` names the module
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target, node.lineno


def layer_of(name: str) -> int:
    best, rank = "", -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best):
                best, rank = prefix, index
    assert rank >= 0, f"{name} is in no layer: add it to LAYERS in {Path(__file__).name}"
    return rank


def import_graph() -> dict[str, dict[str, int]]:
    modules = package_modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        graph[name] = {}
        for target, line in imports_of(name, path, known):
            graph[name].setdefault(target, line)
    return graph


def test_no_module_imports_a_higher_layer() -> None:
    upward = []
    for name, targets in import_graph().items():
        for target, line in targets.items():
            if name.startswith(CLIENT):
                if not target.startswith((CLIENT, *CLIENT_MAY_USE)):
                    upward.append(f"{name}:{line} -> {target} (the client stands apart)")
                continue
            if target.startswith(CLIENT) and not name.startswith("camera_core.cli"):
                upward.append(f"{name}:{line} -> {target} (only the command line starts the client's tools)")
                continue
            if target.startswith(CLIENT):
                continue
            if layer_of(target) > layer_of(name):
                upward.append(
                    f"{name}:{line} ({LAYERS[layer_of(name)][0]}) -> {target} ({LAYERS[layer_of(target)][0]})"
                )
    assert upward == [], "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def test_no_import_circle() -> None:
    graph = import_graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, {})):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert circles == [], "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_the_check_sees_imports_of_every_kind(tmp_path: Path) -> None:
    """The walk finds relative, nested and type-only imports, so the two checks above can fail."""
    source = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "from .frame import Frame\n"
        "if TYPE_CHECKING:\n"
        "    from camera_core.system import CameraSystem\n"
        "def f():\n"
        "    import camera_core.recording.take\n"
    )
    path = tmp_path / "x.py"
    path.write_text(source)
    found = dict(imports_of("camera_core.sources.x", path, set(package_modules())))
    assert set(found) == {"camera_core.sources.frame", "camera_core.system", "camera_core.recording.take"}
    assert layer_of("camera_core.system") > layer_of("camera_core.sources.x")
