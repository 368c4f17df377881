"""JPEG snapshots of full-resolution frames (simplejpeg, straight from I420 planes).

A JPEG (JFIF) holds full-range BT.601 Y'CbCr, while camera video streams are limited range
(Y 16-235) and often BT.709: the planes are converted to what JFIF means, so that white is 255 and
black 0 in the picture, not the grey 235 and 16 written unchanged.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import simplejpeg

from camera_core.frames.frame import VIDEO_BT601, Frame, YuvEncoding
from camera_core.frames.i420 import i420_planes, range_tables

#: (Kr, Kb) of each Y'CbCr matrix.
_LUMA_WEIGHTS = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722), "bt2020": (0.2627, 0.0593)}
JFIF = YuvEncoding("bt601", full_range=True)


def _rgb_from_ypbpr(kr: float, kb: float) -> np.ndarray:
    kg = 1.0 - kr - kb
    return np.array(
        [
            [1.0, 0.0, 2 * (1 - kr)],
            [1.0, -2 * (1 - kb) * kb / kg, -2 * (1 - kr) * kr / kg],
            [1.0, 2 * (1 - kb), 0.0],
        ]
    )


def _ypbpr_from_rgb(kr: float, kb: float) -> np.ndarray:
    kg = 1.0 - kr - kb
    return np.array(
        [
            [kr, kg, kb],
            [-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5],
            [0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))],
        ]
    )


@cache
def _matrix_to_bt601(matrix: str) -> np.ndarray:
    """3x3 taking (Y, Pb, Pr) of `matrix` to BT.601's; its first column is (1, 0, 0) (grey stays grey)."""
    to_rgb = _rgb_from_ypbpr(*_LUMA_WEIGHTS[matrix])
    return _ypbpr_from_rgb(*_LUMA_WEIGHTS["bt601"]) @ to_rgb


def _normalise(y: np.ndarray, u: np.ndarray, v: np.ndarray, full: bool) -> tuple[np.ndarray, ...]:
    """Y in 0..1 and Pb, Pr in -0.5..0.5 (float32)."""
    y_scale, y_off, c_scale = (255.0, 0.0, 255.0) if full else (219.0, 16.0, 224.0)
    return (
        (y.astype(np.float32) - y_off) / y_scale,
        (u.astype(np.float32) - 128.0) / c_scale,
        (v.astype(np.float32) - 128.0) / c_scale,
    )


def _quantise(plane: np.ndarray, offset: float) -> np.ndarray:
    return np.clip(plane * 255.0 + offset + 0.5, 0, 255).astype(np.uint8)


def jfif_planes(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, yuv: YuvEncoding
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The I420 planes (y full size, u and v half size) as full-range BT.601, what a JPEG holds."""
    if yuv == JFIF:
        return y, u, v
    if yuv.matrix == "bt601":
        if yuv.full_range:
            return y, u, v
        y_lut, c_lut = range_tables(to_full=True)
        return y_lut[y], c_lut[u], c_lut[v]
    yn, pb, pr = _normalise(y, u, v, yuv.full_range)
    m = _matrix_to_bt601(yuv.matrix).astype(np.float32)
    # Luma takes a little of the chroma (at chroma resolution, repeated over each 2x2 block).
    luma_from_chroma = m[0, 1] * pb + m[0, 2] * pr
    yn += np.repeat(np.repeat(luma_from_chroma, 2, axis=0), 2, axis=1)[: yn.shape[0], : yn.shape[1]]
    pb601 = m[1, 1] * pb + m[1, 2] * pr
    pr601 = m[2, 1] * pb + m[2, 2] * pr
    return _quantise(yn, 0.0), _quantise(pb601, 128.0), _quantise(pr601, 128.0)


def encode_jpeg(image: np.ndarray, pixel_format: str, quality: int, yuv: YuvEncoding = VIDEO_BT601) -> bytes:
    """JPEG bytes of an I420 (h*3//2, w) image whose numbers mean `yuv`, or of a BGR image; 4:2:0."""
    if pixel_format == "I420":
        y, u, v = jfif_planes(*i420_planes(image), yuv)
        return simplejpeg.encode_jpeg_yuv_planes(y, u, v, quality=quality)
    return simplejpeg.encode_jpeg(
        np.ascontiguousarray(image), quality=quality, colorspace="BGR", colorsubsampling="420"
    )


def save_snapshot(frame: Frame, path: Path, quality: int) -> Path:
    data = encode_jpeg(frame.image, frame.pixel_format, quality, frame.yuv)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:  # e.g. a full disk: leave no half-written .part behind
        tmp.unlink(missing_ok=True)
        raise
    return path
