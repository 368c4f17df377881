"""A pool of frame buffers, as a camera has: buffers are reused once nothing else holds them.

Frames are large (2.4 MB at 1456x1088) and many are in flight (encoder queue, latest frame,
preview). Allocating each one afresh costs page faults and lets the C heap creep up over hours;
reusing a fixed set keeps both flat. A buffer is free when the pool's reference is the only one
left (numpy views of it count as references through `.base`)."""

from __future__ import annotations

import sys
import threading

import numpy as np

#: references sys.getrefcount sees for a buffer held only by the pool's list: the list + the argument
_POOL_ONLY = 2


class BufferPool:
    """Hands out uint8 arrays of one shape, reusing those no one else references any more."""

    def __init__(self, shape: tuple[int, ...], max_buffers: int = 256) -> None:
        self.shape = shape
        self.max_buffers = max_buffers
        self._buffers: list[np.ndarray] = []
        self._next = 0
        self._lock = threading.Lock()
        self.allocated = 0

    def acquire(self) -> np.ndarray:
        """A buffer of `shape` with undefined contents; the caller overwrites all of it."""
        with self._lock:
            count = len(self._buffers)
            for step in range(count):
                i = (self._next + step) % count
                if sys.getrefcount(self._buffers[i]) <= _POOL_ONLY:
                    self._next = (i + 1) % count
                    return self._buffers[i]
            buffer = np.empty(self.shape, dtype=np.uint8)
            self.allocated += 1
            if count < self.max_buffers:
                self._buffers.append(buffer)
            return buffer

    def __len__(self) -> int:
        return len(self._buffers)
