"""The control thread: one thread that runs jobs in the order they were submitted, each answered
through a future (picamera2's pattern for calls from other threads). A job that raises resolves its
future with the error; the thread itself never dies of a job."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_Job = tuple[Future[object], Callable[[], object]]


class ControlThread:
    """Runs submitted jobs one at a time on a thread named `name`. `submit` may be called from any
    thread; `pending` counts jobs submitted and not yet finished."""

    def __init__(self, name: str = "control") -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False
        #: Set once `close` was called: from then on `submit` refuses new jobs.
        self.closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def submit(self, job: Callable[[], T]) -> Future[T]:
        """Queue `job`; its future resolves to what it returns or raises. RuntimeError once closed."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the control thread is closed")
            self._pending += 1
            self._jobs.put((future, job))  # type: ignore[arg-type]
        return future

    def close(self, timeout: float = 30.0) -> bool:
        """Run the jobs already queued, then end the thread; False when it did not end in time."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._jobs.put(None)
                self.closing.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("the %s thread did not finish its jobs within %.0f s", self._thread.name, timeout)
            return False
        return True

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            future, job = item
            if future.set_running_or_notify_cancel():
                try:
                    result = job()
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            with self._lock:
                self._pending -= 1
