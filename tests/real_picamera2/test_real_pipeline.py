"""The recording pipeline on the real picamera2 (PyPI, unmodified) and libcamera's virtual cameras:
segments split at keyframes with MP4, the pre-trigger buffer through slave mode, overflow counting
and a camera restart. Every file is checked by decoding it (frames = rows, MP4 pts, burned-in
numbers). Run with the kit (see ../shared/virtual-cameras/README.md):

    CAMERA_CORE_REAL_PICAMERA2=1 PC2_KIT=... run_real.sh uv run --no-sync pytest tests/real_picamera2/test_real_pipeline.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from camera_core.config import Settings
from camera_core.frames.overlay import burn_frame_number, frame_number_box
from camera_core.recording.factory import overlay_style
from camera_core.recording.segment import SegmentWriter
from camera_core.recording.timing_log import read_timing_csv
from camera_core.system import CameraSystem
from camera_core.tools.verify import verify_recording
from tests.slave_support import RawSlave
from tests.unattended_support import EventLog

ROOT = Path(__file__).resolve().parents[2]
REAL = ["--backend", "picamera2", "--resolution", "5", "--target-fps", "30", "--log-level", "debug"]


def main_camera(config: Path, *args: str) -> list[str]:
    """main_camera.py ARGS with the tier's config (the fixture patient_config, see conftest.py)."""
    return [sys.executable, str(ROOT / "main_camera.py"), "--config", str(config), *args]


def burned_error(plane: np.ndarray, number: int, settings: Settings) -> float:
    style = overlay_style(settings)
    expected = np.full_like(plane, 128)
    burn_frame_number(expected, number, style)
    x0, y0, x1, y1 = frame_number_box(plane.shape[1], style)
    box = (slice(y0, y1), slice(x0, x1))
    return float(np.mean(np.abs(plane[box].astype(np.int16) - expected[box].astype(np.int16))))


