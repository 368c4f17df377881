"""What a camera source delivers: one frame with its pixels and timing metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

PixelFormat = Literal["I420", "BGR"]


@dataclass(slots=True)
class Frame:
    """One delivered frame.

    `image` is the main stream: planar I420, shape (h*3//2, w), or BGR (h, w, 3), uint8.
    `lores` is an optional preview-size copy in the same format (the Pi's lores stream).
    Timestamps: `sensor_timestamp_ns` is the sensor's (CLOCK_BOOTTIME on a Pi); `wall_clock_ns`
    is the camera's own wall-clock time for the frame (picamera2 FrameWallClock) when it gives one.
    """

    camera_id: int
    image: np.ndarray
    pixel_format: PixelFormat
    sensor_timestamp_ns: int
    frame_duration_us: float
    wall_clock_ns: int | None = None
    lores: np.ndarray | None = None
    sequence: int | None = None
    arrival_ns: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        rows = int(self.image.shape[0])
        return rows * 2 // 3 if self.pixel_format == "I420" else rows

    def luma(self) -> np.ndarray:
        """A writable view of the luma (Y) plane, or the BGR image itself."""
        return self.image[: self.height] if self.pixel_format == "I420" else self.image
