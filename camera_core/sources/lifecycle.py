"""The open/start/read/stop/close lifecycle every camera source shares (sim, OpenCV, picamera2).

`LifecycleSource` is a template: its public methods check the state, keep stop/close idempotent and
wake a waiting `read()`; a backend fills in `_open`, `_start`, `_read`, `_stop`, `_close`.

    NEW --open--> OPEN --start--> RUNNING --stop--> STOPPED --start--> RUNNING ...
    any state --close--> CLOSED --open--> OPEN ...

- `open()` on an open source and `start()` on a running one do nothing; `start()` on a source that
  is not open is a `SourceStateError`.
- `read()` on a running source returns the backend's next frame (or None on timeout); on a stopped or
  closed one it returns None (a `stop()` from another thread may race the capture loop's read);
  before the first `start()` it is a `SourceStateError`, since nothing can ever come.
- `stop()` and `close()` may be called any number of times, from any state; `close()` stops first.
- A failed `_open()` is followed by `_close()`, so a half-opened device is released.

Threads: `stop()` may come from another thread while `read()` waits; it sets `_stop_event`, which
backends wait on (pacing, retries) so the read returns at once. Transitions are serialised by a lock;
`read()` does not take it.
"""

from __future__ import annotations

import enum
import threading
from abc import abstractmethod

from camera_core.errors import CameraCoreError
from camera_core.frames.frame import Frame
from camera_core.sources.base import CameraSource


class SourceState(enum.Enum):
    NEW = "new"
    OPEN = "open"
    RUNNING = "running"
    STOPPED = "stopped"
    CLOSED = "closed"


class SourceStateError(CameraCoreError):
    """A lifecycle call out of order (start before open, read before start): a bug in the caller."""


_OPENED = (SourceState.OPEN, SourceState.RUNNING, SourceState.STOPPED)


class LifecycleSource(CameraSource):
    """A camera source whose lifecycle calls are checked; see the module docstring."""

    def __init__(self, camera_id: int) -> None:
        self.camera_id = camera_id
        self._state = SourceState.NEW
        #: True while RUNNING; backends read it in `_read` to notice a stop that raced them.
        self._running = False
        #: Set by `stop()`: a `_read` waiting on it returns at once.
        self._stop_event = threading.Event()
        self._lifecycle_lock = threading.RLock()

    @property
    def state(self) -> SourceState:
        return self._state

    def open(self) -> None:
        with self._lifecycle_lock:
            if self._state in _OPENED:
                return
            try:
                self._open()
            except BaseException:
                self._close()
                raise
            self._state = SourceState.OPEN

    def start(self) -> None:
        with self._lifecycle_lock:
            if self._state is SourceState.RUNNING:
                return
            if self._state not in _OPENED:
                raise SourceStateError(
                    f"cam{self.camera_id}: start() while the source is {self._state.value}: open() it first"
                )
            self._stop_event.clear()
            self._start()
            self._state = SourceState.RUNNING
            self._running = True

    def read(self, timeout: float = 1.0) -> Frame | None:
        if self._running:
            return self._read(timeout)
        if self._state in (SourceState.NEW, SourceState.OPEN):
            raise SourceStateError(
                f"cam{self.camera_id}: read() while the source is {self._state.value}: start() it first"
            )
        return None

    def stop(self) -> None:
        with self._lifecycle_lock:
            if self._state is not SourceState.RUNNING:
                return
            self._running = False
            self._state = SourceState.STOPPED
            self._stop_event.set()
            self._stop()

    def close(self) -> None:
        with self._lifecycle_lock:
            if self._state is SourceState.CLOSED:
                return
            try:
                self.stop()
            finally:
                self._state = SourceState.CLOSED
                self._close()

    # -- what a backend fills in -------------------------------------------------------------------

    @abstractmethod
    def _open(self) -> None:
        """Acquire the device or file; raise a CameraCoreError naming what failed."""

    def _start(self) -> None:
        """Begin delivering frames (called with `_stop_event` already cleared)."""

    @abstractmethod
    def _read(self, timeout: float) -> Frame | None:
        """The next frame, waiting at most `timeout` s (and no longer once `_stop_event` is set)."""

    def _stop(self) -> None:
        """Stop delivering frames (`_stop_event` is already set)."""

    def _close(self) -> None:
        """Release the device or file; must work on a half-opened source too."""
