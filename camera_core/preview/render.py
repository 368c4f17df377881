"""The one place a preview image is made: a camera frame scaled to the preview size with its info
lines and recording dot, all in I420 (no BGR round trip: JPEG is made straight from the planes,
windows convert once to BGR).

Costs per 320x240 preview of a 1456x1088 frame (benchmarks/bench_preview.py): the scaling reads
the big frame, so it samples (INTER_NEAREST, ~0.1-0.16 ms) when it shrinks more than 3x, where
INTER_LINEAR reads twice the rows (~0.3 ms) and INTER_AREA costs 2-5 ms; a frame with a lores
stream (picamera2) needs no scaling at all, only a copy."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from camera_core.frames.frame import Frame
from camera_core.frames.i420 import i420_planes, range_tables
from camera_core.frames.overlay import InfoOverlay, OverlayStyle, draw_info_lines_i420, draw_recording_dot_i420

#: Shrinking by more than this samples pixels instead of interpolating (see the module docstring).
SAMPLE_ABOVE_RATIO = 3.0


@dataclass(slots=True)
class RenderedPreview:
    """One preview image: I420 (h*3//2, w) in full range (`full_range`, what JPEG holds) or video
    range (what OpenCV's conversion to BGR expects), BT.601, overlays drawn."""

    camera_id: int
    yuv: np.ndarray
    full_range: bool
    frame_number: int
    sensor_timestamp_ns: int
    recording: bool

    @property
    def width(self) -> int:
        return int(self.yuv.shape[1])

    @property
    def height(self) -> int:
        return int(self.yuv.shape[0]) * 2 // 3

    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return i420_planes(self.yuv)

    def bgr(self) -> np.ndarray:
        """The image as BGR for a window (a new array)."""
        yuv = self.yuv
        if self.full_range:
            yuv = _convert_range(yuv, range_tables(to_full=False))
        return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)


def _convert_range(yuv: np.ndarray, luts: tuple[np.ndarray, np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
    """`yuv` through the range tables (into `out`, which may be `yuv` itself)."""
    h = yuv.shape[0] * 2 // 3
    out = np.empty_like(yuv) if out is None else out
    cv2.LUT(yuv[:h], luts[0], dst=out[:h])
    cv2.LUT(yuv[h:], luts[1], dst=out[h:])
    return out


def _interpolation(src_w: int, dst_w: int) -> int:
    return cv2.INTER_NEAREST if src_w > SAMPLE_ABOVE_RATIO * dst_w else cv2.INTER_LINEAR


def scale_i420(frame: Frame, size: tuple[int, int]) -> np.ndarray:
    """The frame (or its lores stream) as a new I420 image of `size` (even width and height),
    in the frame's own range."""
    pw, ph = size
    image = frame.lores if frame.lores is not None else frame.image
    if frame.pixel_format != "I420":
        bgr = cv2.resize(image, (pw, ph), interpolation=_interpolation(image.shape[1], pw))
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)
    w = image.shape[1]
    if (w, image.shape[0]) == (pw, ph * 3 // 2):
        return image.copy()
    out = np.empty((ph * 3 // 2, pw), dtype=np.uint8)
    interpolation = _interpolation(w, pw)
    for src, dst in zip(i420_planes(image), i420_planes(out), strict=True):
        cv2.resize(src, (dst.shape[1], dst.shape[0]), dst=dst, interpolation=interpolation)
    return out


class PreviewRenderer:
    """Makes previews of `size` in the range a preview needs (full for JPEG, video for windows).
    Stateless apart from its settings: any thread may call `render`."""

    def __init__(self, size: tuple[int, int], style: OverlayStyle, *, full_range: bool) -> None:
        self.size = (size[0] - size[0] % 2, size[1] - size[1] % 2)
        self.style = style
        self.full_range = full_range

    def render(self, frame: Frame, number: int, overlay: InfoOverlay) -> RenderedPreview:
        yuv = scale_i420(frame, self.size)
        if frame.yuv.full_range != self.full_range:
            _convert_range(yuv, range_tables(to_full=self.full_range), out=yuv)
        y, u, v = i420_planes(yuv)
        draw_info_lines_i420(y, u, v, overlay.lines, self.style, self.full_range)
        if overlay.recording:
            draw_recording_dot_i420(y, u, v, self.style, self.full_range)
        return RenderedPreview(
            frame.camera_id, yuv, self.full_range, number, frame.sensor_timestamp_ns, overlay.recording
        )
