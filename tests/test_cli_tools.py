"""Every command-line tool ends cleanly: a reader that closed the pipe (`tool | head`) ends it
quietly with exit code 141, running out of memory is one line and exit code 3, never a traceback;
`rig --status-only` prints the status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from camera_core import cli
from camera_core.config import Settings
from camera_core.system import CameraSystem
from camera_core.util.cli_tool import EXIT_BROKEN_PIPE, EXIT_OUT_OF_MEMORY
from tests.conftest import ROOT, wait_for_frames


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished two-camera session."""
    out = tmp_path_factory.mktemp("tools")
    settings = Settings(
        camera_backend="sim", output_dir=str(out), resolution_preset=7, show_preview=False, sim_realtime=False
    )
    system = CameraSystem(settings)
    with system:
        system.start_recording()
        wait_for_frames(system, 20)
        system.stop_recording()
    assert system.session is not None
    return system.session.directory


def run_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m camera_core ARGS` with stdout a pipe whose reader is already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "camera_core", *args],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ("report", "{s}", "--no-figure"),
        ("verify", "{s}"),
        ("recover", "{s}"),
        ("convert", "--keep", "{s}"),
        ("report", "--help"),
        ("rig", "--help"),
        ("self-test", "--help"),
    ],
    ids=["report", "verify", "recover", "convert", "report-help", "rig-help", "self-test-help"],
)
def test_a_closed_pipe_ends_a_tool_quietly(session: Path, args: tuple[str, ...]) -> None:
    done = run_into_closed_pipe(*(a.format(s=session) for a in args))
    assert done.stderr == "", done.stderr
    # argparse's own --help ignores a closed pipe and exits 0; the tools' output ends in 141
    assert done.returncode == (0 if "--help" in args else EXIT_BROKEN_PIPE)


def test_self_test_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    done = run_into_closed_pipe(
        "self-test", "--backend", "sim", "--resolution", "7", "--self-test-seconds", "0.2",
        "--output-dir", str(tmp_path), "--no-console",
    )  # fmt: skip
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == 0  # the self-test's verdict (PASS) stays its exit code
    (session_dir,) = tmp_path.iterdir()
    assert "unexpected error" not in (session_dir / "session.log").read_text()


@pytest.mark.parametrize(
    ("tool", "module", "function"),
    [
        ("report", "camera_core.tools.report.cli", "report_for"),
        ("verify", "camera_core.tools.verify", "verify_recording"),
        ("recover", "camera_core.tools.recovery.tool", "recover_session"),
        ("convert", "camera_core.recording.convert", "convert_file"),
    ],
)
def test_out_of_memory_is_one_clear_line(
    session: Path,
    tool: str,
    module: str,
    function: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def exhausted(*_args: object, **_kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(f"{module}.{function}", exhausted)
    argv = [tool, str(session)] + (["--keep"] if tool == "convert" else [])
    assert cli.main(argv) == EXIT_OUT_OF_MEMORY
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(f"{tool}: error: out of memory")]
    assert len(lines) == 1, err
    assert "Traceback" not in err


def test_rig_status_only_prints_the_status_without_json(tmp_path: Path) -> None:
    out = tmp_path / "out"
    rig_file = tmp_path / "rig.toml"
    rig_file.write_text(
        'args = ["--backend", "sim", "--resolution", "7", "--sim-cameras", "2", "--output-dir", '
        f'"{out}"]\n[[slave]]\nname = "left"\n[[slave]]\nname = "gone"\nremote = "false"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "camera_core", "rig", str(rig_file), "--status-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # one slave failed
    left, gone = done.stdout.splitlines()
    assert left.startswith("left: ok, not recording, cam0 running") and ", cam1 running" in left
    assert "MB free in " + str(out) in left
    assert gone.startswith("gone: FAILED: slave gone exited with code 1")
