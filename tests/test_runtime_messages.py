"""Failures a user meets say what happened, once: an unwritable output folder, a backend that is not
installed, a camera that will not open (one clear line, exit 1, no empty session folder; in slave
mode one error line on stdout), and runtime warnings (camera lost) reach stderr, the journal."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from camera_core.config import Settings
from camera_core.errors import CameraOpenError
from camera_core.sources.sim import create_sim_sources
from camera_core.system import CameraSystem
from tests.conftest import ROOT, main_camera_cmd

SIM = ("--backend", "sim", "--resolution", "7", "--sim-cameras", "1", "--duration", "1")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        main_camera_cmd(*args), cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


def assert_one_clear_error(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "unexpected error" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("main_camera.py: error:")]
    assert len(errors) == 1, done.stderr  # once, not twice
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Path:
    mount = tmp_path / "ro"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a read-only tmpfs (needs root): {done.stderr.decode().strip()}", pytrace=False)
    yield mount  # type: ignore[misc]
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("mode", ["headless", "slave"])
def test_a_read_only_output_dir_is_one_clear_line(read_only_dir: Path, mode: str) -> None:
    target = read_only_dir / "recordings"
    done = run("--mode", mode, "--output-dir", str(target), *SIM)
    assert_one_clear_error(done, str(target), "Read-only file system", "--output-dir")
    assert not target.exists()
    if mode == "slave":
        (line,) = done.stdout.splitlines()
        reply = json.loads(line)
        assert reply["status"] == "error" and reply["data"]["code"] == "OUTPUT_DIR_UNWRITABLE"
    else:
        assert done.stdout == ""


def test_a_missing_backend_says_what_to_install(tmp_path: Path) -> None:
    done = run("--mode", "headless", "--output-dir", str(tmp_path / "out"), "--backend", "picamera2")
    assert_one_clear_error(done, "picamera2", "apt install python3-picamera2", "--backend sim")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


class UnopenableSource:
    """Wraps a sim source whose open() fails the way a busy Pi camera does."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def open(self) -> None:
        raise RuntimeError("Device or resource busy")


def test_a_camera_that_will_not_open_is_named_and_leaves_no_folder(
    tmp_path: Path, small_settings: Callable[..., Settings]
) -> None:
    settings = small_settings(sim_cameras=2)
    good, bad = create_sim_sources(settings)
    system = CameraSystem(settings, sources=[good, UnopenableSource(bad)])  # type: ignore[list-item]
    with pytest.raises(CameraOpenError) as caught:
        system.start()
    assert caught.value.code == "CAMERA_OPEN_FAILED"
    assert "cam1" in str(caught.value) and "Device or resource busy" in str(caught.value)
    assert not list(Path(settings.output_dir).iterdir())  # no empty session folder


def test_runtime_warnings_reach_stderr(tmp_path: Path) -> None:
    config = tmp_path / "config.txt"
    config.write_text("sim_error_after_frames = 10\nsim_fault_camera = 0\n")
    done = run("--config", str(config), "--mode", "headless", "--output-dir", str(tmp_path / "out"), *SIM[:-1], "3")
    lost = [line for line in done.stderr.splitlines() if "camera lost" in line]
    assert lost and lost[0].startswith("main_camera.py: error: cam0: camera lost"), done.stderr
    (session,) = (tmp_path / "out").iterdir()
    assert "camera lost" in (session / "session.log").read_text()
