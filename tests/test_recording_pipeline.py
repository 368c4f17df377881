"""The recording pipeline on the PyAV path (sim cameras): the pre-trigger buffer, a full disk at the
last flush, the output folder deleted mid-take, the encoder delay at low frame rates, and no
per-frame list kept for a whole file."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from camera_core.config import Settings
from camera_core.errors import InvalidArgumentError
from camera_core.frames.frame import Frame
from camera_core.recording.encoders import PyAVStage
from camera_core.recording.frames import EncodedFrame, FrameMeta
from camera_core.recording.libx264 import H264Params
from camera_core.recording.results import RecordingResult
from camera_core.recording.segment import SegmentFiles, SegmentWriter
from camera_core.recording.take import RecordingTarget, Take
from camera_core.system import CameraSystem
from camera_core.tools.verify import verify_recording
from tests.conftest import ROOT, main_camera_cmd, wait_for_frames
from tests.unattended_support import EventLog, rows_of, small_tmpfs


def wait_buffer(system: CameraSystem, seconds: float) -> None:
    """Until every camera's pre-trigger buffer holds `seconds` (woken by each frame)."""
    for cam in system.cameras:
        version = 0
        while float(cam.recorder.stats()["pretrigger_seconds_held"]) < seconds:
            version, frame = cam.latest.wait_newer(version, 5.0)
            assert frame is not None


@pytest.mark.parametrize("encoder_process", [False, True], ids=["in_recorder", "worker_process"])
def test_pretrigger_take_begins_two_seconds_before_the_command(
    small_settings: Callable[..., Settings], encoder_process: bool
) -> None:
    settings = small_settings(
        sim_cameras=2, resolution_preset=7, sim_realtime=True, pretrigger_seconds=2.0, encoder_process=encoder_process
    )
    with CameraSystem(settings) as system:
        wait_buffer(system, 2.0)
        status = system.status()["cameras"]
        assert all(c["pretrigger_bytes"] > 0 and c["pretrigger_frames"] >= 55 for c in status)
        assert all(c["pretrigger_seconds"] == 2.0 and c["pretrigger_seconds_held"] >= 2.0 for c in status)
        command_ns = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        system.start_recording()
        wait_for_frames(system, 10)
        results = system.stop_recording()
        # a second take in the same run begins with a refilled buffer, and a take may ask for less
        wait_buffer(system, 1.0)
        command2_ns = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        system.start_recording(camera_id=0, pretrigger_seconds=0.5)
        wait_for_frames(system, 10)
        (second,) = system.stop_recording(camera_id=0)
        with pytest.raises(InvalidArgumentError, match="from 0 to 2"):
            system.start_recording(pretrigger_seconds=5)
        assert system.session is not None
        folder = system.session.directory
    manifest = json.loads((folder / "manifest.json").read_text())
    for result in results:
        video = folder / result.video
        report = verify_recording(video)  # frames = rows, frame codes step by 1 + drops
        assert report.ok, report.problems
        rows = rows_of(folder / str(result.timing_csv))
        assert int(rows[0]["sensor_timestamp_ns"]) <= command_ns - 1.9e9
        assert [int(r["frame_number"]) for r in rows] == list(range(len(rows)))
        assert result.pretrigger_s >= 1.9
    entry = next(e for e in manifest["recordings"] if e["video"] == results[0].video)
    assert entry["pretrigger_s"] >= 1.9
    # the number burned into each file's first frame is the encoder's running count (left out when 0);
    # the second take's first frame comes long after the encoder's first frame
    assert entry["segments"][0].get("burned_number_first", 0) == (results[0].segments[0].burned_number_first or 0)
    assert (second.segments[0].burned_number_first or 0) > 0
    rows = rows_of(folder / str(second.timing_csv))
    first_ns = int(rows[0]["sensor_timestamp_ns"])
    assert command2_ns - 1.6e9 <= first_ns <= command2_ns - 0.45e9  # 0.5 s, from a keyframe (1 s GOPs)
    assert verify_recording(folder / second.video).ok


def test_pretrigger_argument_needs_the_buffer(small_settings: Callable[..., Settings]) -> None:
    with CameraSystem(small_settings(sim_cameras=1, resolution_preset=7)) as system:
        with pytest.raises(InvalidArgumentError, match="pre-trigger buffer is off"):
            system.start_recording(pretrigger_seconds=1)
        assert not system.is_recording


