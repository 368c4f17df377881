"""The recorder interface a camera records through (one per camera; the implementation is the
recording pipeline, recording/pipeline.py), and the names other modules import from here."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from camera_core.events import Publish
from camera_core.frames.frame import Frame
from camera_core.recording.results import RecordingResult
from camera_core.recording.take import RecordingTarget

#: (reason, detail) of a recorder that stopped itself.
RecorderListener = Callable[[str, str], None]


class Recorder(ABC):
    """One camera's recorder. `submit` is called from the capture path for every frame."""

    @property
    @abstractmethod
    def active(self) -> bool: ...

    @abstractmethod
    def start(self, target: RecordingTarget) -> None: ...

    @abstractmethod
    def submit(self, frame: Frame) -> None: ...

    @abstractmethod
    def stop(self) -> RecordingResult: ...

    @abstractmethod
    def stats(self) -> dict[str, object]: ...

    def prepare(self) -> None:  # noqa: B027 (optional hook)
        """The camera runs: begin what must run between takes (the pre-trigger buffer)."""

    def close(self) -> None:  # noqa: B027 (optional hook)
        """The camera is about to close: stop everything (no take is running)."""

    def request_stop(self) -> None:  # noqa: B027 (optional hook)
        """Take no more frames from now on; `stop()` then finalizes. The system calls this on every
        camera first, so the takes end on the same instant before any of them spends time on MP4
        conversion and checksums."""

    def end_segment(self, reason: str = "camera_restart") -> None:  # noqa: B027 (optional hook)
        """Close the current file; the next frame starts a new numbered segment."""

    def set_listener(self, listener: RecorderListener | None) -> None:  # noqa: B027 (optional hook)
        """`listener(reason, detail)` is called (from the recorder's thread) when the recorder stops
        itself: disk_low, disk_full, output_missing or error. The caller should then call stop()."""

    def set_publisher(self, publish: Publish | None) -> None:  # noqa: B027 (optional hook)
        """`publish(event)` is called with the recorder's events (recording_first_frame,
        frames_not_recorded) at once, from the thread where they happen."""


__all__ = ["Recorder", "RecorderListener", "RecordingResult", "RecordingTarget"]
