"""camera_core/latest.py (camera_core/pipeline/latest.py after issue 13's move): the latest-frame slot."""

from __future__ import annotations

import threading

from camera_core.pipeline.latest import LatestSlot


def test_an_empty_slot_has_version_zero_and_nothing_in_it() -> None:
    slot: LatestSlot[str] = LatestSlot()
    assert slot.get() == (0, None)
    assert slot.version == 0


def test_a_slow_consumer_gets_the_newest_and_can_count_what_it_skipped() -> None:
    slot: LatestSlot[int] = LatestSlot()
    for frame in range(5):
        slot.put(frame)
    seen_version = 1  # the consumer last took version 1
    version, value = slot.wait_newer(seen_version, timeout=0)
    assert (version, value) == (5, 4)


def test_wait_newer_returns_at_once_when_something_newer_is_there() -> None:
    slot: LatestSlot[str] = LatestSlot()
    slot.put("a")
    assert slot.wait_newer(0, timeout=30) == (1, "a")


def test_wait_newer_times_out_with_the_current_value() -> None:
    slot: LatestSlot[str] = LatestSlot()
    slot.put("a")
    assert slot.wait_newer(1, timeout=0.01) == (1, "a")


def test_a_put_from_another_thread_wakes_a_waiting_consumer() -> None:
    slot: LatestSlot[str] = LatestSlot()
    got: list[tuple[int, str | None]] = []
    waiting = threading.Thread(target=lambda: got.append(slot.wait_newer(0, timeout=30)))
    waiting.start()
    slot.put("frame")
    waiting.join(10)
    assert got == [(1, "frame")]


def test_close_wakes_a_waiting_consumer_without_a_new_value() -> None:
    slot: LatestSlot[str] = LatestSlot()
    got: list[tuple[int, str | None]] = []
    waiting = threading.Thread(target=lambda: got.append(slot.wait_newer(0, timeout=30)))
    waiting.start()
    slot.close()
    waiting.join(10)
    assert not waiting.is_alive() and got == [(0, None)]
    assert slot.wait_newer(0, timeout=30) == (0, None)  # closed: never blocks again
