"""A latest-value slot: producers overwrite, consumers take the newest and count what they missed."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Thread-safe holder of the newest item with a version number.

    A slow consumer never holds up the producer: it just sees a later version and can count the
    versions it skipped."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._value: T | None = None
        self._version = 0
        self._closed = False

    def put(self, value: T) -> None:
        with self._cond:
            self._value = value
            self._version += 1
            self._cond.notify_all()

    def get(self) -> tuple[int, T | None]:
        with self._cond:
            return self._version, self._value

    def wait_newer(self, version: int, timeout: float | None = None) -> tuple[int, T | None]:
        """Block until a version newer than `version` exists (or timeout/close); return the newest."""
        with self._cond:
            self._cond.wait_for(lambda: self._version > version or self._closed, timeout)
            return self._version, self._value

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def version(self) -> int:
        return self._version