def test_disk_full_at_the_last_flush_ends_the_take(
    small_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while the encoder's last frames are written at stop: the take ends (no second end
    marker is awaited), stop returns, the file holds every frame written before."""
    original = PyAVStage.flush

    def full_flush(self: PyAVStage) -> Iterator[object]:
        if self._ctx is not None:
            raise OSError(errno.ENOSPC, "No space left on device")
        yield from original(self)

    settings = small_settings(sim_cameras=2, resolution_preset=7)
    with CameraSystem(settings) as system:
        system.start_recording()
        wait_for_frames(system, 20)
        monkeypatch.setattr(PyAVStage, "flush", full_flush)
        done: list[object] = []
        stopper = threading.Thread(target=lambda: done.append(system.stop_recording()), daemon=True)
        stopper.start()
        stopper.join(timeout=30)
        assert done, "stop_recording hung"
        monkeypatch.setattr(PyAVStage, "flush", original)
        assert not system.is_recording
        system.start_recording()  # the cameras record again
        wait_for_frames(system, 5)
        system.stop_recording()
        assert system.session is not None
        folder = system.session.directory
    (results,) = done
    for result in results:  # type: ignore[attr-defined]
        assert result.stop_reason == "disk_full"
        report = verify_recording(folder / result.video)
        assert report.ok and report.frames == result.frames > 0, report.problems


def test_output_folder_deleted_stops_the_take_and_says_so(small_settings: Callable[..., Settings]) -> None:
    settings = small_settings(sim_cameras=1, resolution_preset=7, sim_realtime=True)
    system = CameraSystem(settings)
    with system:
        events = EventLog(system.events)
        system.start_recording()
        wait_for_frames(system, 5)
        assert system.session is not None
        shutil.rmtree(system.session.directory)
        (error,) = events.wait_for("recording_error")
        assert error.data["reason"] == "output_missing" and "deleted" in str(error.data["detail"])
        (stopped,) = events.wait_for("recording_stopped")
        assert stopped.data["reason"] == "output_missing"
        status = system.status()
        assert not status["recording"] and status["last_stop"]["reason"] == "output_missing"
        assert status["cameras"][0]["recording_halted"] == "output_missing"
        (result,) = system.recordings
        assert result.stop_reason == "output_missing" and result.frames > 0
        assert any("deleted" in e for e in result.errors)
        system.start_recording()  # recording works again in the folder made again
        wait_for_frames(system, 3)
    manifest = json.loads((system.session.directory / "manifest.json").read_text())
    assert manifest["complete"] and [r["stop_reason"] for r in manifest["recordings"]] == [
        "output_missing",
        "requested",
    ]
    log_text = (system.session.directory / "session.log").read_text()
    assert "was deleted while recording" in log_text and "session finished" in log_text


def test_low_frame_rates_keep_no_frame_inside_the_encoder() -> None:
    """At 2 fps every frame comes out of libx264 at once (its row with it), so a crash loses no
    more than the frame being encoded; at 30 fps frame threads may hold a few (≤ 0.5 s)."""
    image = np.random.default_rng(1).integers(0, 255, (1088 * 3 // 2, 1456), dtype=np.uint8)
    for fps, most_held in ((2.0, 0), (30.0, 15)):
        stage = PyAVStage(H264Params(1456, 1088, fps))
        out = 0
        for i in range(6):
            frame = Frame(0, image, "I420", i * int(1e9 / fps), 1e6 / fps)
            meta = FrameMeta(i, frame.sensor_timestamp_ns, frame.frame_duration_us, 0, i)
            out += len(list(stage.encode(frame, meta)))
            assert i + 1 - out <= most_held
        assert out + len(list(stage.flush())) == 6


def test_no_per_frame_list_is_kept_when_the_csv_holds_the_times(tmp_path: Path) -> None:
    writer = SegmentWriter(SegmentFiles(tmp_path, "a", True), 1, "start", 30.0)
    assert writer.summary.pts_us is None  # the MP4 remux reads them back from the CSV
    writer.finish()
    writer = SegmentWriter(SegmentFiles(tmp_path, "b", False), 1, "start", 30.0)
    assert writer.summary.pts_us is not None and writer.summary.pts_us.itemsize == 8  # compact, no CSV
    writer.finish()


def test_headless_summary_names_every_file(tmp_path: Path) -> None:
    cmd = main_camera_cmd(
        "--mode", "headless", "--backend", "sim", "--resolution", "7", "--duration", "1.6",
        "--segment-seconds", "0.5", "--output-dir", str(tmp_path), "--no-preview",
    )  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (session,) = tmp_path.glob("session_*")
    for cam in (0, 1):
        (line,) = [x for x in done.stderr.splitlines() if x.startswith(f"cam{cam}: ")]
        files = sorted(p.name for p in session.glob(f"cam{cam}_*.h264"))
        assert len(files) >= 3 and line.endswith(" -> " + ", ".join(files))


def test_a_disk_that_fills_ends_the_process_with_whole_files(tmp_path: Path) -> None:
    """Three unpaced cameras fill a real 3 MB tmpfs with no free-space floor: every take ends on
    ENOSPC (during the take or at its last flush), and the process still ends at --duration."""
    config = tmp_path / "config.txt"
    config.write_text("stop_free_space_mb = 0\nmin_free_space_mb = 0\nsim_cameras = 3\nsim_realtime = false\n")
    with small_tmpfs(tmp_path / "disk") as disk:
        cmd = main_camera_cmd(
            "--config", str(config), "--mode", "headless", "--backend", "sim", "--resolution", "7",
            "--duration", "4", "--output-dir", str(disk), "--no-preview",
        )  # fmt: skip
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=90)
        (session,) = disk.glob("session_*")
        videos = sorted(session.glob("*.h264"))
        assert len(videos) == 3
        for video in videos:
            report = verify_recording(video)
            assert report.ok and report.frames > 0, (video.name, report.problems)
    assert done.returncode == 1, done.stderr  # the takes ended early: exit 1 (errors recorded)
    assert done.stderr.count(" frames, ") == 3


def test_a_file_begins_at_a_keyframe(tmp_path: Path) -> None:
    """Frames before the first keyframe are never written (the file would not decode), and counted."""
    take = Take(0, RecordingTarget(tmp_path, "t"), RecordingResult(0, "t"), 30.0)

    def frame(number: int, keyframe: bool) -> EncodedFrame:
        return EncodedFrame(
            b"\x00\x00\x01" + bytes([number]), keyframe, FrameMeta(number, number, 33333.0, 0, None, take)
        )

    take.begin([], 0)
    for encoded in (frame(7, False), frame(0, True), frame(1, False)):
        take.write(encoded)
    take.finish()
    result = take.close()
    assert result.frames == 2 and (tmp_path / "t.h264").read_bytes() == b"\x00\x00\x01\x00\x00\x00\x01\x01"
    assert result.errors == ["1 frames were not recorded while waiting for a keyframe"]
