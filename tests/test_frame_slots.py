"""Room for frames in flight: a paced camera never waits, an unpaced one waits until half the
slots are free again (one wake-up per half queue), and a wait always ends."""

from __future__ import annotations

import threading
import time

import pytest

from camera_core.recording.slots import FrameSlots


def test_try_acquire_takes_each_slot_once_and_release_gives_it_back() -> None:
    slots = FrameSlots(3)
    assert [slots.try_acquire() for _ in range(4)] == [True, True, True, False]
    slots.release()
    assert slots.try_acquire() and not slots.try_acquire()


def test_a_waiting_source_resumes_only_when_half_the_slots_are_free() -> None:
    slots = FrameSlots(4)
    for _ in range(4):
        assert slots.try_acquire()
    got: list[bool] = []
    waiting = threading.Thread(target=lambda: got.append(slots.acquire(10.0)))
    waiting.start()
    assert slots.wait_begun.wait(5)
    slots.release()  # one free: not yet
    waiting.join(0.2)
    assert waiting.is_alive() and not got
    slots.release()  # two of four free: resume
    waiting.join(5)
    assert got == [True]
    assert slots.free == 1


def test_a_wait_for_room_ends_at_its_timeout() -> None:
    slots = FrameSlots(1)
    assert slots.try_acquire()
    started = time.monotonic()
    assert slots.acquire(0.05) is False
    assert time.monotonic() - started < 2


def test_zero_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        FrameSlots(0)