def check_file(video: Path, burned_first: int = 0) -> list[dict[str, str]]:
    """Decodes to exactly its rows (MP4 pts = pts_us), starts at a keyframe, and frame i carries
    the burned-in number burned_first + i (checked at the first, a middle and the last frame)."""
    report = verify_recording(video, check_codes=False)
    assert report.ok and report.frames > 0, (video.name, report.problems)
    fmt = "h264" if video.suffix == ".h264" else None
    with av.open(str(video), format=fmt) as container:
        packets = [p for p in container.demux(video=0) if p.size]
        assert packets[0].is_keyframe, f"{video.name} does not begin with a keyframe"
    with av.open(str(video), format=fmt) as container:
        lumas = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    settings = Settings()
    for i in (0, len(lumas) // 2, len(lumas) - 1):
        error = burned_error(lumas[i], burned_first + i, settings)
        assert error < 20 and error < burned_error(lumas[i], burned_first + i + 1, settings), (video.name, i)
    return read_timing_csv(video.with_name(video.stem + "_frame_timing.csv"))


def test_segments_split_at_keyframes_with_mp4(tmp_path: Path, patient_config: Path) -> None:
    args = ["--mode", "headless", *REAL, "--duration", "4", "--segment-seconds", "1", "--mp4"]
    done = subprocess.run(
        main_camera(patient_config, *args, "--output-dir", str(tmp_path)), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    (session,) = tmp_path.glob("session_*")
    manifest = json.loads((session / "manifest.json").read_text())
    assert len(manifest["recordings"]) == 2
    for rec in manifest["recordings"]:
        segments = rec["segments"]
        assert len(segments) >= 3 and rec["encoder_overflows"] == 0 and not rec["errors"]
        assert [s["split_reason"] for s in segments] == ["start"] + ["time"] * (len(segments) - 1)
        for seg in segments:
            assert seg["video"].endswith(".mp4") and f"_seg{seg['index']:04d}" in seg["video"]
            rows = check_file(session / seg["video"])
            span_s = (int(rows[-1]["sensor_timestamp_ns"]) - int(rows[0]["sensor_timestamp_ns"])) / 1e9
            lost_s = sum(int(r["dropped_since_last"]) * float(r["frame_duration_us"]) / 1e6 for r in rows[1:])
            # The split lands on the keyframe at the segment's length; keyframes come every 30 encoded
            # frames, so frames the camera lost (a loaded machine) lengthen a segment by their time.
            assert span_s - lost_s < 1.0, (seg["video"], span_s, lost_s)
        files = ", ".join(s["video"] for s in segments)
        assert f"cam{rec['camera_id']}: {rec['frames']} frames, {rec['hardware_drops']} drops -> {files}" in done.stderr


def test_pretrigger_begins_two_seconds_before_start_recording(tmp_path: Path, patient_config: Path) -> None:
    args = ["--mode", "slave", *REAL, "--no-mp4", "--pretrigger-seconds", "2", "--output-dir", str(tmp_path)]
    with RawSlave(main_camera(patient_config, *args)) as slave:
        deadline = time.monotonic() + 30
        while True:  # each reply is a round trip: the buffers fill meanwhile
            cams = slave.request("get_status")["data"]["cameras"]
            if all(c["pretrigger_seconds_held"] >= 2.0 for c in cams):
                break
            assert time.monotonic() < deadline, cams
        assert all(c["pretrigger_bytes"] > 0 and c["pretrigger_frames"] >= 55 for c in cams)
        command_ns = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        assert slave.request("start_recording")["status"] == "recording_started"
        while min(c["frames_recorded"] for c in slave.request("get_status")["data"]["cameras"]) < 90:
            assert time.monotonic() < deadline + 30
        stopped = slave.request("stop_recording")
        assert stopped["status"] == "recording_stopped"
        assert slave.request("quit")["status"] == "shutdown"
        assert slave.close() == 0
    (session,) = tmp_path.glob("session_*")
    for rec in stopped["data"]["recordings"]:
        assert rec["pretrigger_s"] >= 1.9 and not rec["errors"]
        (seg,) = rec["segments"]
        rows = check_file(session / seg["video"], seg.get("burned_number_first", 0))
        assert int(rows[0]["sensor_timestamp_ns"]) <= command_ns - 1.9e9
        assert [int(r["frame_number"]) for r in rows] == list(range(len(rows)))


def real_settings(tmp_path: Path, **changes: Any) -> Settings:
    base: dict[str, Any] = {
        "camera_backend": "picamera2",
        "resolution_preset": 5,
        "target_fps": 30.0,
        "output_dir": str(tmp_path),
        "show_preview": False,
        "log_level": "debug",
        "camera_timeout_s": 10.0,  # as conftest.PATIENT_CAMERA_TIMEOUT_S: no restart for a loaded machine
    }
    return Settings(**(base | changes))


def wait_recorded(system: CameraSystem, camera_id: int, frames: int) -> None:
    cam = system.cameras[camera_id]
    version = 0
    while int(cam.recorder.stats()["frames_recorded"]) < frames:
        version, frame = cam.latest.wait_newer(version, 5.0)
        assert frame is not None


def test_overflows_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    original = SegmentWriter.write

    def slow_write(self: SegmentWriter, frame: Any) -> None:
        gate.wait(10)
        original(self, frame)

    monkeypatch.setattr(SegmentWriter, "write", slow_write)
    with CameraSystem(real_settings(tmp_path, encoder_queue_frames=4)) as system:
        system.start_recording(camera_id=0)
        cam = system.cameras[0]
        version = 0
        while int(cam.recorder.stats()["encoder_overflows"]) < 10:
            version, frame = cam.latest.wait_newer(version, 5.0)
            assert frame is not None
        gate.set()
        wait_recorded(system, 0, 30)
        (result,) = system.stop_recording(0)
        folder = system.session.directory if system.session else tmp_path
    assert result.encoder_overflows >= 10
    report = verify_recording(folder / result.video, check_codes=False)
    assert report.ok, report.problems
    assert report.drops_reported >= result.encoder_overflows - 4  # the gaps in the file are counted


def test_camera_restart_continues_in_a_new_file(tmp_path: Path) -> None:
    settings = real_settings(tmp_path, camera_timeout_s=0.5, h264_keyframe_interval=10)
    with CameraSystem(settings) as system:
        events = EventLog(system.events)
        system.start_recording(camera_id=0)
        wait_recorded(system, 0, 20)
        system.cameras[0].source.stop()  # the camera delivers nothing: lost, then restarted
        events.wait_for("camera_lost")
        events.wait_for("camera_recovered")
        before = int(system.cameras[0].recorder.stats()["frames_recorded"])
        wait_recorded(system, 0, before + 30)
        (result,) = system.stop_recording(0)
        folder = system.session.directory if system.session else tmp_path
    assert [s.split_reason for s in result.segments] == ["start", "camera_restart"]
    assert [s.video for s in result.segments] == [f"{result.basename}_seg{i:04d}.h264" for i in (1, 2)]
    first, second = (check_file(folder / s.video) for s in result.segments)
    gap_ns = int(second[0]["sensor_timestamp_ns"]) - int(first[-1]["sensor_timestamp_ns"])
    missed = round(gap_ns / (float(second[0]["frame_duration_us"]) * 1000)) - 1
    assert missed > 0 and int(second[0]["dropped_since_last"]) == missed  # the outage counts as drops


def test_sigkill_then_recover(tmp_path: Path, patient_config: Path) -> None:
    args = ["--mode", "headless", *REAL, "--segment-seconds", "1", "--output-dir", str(tmp_path)]
    proc = subprocess.Popen(main_camera(patient_config, *args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("session_*/cam1_*_seg0003.h264")):  # two files finished, a third begun
            assert proc.poll() is None and time.monotonic() < deadline, "no third file"
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    (session,) = tmp_path.glob("session_*")
    assert json.loads((session / "manifest.json").read_text())["complete"] is False
    done = subprocess.run(
        [sys.executable, "-m", "camera_core", "recover", str(session)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((session / "manifest.json").read_text())
    assert manifest["complete"] is True and len(manifest["recordings"]) == 2
    for rec in manifest["recordings"]:
        assert len(rec["segments"]) >= 3
        for seg in rec["segments"]:
            rows = check_file(session / seg["video"])
            assert seg["frames"] == len(rows)
