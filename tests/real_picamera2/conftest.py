"""Fixtures of the tier on the real picamera2: the kit check, the CLI runner, a camera without raw modes.

The tier runs only with CAMERA_CORE_REAL_PICAMERA2=1 (tests/conftest.py ignores this folder otherwise)
and under ../shared/virtual-cameras/run_real.sh, which puts the kit's libcamera and bindings on the paths:

    PC2_KIT=$HOME/.cache/pc2kit ../shared/virtual-cameras/run_real.sh \\
        env CAMERA_CORE_REAL_PICAMERA2=1 uv run --no-sync pytest tests/real_picamera2

Selected but without the kit or picamera2, every test fails saying what is missing: never skipped.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from real_support import ROOT, CliRunner

PICAMERA2_VERSION = "0.3.38"


@dataclass(frozen=True, slots=True)
class Kit:
    """The real-picamera2 kit made by build_kit.sh (PC2_KIT)."""

    directory: Path

    @property
    def prefix(self) -> Path:
        return self.directory / "prefix"

    @property
    def build_lib_dir(self) -> Path:
        """libcamera as built, before installation (it reads its cameras from its source tree)."""
        return self.directory / "build" / "src" / "libcamera"


def _origin(module: str) -> str | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def kit_problem() -> str | None:
    """What is missing for the tier, or None."""
    how = (
        "run the tier as docs/real_picamera2.md says: build the kit with ../shared/virtual-cameras/build_kit.sh, "
        f"`uv sync --group real-picamera2` (picamera2 {PICAMERA2_VERSION}), then "
        "PC2_KIT=KIT_DIR ../shared/virtual-cameras/run_real.sh env CAMERA_CORE_REAL_PICAMERA2=1 uv run --no-sync pytest tests/real_picamera2"
    )
    kit = os.environ.get("PC2_KIT", "")
    if not kit or not (Path(kit) / "prefix").is_dir():
        return f"no real-picamera2 kit: PC2_KIT={kit!r} names no folder with prefix/; {how}"
    libcamera = _origin("libcamera")
    if libcamera is None or not Path(libcamera).resolve().is_relative_to(Path(kit).resolve()):
        return f"libcamera is not the kit's (found {libcamera}): the tests must run under run_real.sh; {how}"
    picamera2 = _origin("picamera2")
    if picamera2 is None or "fakes" in Path(picamera2).parts:
        return f"the real picamera2 is not installed in this venv (found {picamera2}); {how}"
    return None


@pytest.fixture(scope="session", autouse=True)
def real_kit() -> Kit:
    problem = kit_problem()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    return Kit(Path(os.environ["PC2_KIT"]))


#: camera_timeout_s of the tier's runs (config.txt: 2). On a machine shared with other jobs (load 10 on 2
#: cores) the virtual pipeline's own thread went 2 s without delivering a frame, and camera_core rightly
#: restarted the camera, which then began a new file: a test of timing rows, segments or the pre-trigger
#: would fail for the load. Restarts have their own tests (test_real_cameras, test_real_pipeline).
PATIENT_CAMERA_TIMEOUT_S = 10


@pytest.fixture(scope="session")
def patient_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's config.txt with camera_timeout_s = PATIENT_CAMERA_TIMEOUT_S (for --config)."""
    text = (ROOT / "config.txt").read_text()
    patient, count = re.subn(
        r"^camera_timeout_s = .*$", f"camera_timeout_s = {PATIENT_CAMERA_TIMEOUT_S}", text, flags=re.M
    )
    assert count == 1, "config.txt has no camera_timeout_s line"
    path = tmp_path_factory.mktemp("config") / "config.txt"
    path.write_text(patient)
    return path


@pytest.fixture
def camera_cli(patient_config: Path) -> CliRunner:
    """Runs `main_camera.py --backend picamera2 --config PATIENT ARGS` on the virtual cameras; returns the
    finished process."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, str(ROOT / "main_camera.py"), "--config", str(patient_config), "--backend",
                "picamera2", *args]  # fmt: skip
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})}
        )

    return run


#: One camera that lists no raw Bayer mode, as a UVC webcam: libcamera's virtual cameras under any model
#: name but imx296 offer only NV12 on the Raw stream.
RAWLESS_YAML = """%YAML 1.1
---
"/base/axi/pcie@1000120000/rp1/usb@200000/webcam@1":
  supported_formats:
  - width: 1280
    height: 720
    frame_rates: [5, 30]
  - width: 640
    height: 480
    frame_rates: [5, 30]
  test_pattern: "bars"
  location: "CameraLocationExternal"
  model: "usb-webcam"
"""


@pytest.fixture(scope="session")
def rawless_camera_env(real_kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment in which libcamera offers one camera without raw modes, leaving the shared kit alone.

    The installed libcamera reads its cameras from a path compiled into it (prefix/share/...), which
    every user of the kit shares. libcamera as built (the kit's build/ folder, whose library carries a
    RUNPATH) reads them from `<its folder>/../../source/src/libcamera/pipeline/virtual/data/` instead; so
    a private folder with links to the built libraries and our own virtual.yaml gives this process tree
    its own cameras. The links are named as the loader finds them (LD_LIBRARY_PATH), which is what
    libcamera looks its folder up by.
    """
    built = sorted(real_kit.build_lib_dir.glob("libcamera.so*"))
    if not built:
        pytest.fail(
            f"the kit has no build folder ({real_kit.build_lib_dir}): rebuild it with build_kit.sh", pytrace=False
        )
    root = tmp_path_factory.mktemp("rawless-libcamera")
    lib_dir = root / "src" / "libcamera"
    lib_dir.mkdir(parents=True)
    for library in built:
        (lib_dir / library.name).symlink_to(library)
    (lib_dir / "base").symlink_to(real_kit.build_lib_dir / "base")
    data = root / "source" / "src" / "libcamera" / "pipeline" / "virtual" / "data"
    data.mkdir(parents=True)
    (data / "virtual.yaml").write_text(RAWLESS_YAML)
    return {"LD_LIBRARY_PATH": f"{lib_dir}:{os.environ.get('LD_LIBRARY_PATH', '')}"}
