"""The LED every camera sees: on for `on_ns` at the start of every `period_ns` of true wall-clock
time. A frame's LED brightness is the share of its exposure during which the LED was on, so a
frame that an LED edge falls into is partly lit and tells where the edge is within the frame.

The sim draws it as a flat grey box on the right, above the frame code row and clear of the
burned-in frame number (top right)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from camera_core.frames.framecode import cell_size

#: Luma of the box when the LED is off and fully on (inside the video range: no clipping).
LEVEL_OFF = 16
LEVEL_ON = 235


@dataclass(frozen=True, slots=True)
class Led:
    period_ns: int = 1_000_000_000
    on_ns: int = 100_000_000

    def __post_init__(self) -> None:
        if not 0 < self.on_ns < self.period_ns:
            raise ValueError(f"LED on-time {self.on_ns} ns must be between 0 and its period {self.period_ns} ns")

    def lit_fraction(self, start_ns: int, duration_ns: int) -> float:
        """Share of [start, start + duration) (true wall-clock ns) during which the LED is on."""
        if duration_ns <= 0:
            return 0.0
        end = start_ns + duration_ns
        lit = 0
        for k in range(start_ns // self.period_ns, end // self.period_ns + 1):
            on_from = k * self.period_ns
            lit += max(0, min(end, on_from + self.on_ns) - max(start_ns, on_from))
        return lit / duration_ns


def led_level(fraction: float) -> float:
    """The box's mean luma for a lit share (0-1), not rounded."""
    return LEVEL_OFF + (LEVEL_ON - LEVEL_OFF) * min(1.0, max(0.0, fraction))


@functools.cache
def _dither(height: int, width: int) -> np.ndarray:
    """Fixed thresholds in [0, 1): a box of floor(level + threshold) has the mean `level` to a
    fraction of a grey level (as a real sensor's noise does), so brightness is not limited to
    whole 8-bit steps (one step = exposure / 219)."""
    return np.random.default_rng(0x1ED).random((height, width), dtype=np.float32)


def led_box(width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the LED in a frame of this size (even coordinates, for I420)."""
    size = max(8, min(64, height // 5)) // 2 * 2
    margin = 8
    x1 = (width - margin) // 2 * 2
    y1 = (height - cell_size(width) - margin) // 2 * 2
    return x1 - size, y1 - size, x1, y1


def draw_led(luma: np.ndarray, fraction: float, chroma: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Paint the LED box into a luma plane (and grey chroma under it) in place."""
    height, width = luma.shape[:2]
    x0, y0, x1, y1 = led_box(width, height)
    luma[y0:y1, x0:x1] = np.floor(led_level(fraction) + _dither(y1 - y0, x1 - x0))
    if chroma is not None:
        for plane in chroma:
            plane[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = 128
