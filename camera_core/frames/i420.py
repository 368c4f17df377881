"""I420 images (a (h*3//2, w) uint8 array: Y, then U and V at half size) and the tables that move
their numbers between video range (Y 16-235, chroma 16-240) and full range (0-255), BT.601."""

from __future__ import annotations

from functools import cache

import numpy as np


def i420_planes(yuv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of an I420 image (h*3//2, w)."""
    h, w = yuv.shape[0] * 2 // 3, yuv.shape[1]
    flat = yuv.reshape(-1)
    q = (h // 2) * (w // 2)
    u = flat[h * w : h * w + q].reshape(h // 2, w // 2)
    v = flat[h * w + q : h * w + 2 * q].reshape(h // 2, w // 2)
    return yuv[:h], u, v


@cache
def range_tables(to_full: bool) -> tuple[np.ndarray, np.ndarray]:
    """(luma, chroma) lookup tables from video to full range (`to_full`), or back."""
    codes = np.arange(256, dtype=np.float64)
    if to_full:
        y, c = (codes - 16) * 255 / 219, (codes - 128) * 255 / 224 + 128
    else:
        y, c = 16 + codes * 219 / 255, (codes - 128) * 224 / 255 + 128
    luma, chroma = (np.clip(np.round(t), 0, 255).astype(np.uint8) for t in (y, c))
    return luma, chroma
