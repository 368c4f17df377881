"""Camera controls: manual exposure, gain and white balance, or locked after N frames; what is in
force in status, timing rows and the manifest (picamera2 through the fake, and sim)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from slave_support import RawSlave, session_dir, slave_cmd

from camera_core.config import Settings
from camera_core.errors import ConfigError
from camera_core.frames.frame import Frame
from camera_core.pipeline.camera_pipeline import CameraPipeline
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


def test_set_controls_over_the_protocol(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with RawSlave(slave_cmd(out, "--sim-cameras", "2")) as slave:
        reply = slave.request("set_controls", camera_id=1, exposure_us=12000, colour_gains=[2.0, 1.8], id=5)
        assert reply["status"] == "controls_set" and reply["id"] == 5
        (cam,) = reply["data"]["cameras"]
        assert cam["camera_id"] == 1 and cam["controls"]["exposure_mode"] == "manual"
        assert cam["controls"]["white_balance_mode"] == "manual"
        bad = slave.request("set_controls", colour_gains=[1.0])
        assert bad["status"] == "error" and bad["data"]["code"] == "INVALID_ARGUMENT"
        assert "[red, blue]" in bad["data"]["message"]
        slave.request("start_recording")
        status = slave.wait_recorded(frames=1)
        by_id = {c["camera_id"]: c["controls"] for c in status["data"]["cameras"]}
        assert by_id[0]["exposure_mode"] == "automatic" and by_id[1]["white_balance_mode"] == "manual"
        slave.request("stop_recording")
        back = slave.request("set_controls", camera_id=1, exposure_us=0, colour_gains=[])
        assert back["data"]["cameras"][0]["controls"]["exposure_mode"] == "automatic"
        slave.request("quit")
        assert slave.close() == 0
    rows = timing_rows(session_dir(out))
    assert {r["exposure_us"] for r in rows[1]} == {"12000"}
    assert {r["exposure_us"] for r in rows[0]} == {"33333"}  # the sim's automatic: the whole frame


def test_set_controls_on_a_pi_camera_reaches_its_frames(fake: ModuleType, tmp_path: Path) -> None:
    with CameraSystem(settings_for(tmp_path, lock_controls_after_frames=5, disable_mp4_conversion=True)) as system:
        cam = system.cameras[0]
        sensor = cam.source.picam2.camera  # type: ignore[attr-defined]
        wait_until(cam, lambda f: "ExposureTime" in sensor._controls)  # locked at the automatic value
        automatic = system.status()["cameras"][0]["controls"]["exposure_us"]
        assert sensor._controls["ExposureTime"] == automatic
        system.set_controls(0, exposure_us=5000)
        wait_until(cam, lambda f: f.extra.get("ExposureTime") == 5000)
        system.set_controls(0, lock_after_frames=0)  # the lock of gain and white balance is released
        wait_until(cam, lambda f: sensor._controls.get("AnalogueGainMode") == 0)  # automatic again (picamera2: 0)
        controls = system.status()["cameras"][0]["controls"]
    assert controls["exposure_mode"] == "manual" and controls["gain_mode"] == "automatic"
    assert sensor._controls["AwbEnable"] is True  # automatic white balance again
    assert sensor._controls["ExposureTime"] == 5000  # manual values stay


def wait_until(cam: CameraPipeline, done: Callable[[Frame], bool], frames: int = 200) -> None:
    """Until a frame satisfies `done` (woken by each new frame; at most `frames` frames)."""
    version = 0
    for _ in range(frames):
        version, frame = cam.latest.wait_newer(version, 5.0)
        assert frame is not None, "no frames"
        if done(frame):
            return
    raise AssertionError(f"not reached within {frames} frames")
