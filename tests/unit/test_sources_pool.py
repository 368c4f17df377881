"""The frame buffer pool (frames/pool.py): reuse, and memory given back after a burst."""

from __future__ import annotations

import numpy as np

from camera_core.frames.pool import BufferPool


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_freed_buffer_is_reused() -> None:
    pool = BufferPool((4, 4), trim_after_s=10, clock=FakeClock())
    first = pool.acquire()
    address = first.ctypes.data
    del first
    assert pool.acquire().ctypes.data == address
    assert len(pool) == 1


def test_buffers_in_use_are_never_handed_out_twice() -> None:
    pool = BufferPool((4, 4), trim_after_s=10, clock=FakeClock())
    held = [pool.acquire() for _ in range(5)]
    assert len({b.ctypes.data for b in held}) == 5


def test_pool_shrinks_to_the_recent_peak_after_a_burst() -> None:
    clock = FakeClock()
    pool = BufferPool((8, 8), trim_after_s=10, clock=clock)
    steady: list[np.ndarray] = []

    def frame() -> None:  # steady state: 3 frames in flight
        steady.append(pool.acquire())
        if len(steady) > 3:
            steady.pop(0)

    burst = [pool.acquire() for _ in range(20)]  # the encoder fell behind: 20 in flight
    assert len(pool) == 20
    del burst
    clock.now = 11  # the burst's interval ends: its peak still counts
    frame()
    assert len(pool) == 20
    for _ in range(30):  # a quiet interval
        frame()
    clock.now = 22
    frame()
    assert len(pool) <= 5  # the quiet interval's 4 in flight at most, plus a spare
    assert pool.trimmed >= 15
    kept = [b.ctypes.data for b in steady]
    assert len(set(kept)) == len(kept)  # the frames still held were not given away


def test_buffers_in_use_are_never_trimmed() -> None:
    clock = FakeClock()
    pool = BufferPool((8, 8), trim_after_s=10, clock=clock)
    held = [pool.acquire() for _ in range(6)]
    clock.now = 11
    held.append(pool.acquire())
    assert len(pool) >= 7
    assert len({b.ctypes.data for b in held}) == 7
