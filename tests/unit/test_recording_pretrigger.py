"""camera_core/recording/pretrigger.py: the last seconds of encoded frames, kept as whole GOPs."""

from __future__ import annotations

from camera_core.recording.frames import EncodedFrame, FrameMeta
from camera_core.recording.pretrigger import PretriggerBuffer

PERIOD_NS = 100_000_000  # 10 fps, so numbers below read as tenths of a second


def encoded(number: int, keyframe: bool, size: int = 10) -> EncodedFrame:
    meta = FrameMeta(number, number * PERIOD_NS, PERIOD_NS / 1000, 0, number)
    return EncodedFrame(bytes(size), keyframe, meta)


def feed(buffer: PretriggerBuffer, count: int, gop: int = 5, size: int = 10, first: int = 0) -> None:
    for number in range(first, first + count):
        buffer.append(encoded(number, keyframe=number % gop == 0, size=size))


def numbers(frames: list[EncodedFrame]) -> list[int]:
    return [f.meta.number for f in frames]


def test_frames_before_the_first_keyframe_are_not_kept() -> None:
    buffer = PretriggerBuffer(seconds=10, max_bytes=10_000)
    feed(buffer, 8, first=3)  # 3, 4 have no keyframe before them; 5 is one
    assert buffer.frames == 6
    assert numbers(buffer.take_from(cut_ns=7 * PERIOD_NS)) == [5, 6, 7, 8, 9, 10]


def test_the_oldest_gop_goes_once_the_later_ones_cover_the_seconds() -> None:
    buffer = PretriggerBuffer(seconds=1.0, max_bytes=10_000)
    feed(buffer, 23)  # GOPs start at 0, 5, 10, 15, 20; the newest frame is 22 (2.2 s)
    # GOPs from 10 on cover 2.2 - 1.0 = 1.2 s back (frame 12 is needed): 0 and 5 are dropped
    assert buffer.dropped_gops == 2
    assert buffer.frames == 13
    assert buffer.seconds_held == 1.3  # frames 10..22 and the last frame's duration
    assert buffer.stats()["pretrigger_frames"] == 13
    assert buffer.stats()["pretrigger_bytes"] == 130


def test_the_memory_limit_drops_old_gops_but_keeps_the_newest() -> None:
    buffer = PretriggerBuffer(seconds=100.0, max_bytes=120)
    feed(buffer, 20, size=10)  # 4 GOPs of 50 bytes; at most 120 bytes
    assert (buffer.bytes, buffer.dropped_gops) == (100, 2)
    assert numbers(buffer.take_from(cut_ns=0)) == list(range(10, 20))  # the two newest GOPs
    big = PretriggerBuffer(seconds=100.0, max_bytes=10)
    feed(big, 5, size=10)  # one GOP larger than the limit: still kept, as the newest
    assert big.frames == 5


def test_take_from_begins_at_the_newest_keyframe_at_or_before_the_cut_and_empties_the_buffer() -> None:
    buffer = PretriggerBuffer(seconds=100.0, max_bytes=10_000)
    feed(buffer, 18)
    taken = buffer.take_from(cut_ns=12 * PERIOD_NS)
    assert numbers(taken) == list(range(10, 18))
    assert (buffer.frames, buffer.bytes, buffer.seconds_held) == (0, 0, 0.0)
    assert buffer.take_from(cut_ns=10**12) == []


def test_a_cut_before_everything_held_gives_all_from_the_oldest_keyframe() -> None:
    buffer = PretriggerBuffer(seconds=100.0, max_bytes=10_000)
    feed(buffer, 12, first=5)
    assert numbers(buffer.take_from(cut_ns=0)) == list(range(5, 17))
