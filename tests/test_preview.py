"""The preview package: the renderer (scaling, overlays in I420, ranges), feeds that take the
newest frame and count the rest, the null preview, the slave's JPEG lines, and the preview a mode
picks."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import simplejpeg

from camera_core.commands.preview import preview_line
from camera_core.config import Settings
from camera_core.frames.frame import Frame, YuvEncoding
from camera_core.frames.framecode import code_region, read_code
from camera_core.frames.overlay import InfoOverlay, OverlayStyle, draw_info_lines
from camera_core.pipeline.latest import LatestSlot
from camera_core.preview import NullPreview, Preview, PreviewEnd, PreviewFeed, PreviewRenderer, RenderedPreview
from camera_core.sources.sim import SimSource
from camera_core.system import CameraSystem

ROOT = Path(__file__).resolve().parents[1]
STYLE = OverlayStyle()
LINES = InfoOverlay(("cam0 2026-12-01 05:00:00.000", "FPS  30.0 / HW  30.0"), recording=False)


def i420(width: int, height: int, y: int, u: int = 128, v: int = 128) -> np.ndarray:
    image = np.empty((height * 3 // 2, width), np.uint8)
    image[:height] = y
    flat = image.reshape(-1)
    q = (height // 2) * (width // 2)
    flat[height * width : height * width + q] = u
    flat[height * width + q :] = v
    return image


def red(image: np.ndarray) -> np.ndarray:
    return (image[:, :, 2] > 200) & (image[:, :, 1] < 60) & (image[:, :, 0] < 60)


@dataclass
class Collecting(Preview):
    """A preview that keeps what it is shown; `accepting` False makes it busy."""

    full_range: bool = False
    accepting: bool = True
    shown: list[RenderedPreview] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def ready(self, camera_id: int) -> bool:
        return self.accepting

    def show(self, preview: RenderedPreview) -> None:
        with self.changed:
            self.shown.append(preview)
            self.changed.notify_all()


@dataclass
class FakeCamera:
    camera_id: int = 0
    target_fps: float = 1000.0  # no rate cap in these tests
    preview_size: tuple[int, int] = (64, 48)
    style: OverlayStyle = STYLE
    latest: LatestSlot[Frame] = field(default_factory=LatestSlot)
    overlays: int = 0

    def preview_overlay(self, frame: Frame) -> InfoOverlay:
        self.overlays += 1
        return LINES

    def put(self, n: int) -> None:
        for i in range(n):
            self.latest.put(Frame(self.camera_id, i420(64, 48, 100 + i), "I420", i, 33_333.0))


def test_a_feed_shows_only_the_newest_frame_and_counts_the_ones_it_passed_over() -> None:
    camera, preview = FakeCamera(), Collecting()
    feed = PreviewFeed(camera, preview)
    assert feed.poll() is None  # nothing captured yet
    camera.put(5)
    shown = feed.poll()
    assert shown is not None and preview.shown == [shown]
    assert shown.frame_number == 4  # the fifth frame (versions count from 1, frame numbers from 0)
    assert (feed.counts.shown, feed.counts.skipped) == (1, 4)
    assert feed.poll() is None  # no newer frame: nothing rendered again
    preview.accepting = False  # a busy preview: the frame is passed over without rendering
    camera.put(1)
    renders = camera.overlays
    assert feed.poll() is None and camera.overlays == renders
    assert (feed.counts.shown, feed.counts.skipped) == (1, 5)


def test_the_null_preview_renders_nothing_and_runs_nothing() -> None:
    camera, preview = FakeCamera(), NullPreview()
    feed = PreviewFeed(camera, preview)
    camera.put(3)
    assert feed.poll() is None and camera.overlays == 0
    assert preview.run(lambda: False) is PreviewEnd.NONE  # returns at once, never waits for a stop


def shown_at_least(preview: Collecting, n: int) -> bool:
    return len(preview.shown) >= n


def test_a_feed_thread_streams_frames_until_stopped() -> None:
    camera, preview = FakeCamera(), Collecting()
    feed = PreviewFeed(camera, preview).start()
    try:
        for n in range(1, 4):
            camera.put(1)
            with preview.changed:
                assert preview.changed.wait_for(partial(shown_at_least, preview, n), 10), preview.shown
    finally:
        feed.stop()
    count = len(preview.shown)
    camera.put(2)
    assert len(preview.shown) == count  # stopped: nothing more is shown


def test_preview_lines_are_jpeg_in_full_range_with_the_text_readable() -> None:
    # Video-range black (16) and white (235) halves: the JPEG must show 0 and 255, not grey.
    image = i420(320, 240, 16)
    image[:240, :160] = 235
    frame = Frame(3, image, "I420", 7_000, 33_333.0)
    rendered = PreviewRenderer((320, 240), STYLE, full_range=True).render(frame, 41, LINES)
    line = preview_line(rendered, 90)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    message = json.loads(line)
    assert message["type"] == "status" and message["status"] == "preview_frame"
    data = message["data"]
    assert (data["camera_id"], data["frame_number"], data["sensor_timestamp_ns"]) == (3, 41, 7_000)
    assert (data["width"], data["height"], data["format"]) == (320, 240, "jpeg")
    decoded = simplejpeg.decode_jpeg(base64.b64decode(data["jpeg_base64"]), colorspace="BGR")
    assert decoded.shape == (240, 320, 3)
    assert decoded[200, 280].max() <= 3 and decoded[200, 40].min() >= 252
    # The info line is white text on a darkened band, readable over the white half.
    band = decoded[2:20, 2:150]
    assert band.min() < 80 and band.max() > 230


def test_bgr_windows_get_video_range_converted_once() -> None:
    image = i420(64, 48, 235, 128, 240)  # limited-range pure-ish red-white? (high Cr)
    frame = Frame(0, image, "I420", 0, 33_333.0)
    window = PreviewRenderer((64, 48), STYLE, full_range=False).render(frame, 0, InfoOverlay((), False))
    stream = PreviewRenderer((64, 48), STYLE, full_range=True).render(frame, 0, InfoOverlay((), False))
    expected = cv2.cvtColor(image, cv2.COLOR_YUV2BGR_I420)
    assert np.abs(window.bgr().astype(int) - expected).max() <= 1
    assert np.abs(stream.bgr().astype(int) - expected).max() <= 3  # full range converted back for a window


def test_the_lores_stream_is_used_when_the_camera_gives_one() -> None:
    main = i420(1456, 1088, 30)
    lores = i420(320, 240, 200)
    frame = Frame(0, main, "I420", 0, 33_333.0, lores=lores)
    rendered = PreviewRenderer((320, 240), STYLE, full_range=False).render(frame, 0, InfoOverlay((), False))
    assert rendered.yuv[120, 200] == 200 and rendered.yuv is not lores  # a copy: lores stays untouched
    assert lores[5:20, 5:200].min() == 200


def test_full_range_sources_are_not_converted_twice() -> None:
    frame = Frame(0, i420(64, 48, 0), "I420", 0, 33_333.0, yuv=YuvEncoding("bt601", full_range=True))
    rendered = PreviewRenderer((64, 48), STYLE, full_range=True).render(frame, 0, InfoOverlay((), False))
    assert rendered.yuv[30, 30] == 0  # a video-range table would have made it 0 as well, so check white
    frame = Frame(0, i420(64, 48, 255), "I420", 0, 33_333.0, yuv=YuvEncoding("bt601", full_range=True))
    rendered = PreviewRenderer((64, 48), STYLE, full_range=True).render(frame, 0, InfoOverlay((), False))
    assert rendered.yuv[30, 30] == 255
    frame = Frame(0, i420(64, 48, 128), "I420", 0, 33_333.0, yuv=YuvEncoding("bt601", full_range=True))
    rendered = PreviewRenderer((64, 48), STYLE, full_range=True).render(frame, 0, InfoOverlay((), False))
    assert rendered.yuv[30, 30] == 128  # video range would have stretched mid-grey to 130


def test_info_lines_read_on_a_bright_scene() -> None:
    image = np.full((240, 320, 3), 255, np.uint8)
    draw_info_lines(image, ["cam0 12:00:00"], STYLE)
    band = image[6:16, 4:63]  # where the first line is written at 320 px wide
    assert (band < 80).mean() > 0.5  # mostly the dark band ...
    assert (band > 200).any()  # ... with the white text on it


def test_preview_of_a_recording_camera_keeps_the_frame_code_readable(small_settings: Callable[..., Settings]) -> None:
    with CameraSystem(
        small_settings(sim_cameras=1, resolution_preset=7, preview_preset=7, sim_realtime=True)
    ) as system:
        cam = system.cameras[0]
        system.start_recording()
        preview = Collecting()
        feed = PreviewFeed(cam, preview)
        version = 0
        while not preview.shown or not preview.shown[-1].recording:
            version, _ = cam.latest.wait_newer(version, 10.0)
            feed.poll()
        system.stop_recording()
    shown = preview.shown[-1]
    image = shown.bgr()
    assert red(image).sum() > 20  # the recording dot is drawn
    _, code_top, _, _ = code_region(image.shape[1], image.shape[0])
    assert not red(image)[code_top:].any()  # ... clear of the frame code cells along the bottom edge
    source = cam.source
    assert isinstance(source, SimSource)
    expected = round((shown.sensor_timestamp_ns - source._t0) / source._period_ns)  # no jitter: exact
    assert read_code(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)) == expected  # overlays leave the code intact


def test_headless_preview_without_a_display_says_so_and_records(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "main_camera.py"), "--mode", "headless", "--preview", "--backend", "sim",
         "--sim-cameras", "1", "--resolution", "7", "--duration", "1", "--output-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "--preview: no window: no display" in result.stderr
    assert "running without preview" in result.stderr
    assert "preview closed" not in result.stderr  # the null preview is not a preview that closed
    assert list(tmp_path.glob("session_*/cam0_*.mp4")) or list(tmp_path.glob("session_*/cam0_*.h264"))
