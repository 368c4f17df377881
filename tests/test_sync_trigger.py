"""External trigger: frames follow the pulse, drops are counted against the trigger period the user
gives (not the sensor's FrameDuration), and a camera whose driver is not in trigger mode is a clear
error (picamera2 through the fake; sim)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from camera_core.config import Settings
from camera_core.errors import ConfigError
from camera_core.sources import trigger
from camera_core.system import CameraSystem
from tests.conftest import wait_for_frames
from tests.sync_support import timing_rows
from tests.test_picamera2_backend import FAST, fake, settings_for, wait_recorded

__all__ = ["fake"]  # the fixture, imported for pytest


@pytest.fixture
def trigger_mode_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The imx296 driver's trigger_mode parameter, switched on (a file standing in for sysfs)."""
    parameter = tmp_path / "trigger_mode"
    parameter.write_text("1\n")
    monkeypatch.setattr(trigger, "IMX296_TRIGGER_PARAMETER", parameter)
    return parameter


def test_triggered_pi_camera_counts_drops_against_the_trigger_period(
    fake: ModuleType, tmp_path: Path, trigger_mode_on: Path
) -> None:
    # The sensor is programmed for 60 fps; the pulse drives it at 25 Hz, one pulse missed.
    fake.configure_fake(cameras=[FAST], trigger_hz={0: 25.0})
    settings = settings_for(tmp_path, trigger_fps=25.0, disable_mp4_conversion=True)
    with CameraSystem(settings) as system:
        system.start_recording()
        wait_recorded(system, 5)
        base = fake.sensor_stats(0)["sensor_frames"]
        fake.configure_fake(drop_sequences={0: {base + 3}})
        wait_recorded(system, 15)
        status = system.status()["cameras"][0]
        system.stop_recording()
        assert system.session is not None
        session = system.session.directory
    rows = timing_rows(session)[0]
    assert all(float(r["frame_duration_us"]) == 40000 for r in rows)  # the trigger period
    assert sum(int(r["dropped_since_last"]) for r in rows) == 1  # the lost frame, and nothing else
    assert status["trigger_fps"] == 25.0 and status["hardware_drops"] == 1
    assert next(session.glob("cam0_*_25.0fps_*.h264"))  # named by the trigger rate


def test_trigger_needs_the_driver_in_trigger_mode(
    fake: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parameter = tmp_path / "trigger_mode"
    parameter.write_text("0\n")
    monkeypatch.setattr(trigger, "IMX296_TRIGGER_PARAMETER", parameter)
    fake.configure_fake(cameras=[FAST])
    with pytest.raises(ConfigError) as err:
        CameraSystem(settings_for(tmp_path, trigger_fps=25.0)).start()
    assert "not in trigger mode" in str(err.value) and f"echo 1 | sudo tee {parameter}" in str(err.value)
    fake.configure_fake(cameras=[{**FAST, "Model": "imx708"}])
    parameter.write_text("1\n")
    with pytest.raises(ConfigError, match="supported on the IMX296"):
        CameraSystem(settings_for(tmp_path, trigger_fps=25.0)).start()


def test_triggered_sim_frames_follow_the_trigger(small_settings: Callable[..., Settings]) -> None:
    settings = small_settings(
        resolution_preset=7, sim_cameras=1, trigger_fps=20.0, target_fps=30.0, min_free_space_mb=0
    )
    with CameraSystem(settings) as system:
        system.start_recording()
        wait_for_frames(system, 10)
        system.stop_recording()
        assert system.session is not None
        session = system.session.directory
    rows = timing_rows(session)[0]
    steps = {int(b["sensor_timestamp_ns"]) - int(a["sensor_timestamp_ns"]) for a, b in itertools.pairwise(rows)}
    assert steps == {50_000_000} and {r["frame_duration_us"] for r in rows} == {"50000.000"}
