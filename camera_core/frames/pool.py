"""A pool of frame buffers, as a camera has: buffers are reused once nothing else holds them.

Frames are large (2.4 MB at 1456x1088) and many are in flight (encoder queue, latest frame,
preview). Allocating each one afresh costs page faults and lets the C heap creep up over hours;
reusing a set keeps both flat. A buffer is free when the pool's reference is the only one
left (numpy views of it count as references through `.base`).

The pool grows to the most buffers in flight at once (a burst: the encoder fell behind for a
moment). It gives that memory back afterwards: every `trim_after_s` it keeps only as many buffers
as were in flight at most during that interval (plus one spare) and frees the others."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from camera_core.util.memory import release_free_memory

#: references sys.getrefcount sees for a buffer held only by the pool's list: the list + the argument
_POOL_ONLY = 2
#: Seconds between trims: a burst's buffers are kept this long after the last time they were needed.
TRIM_AFTER_S = 30.0


class BufferPool:
    """Hands out uint8 arrays of one shape, reusing those no one else references any more."""

    def __init__(
        self,
        shape: tuple[int, ...],
        max_buffers: int = 256,
        *,
        trim_after_s: float = TRIM_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shape = shape
        self.max_buffers = max_buffers
        self.trim_after_s = trim_after_s
        self._clock = clock
        self._buffers: list[np.ndarray] = []
        self._next = 0
        self._lock = threading.Lock()
        self._peak = 0  # most buffers in use at once (this one included) since the last trim
        self._trim_at = clock() + trim_after_s
        #: buffers ever allocated, and buffers given back by trims
        self.allocated = 0
        self.trimmed = 0

    def acquire(self) -> np.ndarray:
        """A buffer of `shape` with undefined contents; the caller overwrites all of it."""
        with self._lock:
            buffers = self._buffers
            count = len(buffers)
            refs = list(map(sys.getrefcount, buffers))  # the list's reference + the call's
            busy = count - refs.count(_POOL_ONLY)
            found = -1
            if busy < count:
                try:
                    found = refs.index(_POOL_ONLY, self._next)
                except ValueError:
                    found = refs.index(_POOL_ONLY)
            self._peak = max(self._peak, busy + 1)
            if found >= 0:
                self._next = (found + 1) % count
                buffer = buffers[found]
            else:
                buffer = np.empty(self.shape, dtype=np.uint8)
                self.allocated += 1
                if count < self.max_buffers:
                    buffers.append(buffer)
            if self._clock() >= self._trim_at:
                self._trim()
            return buffer

    def _trim(self) -> None:
        """Under the lock: free the buffers above the interval's peak (plus a spare)."""
        keep = self._peak + 1
        freed = 0
        for i in range(len(self._buffers) - 1, -1, -1):
            if len(self._buffers) <= keep:
                break
            if sys.getrefcount(self._buffers[i]) <= _POOL_ONLY:
                del self._buffers[i]
                freed += 1
        self._next = 0
        self._peak = 0
        self._trim_at = self._clock() + self.trim_after_s
        if freed:
            self.trimmed += freed
            release_free_memory()  # the freed buffers' pages go back to the system

    def __len__(self) -> int:
        """Buffers the pool holds (in use or free)."""
        return len(self._buffers)
