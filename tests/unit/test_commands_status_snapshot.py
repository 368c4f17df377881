"""The status snapshot get_status is served from (commands/status_snapshot.py): refreshed by its
own thread, rebuilt after an event, never replaced by a build that began earlier."""

from __future__ import annotations

import threading
from typing import Any

from camera_core.commands.status_snapshot import StatusSnapshot


class Counter:
    """A status builder whose every build returns the next number; `hold` can stop one build midway."""

    def __init__(self) -> None:
        self.n = 0
        self.built = threading.Condition()
        self.hold: threading.Event | None = None
        self.entered = threading.Event()

    def __call__(self) -> dict[str, Any]:
        with self.built:
            self.n += 1
            n = self.n
        if self.hold is not None and n == 2:
            self.entered.set()
            assert self.hold.wait(10)
        with self.built:
            self.built.notify_all()
        return {"n": n, "cameras": []}


def test_latest_is_a_copy_and_an_event_makes_it_be_built_anew() -> None:
    build = Counter()
    snapshot = StatusSnapshot(build, interval=3600)
    first = snapshot.latest()
    first["protocol"] = {}  # the caller's additions never reach the snapshot
    assert snapshot.latest() == {"n": 1, "cameras": []}
    snapshot.invalidate()
    assert snapshot.latest()["n"] == 2 and snapshot.latest()["n"] == 2


def test_the_thread_refreshes_it_periodically() -> None:
    build = Counter()
    snapshot = StatusSnapshot(build, interval=0.01).start()
    try:
        with build.built:
            assert build.built.wait_for(lambda: build.n >= 4, 10)
        assert snapshot.latest()["n"] >= 3
    finally:
        snapshot.stop()


def test_a_build_begun_earlier_never_replaces_a_newer_one() -> None:
    build = Counter()
    snapshot = StatusSnapshot(build, interval=3600)
    snapshot.refresh()  # n = 1
    build.hold = threading.Event()
    slow = threading.Thread(target=snapshot.refresh)  # n = 2, held midway
    slow.start()
    assert build.entered.wait(10)
    snapshot.refresh()  # n = 3, begun later, stored first
    build.hold.set()
    slow.join(10)
    assert snapshot.latest()["n"] == 3


class FakeClock:
    """A monotonic clock the test moves; every read is counted and announced."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.reads = 0
        self.read = threading.Condition()

    def __call__(self) -> float:
        with self.read:
            self.reads += 1
            self.read.notify_all()
            return self.now


def test_nothing_is_built_while_nobody_asks_and_the_next_ask_builds_anew() -> None:
    build, clock = Counter(), FakeClock()
    snapshot = StatusSnapshot(build, interval=0.01, idle_after=5.0, clock=clock).start()
    try:
        assert build.n == 1  # the first status, built at start
        clock.now += 6.0  # nobody asked for longer than idle_after
        with clock.read:
            seen = clock.reads
            assert clock.read.wait_for(lambda: clock.reads >= seen + 5, 10)  # the thread ticked 5 times
        assert build.n == 1
        assert snapshot.latest()["n"] == 2  # older than 3 intervals: built for this ask
        with build.built:  # asked just now: the periodic builds resume
            assert build.built.wait_for(lambda: build.n >= 4, 10)
    finally:
        snapshot.stop()


def test_a_recent_snapshot_is_served_without_a_build() -> None:
    build, clock = Counter(), FakeClock()
    snapshot = StatusSnapshot(build, interval=0.1, clock=clock)
    assert snapshot.latest()["n"] == 1
    clock.now += 0.25  # younger than 3 intervals
    assert snapshot.latest()["n"] == 1 and snapshot.latest_json() == ""
    clock.now += 0.1
    assert snapshot.latest()["n"] == 2
