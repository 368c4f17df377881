"""What a camera source delivers: one frame with its pixels and timing metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

PixelFormat = Literal["I420", "BGR"]
YuvMatrix = Literal["bt601", "bt709", "bt2020"]


@dataclass(frozen=True, slots=True)
class YuvEncoding:
    """What an I420 frame's numbers mean: the Y'CbCr matrix, and whether Y spans 16-235 and Cb/Cr
    16-240 (limited, "video" range) or 0-255 (full, as in JPEG)."""

    matrix: YuvMatrix = "bt601"
    full_range: bool = False

    @classmethod
    def from_colour_space(cls, colour_space: object) -> YuvEncoding:
        """From a libcamera ColorSpace (its ycbcrEncoding and range, enums or names); video range
        BT.601 when it says nothing usable."""
        if colour_space is None:
            return VIDEO_BT601

        def name(attr: str) -> str:
            value = getattr(colour_space, attr, "")
            return str(getattr(value, "name", value)).rsplit(".", 1)[-1].lower()

        matrix = {"rec601": "bt601", "rec709": "bt709", "rec2020": "bt2020"}.get(name("ycbcrEncoding"), "bt601")
        return cls(matrix, name("range") == "full")  # type: ignore[arg-type]


#: Video YUV as camera video streams deliver it and H.264 decoders assume it: BT.601, limited range.
#: The sim's frames are this too (the preview's conversion and the recorded files treat them so).
VIDEO_BT601 = YuvEncoding()


@dataclass(slots=True)
class Frame:
    """One delivered frame.

    `image` is the main stream: planar I420, shape (h*3//2, w), or BGR (h, w, 3), uint8.
    `lores` is an optional preview-size copy in the same format (the Pi's lores stream).
    `yuv` says how I420 numbers map to colour (limited-range BT.601 unless the source says otherwise).
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
    #: How to read the I420 numbers as colour (snapshots convert them to a JPEG's full range).
    yuv: YuvEncoding = VIDEO_BT601

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
