"""Unsolicited events (recording error, frames dropped, disk low, camera lost/recovered, ...).

Every event is a typed value: one frozen dataclass per kind, with its protocol `name` and
`as_dict()`, the payload of the slave's event line (docs/protocol.md "Events"). The code where the
fact happens publishes it at once (`EventBus.publish(FramesDropped(...))`); subscribers (the slave's
event stream, tests, library users) get the typed object in a callback on the publisher's thread,
so callbacks must be quick, must not block and must not call back into the camera system."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """The base of every event: its `name` (a class constant) and when it was published."""

    name: ClassVar[str] = ""
    #: How the bus logs it (session.log).
    log_level: ClassVar[int] = logging.INFO
    time_unix: float = field(default_factory=time.time, kw_only=True)

    def as_dict(self) -> dict[str, Any]:
        """The event's fields but its time: the `data` of its protocol line."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "time_unix"}

    @property
    def data(self) -> dict[str, Any]:
        """The same as `as_dict()`."""
        return self.as_dict()


# -- one camera ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FramesDropped(Event):
    """Sensor frames missed: one event per timestamp gap, published by the capture thread when
    the frame after the gap arrives (`dropped` in this gap, `total` since the camera opened)."""

    name: ClassVar[str] = "frames_dropped"
    log_level: ClassVar[int] = logging.DEBUG  # every gap has its timing row already; a lossy camera has many
    camera_id: int
    dropped: int
    total: int


@dataclass(frozen=True, slots=True)
class FramesNotRecorded(Event):
    """Frames of a take the encoder queue had no room for (`count` since the last report of this
    run, `total` in the take): reported at the first frame of a run, and once more with the rest
    of the run when it ends (the next frame admitted, or the take stopping)."""

    name: ClassVar[str] = "frames_not_recorded"
    camera_id: int
    count: int
    total: int


@dataclass(frozen=True, slots=True)
class CameraError(Event):
    """A camera's capture failed; `message` is what get_status shows as its `last_error`."""

    name: ClassVar[str] = "camera_error"
    camera_id: int
    message: str


@dataclass(frozen=True, slots=True)
class CameraLost(Event):
    """A camera raised or went silent: it is being restarted."""

    name: ClassVar[str] = "camera_lost"
    camera_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class CameraRecovered(Event):
    """A lost camera delivers frames again after `attempts` restarts, `downtime_s` without frames."""

    name: ClassVar[str] = "camera_recovered"
    camera_id: int
    attempts: int
    downtime_s: float


@dataclass(frozen=True, slots=True)
class CameraFailed(Event):
    """A camera's capture or processor loop died: the camera stays failed."""

    name: ClassVar[str] = "camera_failed"
    camera_id: int
    reason: str


# -- recording -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordingFirstFrame(Event):
    """A take wrote its own first frame (after `at`, when given), published by the recording thread
    right after writing it; `frames_recorded` counts the frames in its files (pre-trigger ones too)."""

    name: ClassVar[str] = "recording_first_frame"
    camera_id: int
    frames_recorded: int


@dataclass(frozen=True, slots=True)
class RecordingError(Event):
    """A camera's recording stopped itself (folder gone, encoder or I/O error)."""

    name: ClassVar[str] = "recording_error"
    camera_id: int
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class DiskLow(Event):
    """A camera's recording stopped for want of disk space (`reason` disk_low or disk_full)."""

    name: ClassVar[str] = "disk_low"
    camera_id: int
    reason: str
    detail: str
    free_disk_bytes: int


@dataclass(frozen=True, slots=True)
class RecordingStopped(Event):
    """Recording stopped without stop_recording; `recordings` holds, per camera, camera_id, video,
    frames and files."""

    name: ClassVar[str] = "recording_stopped"
    reason: str
    detail: str
    recordings: list[dict[str, Any]]


# -- the host and the self-test ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HealthWarning(Event):
    """The host throttles or runs hot; `health` is the reading as get_status shows it."""

    name: ClassVar[str] = "health_warning"
    problems: list[str]
    health: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SelfTest(Event):
    """A self-test ended: whether it passed, and (camera_id, passed) per camera."""

    name: ClassVar[str] = "self_test"
    passed: bool
    cameras: list[tuple[int, bool]]


EventCallback = Callable[[Event], None]
#: What a lower layer is given to publish with (`EventBus.publish`).
Publish = Callable[[Event], object]


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[EventCallback] = []

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Register `callback`; returns a function that unregisters it."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: Event) -> Event:
        """Hand `event` to every subscriber, on this thread; a subscriber that raises is logged."""
        if not isinstance(event, Event) or not event.name:
            raise TypeError(f"publish takes an event of camera_core.events, not {event!r}")
        if log.isEnabledFor(event.log_level):
            log.log(event.log_level, "event %s %s", event.name, event.as_dict())
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("event subscriber failed on %s", event.name)
        return event
