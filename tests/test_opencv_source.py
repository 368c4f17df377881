"""The OpenCV backend: a generated video file replayed as a camera into a recording that matches
the file frame for frame (frame codes, rows, timestamps, drops at the file's gap); device list
parsing and open errors. USB cameras need hardware and are not tested here."""

from __future__ import annotations

import itertools
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from camera_core.config import Settings
from camera_core.errors import CameraNotFoundError, ConfigError
from camera_core.frames.framecode import draw_code, read_code
from camera_core.recording.timing_log import read_timing_csv
from camera_core.sources.opencv_source import (
    DeviceSpec,
    USBCameraSource,
    VideoFileSource,
    create_opencv_sources,
    parse_devices,
)
from camera_core.sources.sim import boottime_ns
from camera_core.system import CameraSystem
from camera_core.tools.verify import decode_frames, verify_recording

FPS = 25
PERIOD_NS = 1_000_000_000 // FPS


def make_clip(path: Path, slots: list[int], size: tuple[int, int] = (320, 240)) -> Path:
    """An H.264 MP4 at 25 fps whose frames sit at the given pts slots (1/25 s units); each frame
    carries its slot number as frame code, so a missing slot is a gap in the file (VFR)."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        stream.options = {"preset": "ultrafast", "crf": "12"}
        x = np.arange(width, dtype=np.int32)[None, :, None]
        y = np.arange(height, dtype=np.int32)[:, None, None]
        for slot in slots:
            image = ((x * 3 + y * 2 + slot * 8 + np.array([0, 60, 120])) % 256).astype(np.uint8)
            draw_code(image, slot)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = slot
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def file_settings(tmp_path: Path, clip: Path, **changes: object) -> Settings:
    base: dict[str, object] = {
        "camera_backend": "opencv",
        "opencv_devices": str(clip),
        "output_dir": str(tmp_path / "rec"),
        "resolution_preset": 5,  # 640x480: the file's own size must win
        "show_preview": False,
        "log_level": "debug",
    }
    base.update(changes)
    return Settings(**base)  # type: ignore[arg-type]


def test_file_replay_records_every_frame_with_the_files_timing(tmp_path: Path) -> None:
    slots = [s for s in range(61) if s != 30]  # 60 frames, one missing at slot 30
    clip = make_clip(tmp_path / "clip.mp4", slots)
    settings = file_settings(
        tmp_path, clip, opencv_file_realtime=False, auto_start_recording=True, disable_mp4_conversion=False
    )
    with CameraSystem(settings) as system:
        source = system.cameras[0].source
        assert isinstance(source, VideoFileSource)
        assert source.wait_finished(timeout=20), "the replay did not reach the end of the file"
        assert source.read(timeout=0.01) is None  # a finished file delivers nothing more
        (result,) = system.stop_recording()

    assert result.video.startswith("cam0_320x240_25.0fps_") and result.video.endswith(".mp4")
    assert (result.width, result.height, result.fps) == (320, 240, 25.0)
    video = system.session.directory / result.video  # type: ignore[union-attr]
    rows = read_timing_csv(video.with_name(video.stem + "_frame_timing.csv"))
    assert result.frames == len(rows) == len(slots)
    assert result.hardware_drops == 1

    stamps = [int(r["sensor_timestamp_ns"]) for r in rows]
    assert [b - a for a, b in itertools.pairwise(stamps)] == [(b - a) * PERIOD_NS for a, b in itertools.pairwise(slots)]
    expected_drops = [0] + [b - a - 1 for a, b in itertools.pairwise(slots)]
    assert [int(r["dropped_since_last"]) for r in rows] == expected_drops
    assert [int(r["sensor_sequence"]) for r in rows] == list(range(len(slots)))  # the file's frame index

    decoded = decode_frames(video)
    assert [f.code for f in decoded] == slots  # the file's frames, in order, none lost or repeated
    assert [f.pts_us for f in decoded] == [s * PERIOD_NS // 1000 for s in slots]  # MP4 keeps the file's pts
    report = verify_recording(video)
    assert report.ok, report.problems


def test_file_waits_for_the_recording_then_plays_at_its_own_rate(tmp_path: Path) -> None:
    slots = list(range(15))  # 0.56 s from first to last frame at 25 fps
    clip = make_clip(tmp_path / "short.mkv", slots)
    with CameraSystem(file_settings(tmp_path, clip, opencv_file_realtime=True)) as system:
        cam = system.cameras[0]
        source = cam.source
        assert isinstance(source, VideoFileSource)
        version = 0
        while cam.frames_captured < 3:  # the held first frame keeps coming, like a live camera
            version, _ = cam.latest.wait_newer(version, timeout=5)
        assert source.status()["holding"] is True and source.delivered == 0
        assert not source.finished

        system.start_recording()
        started = time.monotonic()
        assert source.wait_finished(timeout=10)
        elapsed = time.monotonic() - started
        (result,) = system.stop_recording()

    assert elapsed >= 0.5, f"15 frames at 25 fps were replayed in {elapsed:.3f} s"
    video = system.session.directory / result.video  # type: ignore[union-attr]
    assert [f.code for f in decode_frames(video)] == slots  # from the first frame, the held copies not recorded
    rows = read_timing_csv(video.with_name(video.stem + "_frame_timing.csv"))
    stamps = [int(r["sensor_timestamp_ns"]) for r in rows]
    assert all(b - a == PERIOD_NS for a, b in itertools.pairwise(stamps))
    assert cam.drops.total == 0  # the hold-to-play switch kept the camera's cadence


def test_missing_file_or_device_is_camera_not_found(tmp_path: Path) -> None:
    for entry in (str(tmp_path / "nope.mp4"), "/dev/video97"):
        settings = file_settings(tmp_path, Path(entry))
        with pytest.raises(CameraNotFoundError, match=entry) as caught:
            CameraSystem(settings).start()
        assert caught.value.code == "CAMERA_NOT_FOUND"

    garbage = tmp_path / "notavideo.mp4"
    garbage.write_text("hello")
    with pytest.raises(CameraNotFoundError, match="cannot be opened as a video"):
        CameraSystem(file_settings(tmp_path, garbage)).start()


def test_device_list_parsing(tmp_path: Path) -> None:
    specs = parse_devices(" 1, /dev/video2 ,clips/a.mp4")
    assert [(s.kind, s.target) for s in specs] == [("index", 1), ("device", "/dev/video2"), ("file", "clips/a.mp4")]
    for text, problem in (
        ("", "is empty"),
        ("0,,1", "entry 2 is empty"),
        ("-1", "entry 1 '-1' is a negative camera index"),
        ("0, /dev/video0, 0", "entry 3 '0' names a camera twice"),
    ):
        with pytest.raises(ConfigError, match="opencv_devices") as caught:
            parse_devices(text)
        assert problem in str(caught.value) and "camera indexes" in str(caught.value)

    clip = make_clip(tmp_path / "c.mp4", [0, 1])
    sources = create_opencv_sources(Settings(camera_backend="opencv", opencv_devices=f"{clip},3"))
    assert [s.camera_id for s in sources] == [0, 1]
    assert isinstance(sources[0], VideoFileSource) and sources[0].paced


def test_live_camera_path_reports_actual_size_and_arrival_timestamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No /dev/video* here: a clip opened through cv2.VideoCapture stands in for the device, so the
    live path (open, requested vs actual size, grab/retrieve, timestamp fallback) still runs."""
    clip = make_clip(tmp_path / "cam.mp4", list(range(10)))
    monkeypatch.setattr(cv2, "CAP_V4L2", cv2.CAP_ANY)  # let OpenCV pick its file backend
    source = USBCameraSource(0, DeviceSpec("device", str(clip), str(clip)), (640, 480), 30.0)
    source.open()
    source.start()
    try:
        info = source.info
        assert (info.width, info.height, info.fps, info.pixel_format) == (320, 240, 25.0, "BGR")
        before = boottime_ns()
        frames = [source.read() for _ in range(5)]
        after = boottime_ns()
    finally:
        source.close()
    assert all(f is not None for f in frames)
    assert [read_code(f.image) for f in frames if f] == [1, 2, 3, 4, 5]  # frame 0 was read by open()
    stamps = [f.sensor_timestamp_ns for f in frames if f]
    assert before <= stamps[0] and stamps == sorted(stamps) and stamps[-1] <= after  # arrival on CLOCK_BOOTTIME
    assert source.status()["timestamp_source"] == "arrival (CLOCK_BOOTTIME)"
