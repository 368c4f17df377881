"""Software sync through the picamera2 fake: SyncMode set (server on the first camera, clients on
the others), recording gated on SyncReady, SyncTimer kept in the timing rows; a camera without
SyncMode is a clear error."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import ModuleType

import pytest

from camera_core.errors import ConfigError
from camera_core.system import CameraSystem
from tests.sync_support import timing_rows
from tests.test_picamera2_backend import FAST, all_closed, fake, settings_for, wait_recorded

__all__ = ["fake"]  # the fixture, imported for pytest

SYNC_FRAMES = 40


def test_sync_server_and_client_record_from_the_sync_point(fake: ModuleType, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, sync_role="server", sync_frames=SYNC_FRAMES, disable_mp4_conversion=True)
    with CameraSystem(settings) as system:
        sensors = [cam.source.picam2.camera for cam in system.cameras]  # type: ignore[attr-defined]
        modes = [int(s._controls.get("SyncMode", 0)) for s in sensors]
        frames = [s._controls.get("SyncFrames") for s in sensors]
        system.start_recording()  # before the sync point: frames before it are not recorded
        wait_recorded(system, 20)
        status = system.status()
        system.stop_recording()
        assert system.session is not None
        session = system.session.directory
    assert all_closed(fake)
    assert modes == [1, 2]  # controls.rpi.SyncModeEnum.Server on camera 0, Client on camera 1
    assert frames == [SYNC_FRAMES, SYNC_FRAMES]
    assert [c["sync_role"] for c in status["cameras"]] == ["server", "client"]
    assert [c["sync_ready"] for c in status["cameras"]] == [True, True]
    rows = timing_rows(session)
    assert sorted(rows) == [0, 1]
    for cam_rows in rows.values():
        assert len(cam_rows) >= 20
        assert all(r["sync_ready"] == "1" for r in cam_rows)
        timers = [int(r["sync_timer_us"]) for r in cam_rows]
        duration = float(cam_rows[0]["frame_duration_us"])
        assert -duration / 2 < timers[0] <= duration / 2  # the first recorded frame is the sync point
        steps = [a - b for a, b in itertools.pairwise(timers)]
        frames = [1 + int(r["dropped_since_last"]) for r in cam_rows[1:]]
        assert all(abs(s - n * duration) <= 2 for s, n in zip(steps, frames, strict=True))  # SyncTimer counts on
        assert cam_rows[0]["exposure_us"] != ""


def test_a_camera_without_sync_mode_gets_a_clear_error(fake: ModuleType, tmp_path: Path) -> None:
    fake.configure_fake(cameras=[{**FAST, "sync": False}])
    settings = settings_for(tmp_path, sync_role="client")
    with pytest.raises(ConfigError) as err:
        CameraSystem(settings).start()
    message = str(err.value)
    assert "sync_role" in message and "SyncMode" in message and "does not offer" in message
    assert all_closed(fake)
    # Sync off: the same camera records normally.
    with CameraSystem(settings.replace(sync_role="off")) as system:
        system.start_recording()
        wait_recorded(system, 3)
        system.stop_recording()
        assert system.session is not None
        rows = timing_rows(system.session.directory)
    assert all(r["sync_ready"] == "" for r in rows[0])


def test_the_fake_is_as_strict_as_picamera2_about_sync_mode(fake: ModuleType) -> None:
    """Setting SyncMode on a camera that does not advertise it fails in picamera2 too."""
    import picamera2

    fake.configure_fake(cameras=[{**FAST, "sync": False}])
    with picamera2.Picamera2(0) as cam:
        assert "SyncMode" not in cam.camera_controls
        with pytest.raises(RuntimeError, match="SyncMode"):
            cam.set_controls({"SyncMode": 1})
