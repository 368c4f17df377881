"""The frame code: a frame's sensor sequence number drawn as 32 cells along the bottom-left edge.

Cell size c = min(16, W // 32); cell i covers x in [i*c, (i+1)*c) and the bottom c rows; it is
white (255) when bit 31-i of the number is 1, black (0) otherwise. Any decoder reads it back by
thresholding the mean of each cell's centre at 128.
"""

from __future__ import annotations

import numpy as np

BITS = 32


def cell_size(width: int) -> int:
    return min(16, width // BITS)


def code_region(width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the area overlays must not touch."""
    c = cell_size(width)
    return 0, height - c, BITS * c, height


def draw_code(plane: np.ndarray, value: int, chroma: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Write `value` into a luma plane (h, w) or BGR image (h, w, 3) in place.

    `chroma` (U, V planes of I420) are set to neutral 128 under the cells so colour stays grey."""
    height, width = plane.shape[:2]
    c = cell_size(width)
    bits = (np.uint64(value & 0xFFFFFFFF) >> np.arange(BITS - 1, -1, -1, dtype=np.uint64)) & np.uint64(1)
    row = np.repeat(bits.astype(np.uint8) * 255, c)
    region = plane[height - c : height, : BITS * c]
    if plane.ndim == 3:
        region[:] = row[None, :, None]
    else:
        region[:] = row[None, :]
    if chroma is not None:
        for p in chroma:
            p[(height - c) // 2 : height // 2, : BITS * c // 2] = 128


def read_code(plane: np.ndarray) -> int:
    """Read the frame code back from a decoded luma plane or BGR/RGB image."""
    height, width = plane.shape[:2]
    c = cell_size(width)
    q = c // 4  # read the centre of each cell (all of it when cells are tiny)
    value = 0
    for i in range(BITS):
        y0, x0 = height - c + q, i * c + q
        cell = plane[y0 : height - q, x0 : (i + 1) * c - q]
        value = (value << 1) | int(cell.mean() >= 128)
    return value
