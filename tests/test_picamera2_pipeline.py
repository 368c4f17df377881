"""The recording pipeline on the picamera2 path (picamera2's own H264Encoder, through the fake, on
the Pi 4 and Pi 5 platforms): segments split at keyframes, MP4, overflow counting, the pre-trigger
buffer and a camera restart work as on the PyAV path."""

from __future__ import annotations

import json
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import pytest

from camera_core.recording.segment import SegmentWriter
from camera_core.system import CameraSystem
from camera_core.tools.verify import decode_frames, verify_recording
from tests.test_picamera2_backend import burned_number_error, fake, luma_frames, settings_for, wait_recorded
from tests.unattended_support import EventLog, rows_of, small_tmpfs

__all__ = ["fake"]  # the fixture, used by name


def burned_numbers_match(video: Path, first: int, settings: object) -> None:
    """The number burned into frame i is first + i (checked at the first, a middle and the last frame)."""
    lumas = luma_frames(video)
    for i in (0, len(lumas) // 2, len(lumas) - 1):
        error = burned_number_error(lumas[i], first + i, settings)  # type: ignore[arg-type]
        assert error < 20 and error < burned_number_error(lumas[i], first + i + 1, settings)  # type: ignore[arg-type]


def test_segments_split_at_keyframes_with_mp4(fake: ModuleType, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, segment_seconds=0.25, target_fps=60.0, h264_keyframe_interval=10)
    with CameraSystem(settings) as system:
        encoder = None
        (started, _) = system.start_recording()
        wait_recorded(system, 70)
        for cam in system.cameras:
            encoder = cam.recorder.stage._encoder  # type: ignore[attr-defined]
            assert isinstance(encoder.framerate, Fraction)  # PyAV's add_stream takes no float
        results = system.stop_recording()
        folder = system.session.directory if system.session else tmp_path
    assert started["video"].endswith("_seg0001.h264")
    for result in results:
        segments = result.segments
        assert len(segments) >= 3
        assert [s.split_reason for s in segments] == ["start"] + ["time"] * (len(segments) - 1)
        assert [s.video for s in segments] == [f"{result.basename}_seg{i:04d}.mp4" for i in range(1, len(segments) + 1)]
        codes: list[int] = []
        for seg in segments:
            video = folder / seg.video
            report = verify_recording(video, folder / str(seg.timing_csv))  # frames = rows, codes, mp4 pts
            assert report.ok, report.problems
            rows = rows_of(folder / str(seg.timing_csv))
            assert int(rows[0]["pts_us"]) == 0 and seg.frames == len(rows)
            span_s = (int(rows[-1]["sensor_timestamp_ns"]) - int(rows[0]["sensor_timestamp_ns"])) / 1e9
            # the V4L2 encoder (vc4) makes the frame that reaches the length a keyframe; picamera2's
            # libx264 encoder (pisp) cannot be forced: the file ends at its next keyframe
            late = 10 if sys.modules["picamera2.platform"].get_platform().name == "PISP" else 1
            assert span_s < 0.25 + (late + 1) / 60
            burned_numbers_match(video, 0, settings)  # numbers restart at 0 in each file
            file_codes = [f.code for f in decode_frames(video)]
            if codes:  # nothing lost or repeated across the boundary
                assert file_codes[0] - codes[-1] == 1 + int(rows[0]["dropped_since_last"])
            codes += file_codes
        assert result.frames == len(codes) == sum(s.frames for s in segments)
        assert result.encoder_overflows == 0


def test_overflows_are_counted_and_the_files_stay_whole(
    fake: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that cannot keep up: frames find the queue full and are not recorded, counted."""
    gate = threading.Event()
    original = SegmentWriter.write

    def slow_write(self: SegmentWriter, frame: object) -> None:
        gate.wait(10)  # held until the test has seen overflows
        original(self, frame)  # type: ignore[arg-type]

    monkeypatch.setattr(SegmentWriter, "write", slow_write)
    settings = settings_for(tmp_path, encoder_queue_frames=4, disable_mp4_conversion=True)
    with CameraSystem(settings) as system:
        system.start_recording(camera_id=0)
        cam = system.cameras[0]
        version = 0
        while int(cam.recorder.stats()["encoder_overflows"]) < 10:
            version, frame = cam.latest.wait_newer(version, 5.0)
            assert frame is not None
        assert int(cam.recorder.stats()["encoder_queue"]) <= 4 + 1  # bounded (+ an end marker at most)
        gate.set()
        wait_recorded_one(system, 0, 30)
        status_overflows = int(cam.recorder.stats()["encoder_overflows"])
        (result,) = system.stop_recording(0)
        folder = system.session.directory if system.session else tmp_path
    assert result.encoder_overflows >= status_overflows >= 10
    report = verify_recording(folder / result.video)
    assert report.ok, report.problems
    # frames not recorded show as gaps in the sensor timestamps, counted where they happened
    assert report.drops_reported >= result.encoder_overflows - 4
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["recordings"][0]["encoder_overflows"] == result.encoder_overflows


def wait_recorded_one(system: CameraSystem, camera_id: int, frames: int) -> None:
    cam = system.cameras[camera_id]
    version = 0
    while int(cam.recorder.stats()["frames_recorded"]) < frames:
        version, frame = cam.latest.wait_newer(version, 5.0)
        assert frame is not None


def test_pretrigger_starts_the_take_before_the_command(fake: ModuleType, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, pretrigger_seconds=0.5, target_fps=60.0)
    with CameraSystem(settings) as system:
        for cam in system.cameras:
            version = 0
            while float(cam.recorder.stats()["pretrigger_seconds_held"]) < 0.5:  # the buffers fill
                version, frame = cam.latest.wait_newer(version, 5.0)
                assert frame is not None
        status = system.status()["cameras"][0]
        assert status["pretrigger_bytes"] > 0 and status["pretrigger_frames"] >= 10
        command_ns = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        system.start_recording()
        wait_recorded(system, 60)
        results = system.stop_recording()
        folder = system.session.directory if system.session else tmp_path
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(results) == 2  # both cameras
    for result, entry in zip(results, manifest["recordings"], strict=True):
        video = folder / result.video
        report = verify_recording(video, folder / str(result.timing_csv))
        assert report.ok, report.problems
        rows = rows_of(folder / str(result.timing_csv))
        assert int(rows[0]["sensor_timestamp_ns"]) <= command_ns - 0.45e9
        assert [int(r["frame_number"]) for r in rows] == list(range(len(rows)))
        first = result.segments[0].burned_number_first or 0
        assert entry["segments"][0].get("burned_number_first", 0) == first
        burned_numbers_match(video, first, settings)  # the running count: burned = frame_number + first
        assert result.pretrigger_s >= 0.45


def test_camera_restart_continues_in_a_new_file_from_a_keyframe(fake: ModuleType, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, camera_timeout_s=0.3, disable_mp4_conversion=True, h264_keyframe_interval=10)
    with CameraSystem(settings) as system:
        events = EventLog(system.events)
        system.start_recording(camera_id=0)
        wait_recorded_one(system, 0, 20)
        fake.stall_camera(0)
        events.wait_for("camera_lost")
        fake.resume_camera(0)
        events.wait_for("camera_recovered")
        cam = system.cameras[0]
        before = int(cam.recorder.stats()["frames_recorded"])
        wait_recorded_one(system, 0, before + 20)
        (result,) = system.stop_recording(0)
        folder = system.session.directory if system.session else tmp_path
    assert [s.split_reason for s in result.segments] == ["start", "camera_restart"]
    assert [s.video for s in result.segments] == [f"{result.basename}_seg{i:04d}.h264" for i in (1, 2)]
    for seg in result.segments:
        report = verify_recording(folder / seg.video, folder / str(seg.timing_csv))
        assert report.ok, report.problems
        burned_numbers_match(folder / seg.video, 0, settings)
    rows0, rows1 = (rows_of(folder / str(s.timing_csv)) for s in result.segments)
    gap_ns = int(rows1[0]["sensor_timestamp_ns"]) - int(rows0[-1]["sensor_timestamp_ns"])
    missed = round(gap_ns / (float(rows1[0]["frame_duration_us"]) * 1000)) - 1
    assert missed > 0 and int(rows1[0]["dropped_since_last"]) == missed  # the outage counts as drops
    assert result.hardware_drops >= missed


def test_disk_floor_stops_the_take_cleanly(fake: ModuleType, tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "4m") as disk:
        settings = settings_for(
            tmp_path, output_dir=str(disk), min_free_space_mb=0, stop_free_space_mb=3.6, disable_mp4_conversion=True
        )
        with CameraSystem(settings) as system:
            events = EventLog(system.events)
            system.start_recording()
            (stopped,) = events.wait_for("recording_stopped")
            assert stopped.data["reason"] == "disk_low" and not system.is_recording
            assert system.status()["last_stop"]["reason"] == "disk_low"
            folder = system.session.directory if system.session else disk
            for result in system.recordings:
                assert result.stop_reason == "disk_low"
                report = verify_recording(folder / result.video)
                assert report.ok and report.frames == result.frames > 0, report.problems
