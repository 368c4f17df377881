"""When a lost camera is tried again: waits that double from `first_s` up to `max_s`."""

from __future__ import annotations


class RestartBackoff:
    """The wait before each further restart attempt; `reset` once the camera is back."""

    def __init__(self, first_s: float = 0.5, max_s: float = 30.0) -> None:
        self.first_s = min(first_s, max_s)
        self.max_s = max_s
        self._next = self.first_s

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self.max_s, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self.first_s
