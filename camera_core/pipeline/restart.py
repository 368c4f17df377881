"""A lost camera: when it is tried again (waits that double from `first_s` up to `max_s`) and how
long it was without frames."""

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


class Outage:
    """A lost camera's time without frames: from its last frame before the loss to its first frame
    after the restart (not from when the loss was noticed, which is camera_timeout_s later)."""

    def __init__(self, last_frame_at: float) -> None:
        self.last_frame_at = last_frame_at

    def downtime_s(self, first_frame_at: float) -> float:
        return max(0.0, first_frame_at - self.last_frame_at)
