"""Room for frames in flight between admission and the recording thread: a fixed number of slots,
taken per frame admitted and given back once the frame is written (or dropped).

Slots are tokens in a C-level queue (no pure-Python lock per frame). A source that waits for room
(an unpaced one) is woken once half the slots are free again, not after every frame the encoder
finishes: one wake-up per half queue instead of one per frame."""

from __future__ import annotations

import queue
import threading


class FrameSlots:
    """`count` slots; `try_acquire` never waits, `acquire` waits for room, `release` gives back."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError(f"at least one slot is needed, not {count}")
        self.count = count
        self._free: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(count):
            self._free.put(None)
        self._resume_at = max(1, count // 2)
        self._room = threading.Event()
        self._waiting = False
        #: Set whenever a source begins to wait for room (tests and diagnostics wait on it).
        self.wait_begun = threading.Event()

    @property
    def free(self) -> int:
        return self._free.qsize()

    def try_acquire(self) -> bool:
        try:
            self._free.get_nowait()
        except queue.Empty:
            return False
        return True

    def acquire(self, timeout: float) -> bool:
        """One slot; when none is free, waits (at most `timeout` s) until half of them are."""
        if self.try_acquire():
            return True
        self._room.clear()
        self._waiting = True
        self.wait_begun.set()
        try:
            if self._free.qsize() < self._resume_at:  # checked after _waiting is set: no wake-up lost
                self._room.wait(timeout)
        finally:
            self._waiting = False
        return self.try_acquire()

    def release(self, count: int = 1) -> None:
        for _ in range(count):
            self._free.put(None)
        if self._waiting and self._free.qsize() >= self._resume_at:
            self._room.set()
