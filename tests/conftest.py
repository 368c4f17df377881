"""Shared fixtures: small, fast settings and a way to wait for frames without sleeping.

Layout: tests/unit/test_<package>_<module>.py test one module of camera_core on its own (fakes, no
cameras); tests/test_<feature>_*.py are the end-to-end tests (sim cameras, the CLI, slave mode)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from camera_core.config import Settings
from camera_core.system import CameraSystem

ROOT = Path(__file__).resolve().parents[1]

#: The tier on the real picamera2 (tests/real_picamera2, docs/real_picamera2.md) needs the kit from
#: ../shared/virtual-cameras and runs only when asked for, so a fresh clone's `uv run pytest` never
#: looks outside the repository.
REAL_TIER_ENV = "CAMERA_CORE_REAL_PICAMERA2"
collect_ignore = [] if os.environ.get(REAL_TIER_ENV) == "1" else ["real_picamera2"]


def pytest_report_header() -> str:
    if collect_ignore:
        return f"real-picamera2 tier: not selected ({REAL_TIER_ENV}=1 selects it; docs/real_picamera2.md)"
    return "real-picamera2 tier: selected (needs the kit: run it through ../shared/virtual-cameras/run_real.sh)"


@pytest.fixture
def small_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a fast sim run into tmp_path (VGA, no preview, unpaced unless asked)."""

    def make(**changes: object) -> Settings:
        base: dict[str, object] = {
            "camera_backend": "sim",
            "output_dir": str(tmp_path / "rec"),
            "resolution_preset": 5,
            "show_preview": False,
            "sim_realtime": False,
            "log_level": "debug",
        }
        base.update(changes)
        return Settings(**base)  # type: ignore[arg-type]

    return make


def wait_for_frames(system: CameraSystem, recorded: int, timeout: float = 30.0) -> None:
    """Block until every camera has recorded at least `recorded` frames (woken by each new frame)."""
    deadline = time.monotonic() + timeout
    for cam in system.cameras:
        version = 0
        while int(cam.recorder.stats()["frames_recorded"]) < recorded:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"cam{cam.camera_id} recorded {cam.recorder.stats()['frames_recorded']} < {recorded}"
                )
            version, _ = cam.latest.wait_newer(version, remaining)


def main_camera_cmd(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "main_camera.py"), *args]
