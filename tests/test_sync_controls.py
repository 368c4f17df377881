"""Camera controls: manual exposure, gain and white balance, or locked after N frames; what is in
force in status, timing rows and the manifest (picamera2 through the fake, and sim)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from camera_core.config import Settings
from camera_core.errors import ConfigError
from camera_core.sources.sim import create_sim_sources
from camera_core.system import CameraSystem
from tests.conftest import wait_for_frames
from tests.sync_support import timing_rows
from tests.test_picamera2_backend import all_closed, fake, settings_for, wait_recorded

__all__ = ["fake"]  # the fixture, imported for pytest


def record(settings: Settings, frames: int, wait: Callable[[CameraSystem, int], None]) -> tuple[Path, dict]:
    with CameraSystem(settings) as system:
        system.start_recording()
        wait(system, frames)
        status = system.status()
        system.stop_recording()
        assert system.session is not None
        return system.session.directory, status


def test_manual_controls_reach_the_pi_camera(fake: ModuleType, tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, exposure_time_us=8000, analogue_gain=2.0, colour_gains="1.5,2.5", disable_mp4_conversion=True
    )
    session, status = record(settings, 10, wait_recorded)
    assert all_closed(fake)
    controls = status["cameras"][0]["controls"]
    assert controls["exposure_us"] == 8000 and controls["analogue_gain"] == 2.0
    assert controls["colour_gains"] == [1.5, 2.5]
    assert (controls["exposure_mode"], controls["gain_mode"], controls["white_balance_mode"]) == ("manual",) * 3
    assert all(r["exposure_us"] == "8000" for r in timing_rows(session)[0])
    manifest = json.loads((session / "manifest.json").read_text())
    assert manifest["recordings"][0]["controls"]["exposure_us"] == 8000


def test_automatic_controls_lock_after_n_frames(fake: ModuleType, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, lock_controls_after_frames=10, analogue_gain=1.5, disable_mp4_conversion=True)
    with CameraSystem(settings) as system:
        system.start_recording()
        wait_recorded(system, 20)
        status = system.status()
        sensors = [cam.source.picam2.camera for cam in system.cameras]  # type: ignore[attr-defined]
        fixed = [dict(s._controls) for s in sensors]
        system.stop_recording()
    controls = status["cameras"][0]["controls"]
    assert controls["exposure_mode"] == "locked after 10 frames"
    assert controls["white_balance_mode"] == "locked after 10 frames"
    assert controls["gain_mode"] == "manual"  # set by hand: not touched by the lock
    for sensor_controls in fixed:  # the values the automatic algorithms had reached, now fixed
        assert sensor_controls["ExposureTime"] == controls["exposure_us"]
        assert tuple(sensor_controls["ColourGains"]) == tuple(controls["colour_gains"])
        assert sensor_controls["AnalogueGain"] == 1.5


def test_sim_exposure_and_status(small_settings: Callable[..., Settings]) -> None:
    settings = small_settings(resolution_preset=7, sim_cameras=1, exposure_time_us=10000, min_free_space_mb=0)
    session, status = record(settings, 5, wait_for_frames)
    assert all(r["exposure_us"] == "10000" for r in timing_rows(session)[0])
    controls = status["cameras"][0]["controls"]
    assert controls["exposure_us"] == 10000 and controls["exposure_mode"] == "manual"
    assert controls["gain_mode"] == "automatic" and controls["analogue_gain"] == 1.0


@pytest.mark.parametrize(("text", "message"), [("2.0", "not two gains"), ("2,40", "out of range"), ("a,b", "not two")])
def test_bad_colour_gains_are_named(small_settings: Callable[..., Settings], text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"colour_gains.*{message}"):
        create_sim_sources(small_settings(colour_gains=text))
