"""Disk guard on a real small filesystem (a 3 MB tmpfs): no start below the minimum, a clean stop
at the floor, and a full disk (ENOSPC) handled the same way: every file closed and decodable to
exactly its timing rows, an event and a log line, the system still running."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from camera_core.config import Settings
from camera_core.errors import LowDiskSpaceError
from camera_core.system import CameraSystem
from camera_core.tools.verify import verify_recording
from tests.conftest import ROOT, main_camera_cmd
from tests.unattended_support import EventLog, small_tmpfs


def check_files_whole(system: CameraSystem) -> int:
    """Every segment of every recording decodes to exactly its rows with continuous frame codes."""
    assert system.session is not None
    frames = 0
    for rec in system.recordings:
        for seg in rec.segments:
            video = system.session.directory / seg.video
            report = verify_recording(video, system.session.directory / str(seg.timing_csv))
            assert report.ok, report.problems
            assert report.frames == seg.frames
            assert report.drops_reported == 0  # unpaced sim: frame codes step by exactly 1
            frames += report.frames
    return frames


def test_refuses_to_start_below_minimum_free_space(tmp_path: Path, small_settings: Callable[..., Settings]) -> None:
    with small_tmpfs(tmp_path / "disk") as disk:
        settings = small_settings(output_dir=str(disk), resolution_preset=7, min_free_space_mb=10, stop_free_space_mb=0)
        with CameraSystem(settings) as system:
            with pytest.raises(LowDiskSpaceError) as caught:
                system.start_recording()
            assert caught.value.code == "LOW_DISK_SPACE"
            assert "min_free_space_mb" in str(caught.value)
            assert not system.is_recording
            assert system.session is not None
            assert not list(system.session.directory.glob("*.h264"))


def test_stops_cleanly_at_the_free_space_floor(tmp_path: Path, small_settings: Callable[..., Settings]) -> None:
    with small_tmpfs(tmp_path / "disk") as disk:
        settings = small_settings(
            output_dir=str(disk), resolution_preset=7, min_free_space_mb=0, stop_free_space_mb=1.5, segment_seconds=2
        )
        system = CameraSystem(settings)
        with system:
            events = EventLog(system.events)
            system.start_recording()
            events.wait_for("disk_low")
            (stopped,) = events.wait_for("recording_stopped")
            assert stopped.data["reason"] == "disk_low"
            assert not system.is_recording
            status = system.status()
            assert status["running"] and status["last_stop"]["reason"] == "disk_low"
            assert status["free_disk_bytes"] > 0  # stopped before the disk filled
            assert {r.stop_reason for r in system.recordings} == {"disk_low"}
            assert check_files_whole(system) > 0
            # the process carries on: a snapshot still works
            assert system.take_snapshot(0)
        assert system.session is not None
        log_text = (system.session.directory / "session.log").read_text()
        assert "recording stopped" in log_text and "stop_free_space_mb" in log_text


def test_disk_full_keeps_whole_files_and_the_system_alive(
    tmp_path: Path, small_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="camera_core")
    with small_tmpfs(tmp_path / "disk") as disk:
        settings = small_settings(
            output_dir=str(disk), resolution_preset=7, sim_cameras=1, min_free_space_mb=0, stop_free_space_mb=0
        )
        system = CameraSystem(settings)
        with system:
            assert system.session is not None
            spare = system.session.directory / "spare.bin"
            spare.write_bytes(b"\0" * 200_000)  # freed later so the manifest can be written
            events = EventLog(system.events)
            system.start_recording()
            lows = events.wait_for("disk_low")
            assert lows[0].data["reason"] == "disk_full"
            events.wait_for("recording_stopped")
            assert not system.is_recording
            assert all(r.stop_reason == "disk_full" for r in system.recordings)
            assert check_files_whole(system) > 0
            spare.unlink()
            assert system.status()["running"]
        assert "disk full" in caplog.text
        manifest = (system.session.directory / "manifest.json").read_text()
        assert '"complete": true' in manifest and '"disk_full"' in manifest


def test_headless_refuses_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "config.txt"
    config.write_text("camera_backend = sim\nresolution_preset = 7\nmin_free_space_mb = 10000000\n")
    cmd = main_camera_cmd("--config", str(config), "--mode", "headless", "--output-dir", str(tmp_path / "out"))
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "recording needs at least 10000000 MB (min_free_space_mb)" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list((tmp_path / "out").rglob("*.h264"))


def test_a_low_disk_tells_every_recording_camera_once(small_settings: Callable[..., Settings]) -> None:
    """One camera's recorder finds the disk low (its listener is called, as when it halts itself):
    every camera stopped for it gets its own disk_low event, then one recording_stopped."""
    with CameraSystem(small_settings(resolution_preset=7, sim_cameras=3)) as system:
        events = EventLog(system.events)
        system.start_recording()
        system._on_recording_halted(system.cameras[1], "disk_low", "only 1.0 MB free (stop_free_space_mb 100)")
        (stopped,) = events.wait_for("recording_stopped")
        lows = events.named("disk_low")
        assert sorted(e.data["camera_id"] for e in lows) == [0, 1, 2]  # each camera once
        assert all(e.data["reason"] == "disk_low" and "stop_free_space_mb" in e.data["detail"] for e in lows)
        assert [e.name for e in events.events].index("recording_stopped") > max(
            i for i, e in enumerate(events.events) if e.name == "disk_low"
        )
        assert stopped.data["reason"] == "disk_low" and len(stopped.data["recordings"]) == 3
        assert not system.is_recording
