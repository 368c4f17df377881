"""What travels through a recording pipeline: a frame's timing as admitted (`FrameMeta`) and the
same frame once encoded (`EncodedFrame`): its H.264 access unit and whether it is a keyframe."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from camera_core.sources.base import CameraRequest


@dataclass(slots=True)
class FrameMeta:
    """A frame admitted to the encoder: the number burned into it and its timing row's data."""

    #: The number burned into the picture (position in its file, or the running count with pre-trigger).
    number: int
    sensor_ns: int
    frame_duration_us: float
    wall_ns: int
    sequence: int | None
    #: The take the frame belongs to (None: not recording; it goes to the pre-trigger buffer).
    take: Any = None
    #: Why a new file begins with this frame (start, time, camera_restart), or None.
    split: str | None = None
    #: The camera's sync and exposure metadata for the row's last columns (timing_log.row_extras).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class EncodedFrame:
    """One encoded frame (one access unit; no B-frames) with its metadata."""

    data: bytes
    keyframe: bool
    meta: FrameMeta


class EncodedFrameSink(Protocol):
    """What an encoder stage that encodes on the camera's own thread (picamera2's) hands its work
    to: the recording pipeline (recording/pipeline.py)."""

    def on_request(self, request: CameraRequest) -> None:
        """The camera's thread: a frame to admit before the camera's encoder sees it."""

    def put_encoded(self, frame: EncodedFrame) -> None:
        """Any thread: an encoded frame for the recording thread."""

    def put_failure(self, exc: Exception) -> None:
        """Any thread: the camera's encoder failed."""
