"""JPEG snapshots of full-resolution frames (simplejpeg, straight from I420 planes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import simplejpeg

from camera_core.sources.frame import Frame


def encode_jpeg(image: np.ndarray, pixel_format: str, quality: int) -> bytes:
    """JPEG bytes of an I420 (h*3//2, w) or BGR image, 4:2:0."""
    if pixel_format == "I420":
        h = image.shape[0] * 2 // 3
        w = image.shape[1]
        flat = image.reshape(-1)
        q = (h // 2) * (w // 2)
        y = image[:h]
        u = flat[h * w : h * w + q].reshape(h // 2, w // 2)
        v = flat[h * w + q : h * w + 2 * q].reshape(h // 2, w // 2)
        return simplejpeg.encode_jpeg_yuv_planes(y, u, v, quality=quality)
    return simplejpeg.encode_jpeg(
        np.ascontiguousarray(image), quality=quality, colorspace="BGR", colorsubsampling="420"
    )


def save_snapshot(frame: Frame, path: Path, quality: int) -> Path:
    data = encode_jpeg(frame.image, frame.pixel_format, quality)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:  # e.g. a full disk: leave no half-written .part behind
        tmp.unlink(missing_ok=True)
        raise
    return path
