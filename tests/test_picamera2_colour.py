"""Snapshots hold what a JPEG means (full-range BT.601), whatever range and matrix the camera's
YUV420 uses: limited-range video (Y 16-235) is stretched, BT.709 is converted."""

from __future__ import annotations

import numpy as np
import pytest
import simplejpeg

from camera_core.frames.frame import VIDEO_BT601, YuvEncoding
from camera_core.recording.snapshot import encode_jpeg

#: (Kr, Kb) per matrix, as the standards define them.
WEIGHTS = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def i420_of(rgb: tuple[int, int, int], yuv: YuvEncoding, size: tuple[int, int] = (64, 32)) -> np.ndarray:
    """A flat-colour I420 frame encoding `rgb` with this matrix and range."""
    kr, kb = WEIGHTS[yuv.matrix]
    r, g, b = (c / 255 for c in rgb)
    y = kr * r + (1 - kr - kb) * g + kb * b
    pb, pr = (b - y) / (2 * (1 - kb)), (r - y) / (2 * (1 - kr))
    if yuv.full_range:
        codes = (255 * y, 128 + 255 * pb, 128 + 255 * pr)
    else:
        codes = (16 + 219 * y, 128 + 224 * pb, 128 + 224 * pr)
    codes = tuple(min(255, max(0, round(c))) for c in codes)
    w, h = size
    frame = np.empty((h * 3 // 2, w), dtype=np.uint8)
    frame[:h] = codes[0]
    flat = frame.reshape(-1)
    q = (h // 2) * (w // 2)
    flat[h * w : h * w + q] = codes[1]
    flat[h * w + q :] = codes[2]
    return frame


@pytest.mark.parametrize("yuv", [VIDEO_BT601, YuvEncoding("bt709"), YuvEncoding("bt601", full_range=True)])
@pytest.mark.parametrize("rgb", [(255, 255, 255), (0, 0, 0), (255, 0, 0), (0, 160, 255), (128, 128, 128)])
def test_snapshot_pixels_are_the_colours_the_camera_meant(yuv: YuvEncoding, rgb: tuple[int, int, int]) -> None:
    jpeg = encode_jpeg(i420_of(rgb, yuv), "I420", 95, yuv)
    decoded = simplejpeg.decode_jpeg(jpeg, colorspace="RGB")
    seen = decoded[8:24, 8:56].reshape(-1, 3).mean(axis=0)
    assert np.all(np.abs(seen - np.array(rgb)) <= 6), (yuv, rgb, seen.round(1))


def test_limited_range_white_and_black_are_not_written_as_grey() -> None:
    """White 235 / black 16 written unchanged decode as grey; converted they are 255 and 0."""
    frame = i420_of((255, 255, 255), VIDEO_BT601)
    frame[8:16] = 16  # a black band
    grey = simplejpeg.decode_jpeg(encode_jpeg(frame, "I420", 95), colorspace="GRAY")[:, :, 0]
    assert grey[2:6].mean() >= 253 and grey[10:14].mean() <= 2


class _Enum:
    def __init__(self, name: str) -> None:
        self.name = name


class _RealStyleColourSpace:
    """Like libcamera's binding: enum members (their str is 'Range.Limited'), with a .name."""

    ycbcrEncoding = _Enum("Rec709")
    range = _Enum("Limited")


class _NamedColourSpace:
    ycbcrEncoding = "Rec601"
    range = "Full"


def test_colour_space_of_libcamera_is_read_from_enums_or_names() -> None:
    assert YuvEncoding.from_colour_space(_RealStyleColourSpace()) == YuvEncoding("bt709", full_range=False)
    assert YuvEncoding.from_colour_space(_NamedColourSpace()) == YuvEncoding("bt601", full_range=True)
    assert YuvEncoding.from_colour_space(None) == VIDEO_BT601
