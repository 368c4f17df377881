"""Timing arithmetic: drops from sensor timestamp gaps, rates, and the boot-time to wall-clock map."""

from __future__ import annotations

import math
import threading
import time
from collections import deque


def drops_between(gap_ns: int, frame_duration_ns: float) -> int:
    """Sensor frames missing in a gap: a gap of k frame durations (rounded) means k-1 drops."""
    if frame_duration_ns <= 0:
        return 0
    return max(0, round(gap_ns / frame_duration_ns) - 1)


class DropCounter:
    """Running drop count over a stream of sensor timestamps."""

    def __init__(self) -> None:
        self.previous_ns: int | None = None
        self.total = 0

    def new_timeline(self) -> None:
        """The camera restarted: its next timestamp starts a new timeline, so the gap to it is no
        drop; the running total is kept."""
        self.previous_ns = None

    def observe(self, sensor_ns: int, frame_duration_ns: float) -> int:
        dropped = 0
        if self.previous_ns is not None:
            dropped = drops_between(sensor_ns - self.previous_ns, frame_duration_ns)
        self.previous_ns = sensor_ns
        self.total += dropped
        return dropped


class RateMeter:
    """Frames per second over a sliding window of timestamps (ns)."""

    def __init__(self, window: int = 31) -> None:
        self._stamps: deque[int] = deque(maxlen=window)

    def add(self, stamp_ns: int) -> None:
        self._stamps.append(stamp_ns)

    @property
    def fps(self) -> float:
        if len(self._stamps) < 2:
            return 0.0
        span = self._stamps[-1] - self._stamps[0]
        return (len(self._stamps) - 1) * 1e9 / span if span > 0 else 0.0


def _measure_boot_to_wall_ns(samples: int = 5) -> int:
    """realtime - boottime, from the tightest of several bracketed readings."""
    best: tuple[int, int] | None = None
    for _ in range(samples):
        before = time.clock_gettime_ns(time.CLOCK_REALTIME)
        boot = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        after = time.clock_gettime_ns(time.CLOCK_REALTIME)
        width = after - before
        if best is None or width < best[0]:
            best = (width, (before + after) // 2 - boot)
    assert best is not None
    return best[1]


class BootToWallClock:
    """Maps CLOCK_BOOTTIME (sensor timestamps) to wall-clock ns; re-measured at most once a second
    so NTP/PTP corrections of the wall clock are followed."""

    def __init__(self, refresh_s: float = 1.0) -> None:
        self._refresh_ns = int(refresh_s * 1e9)
        self._lock = threading.Lock()
        self._offset_ns = _measure_boot_to_wall_ns()
        self._measured_at = time.monotonic_ns()

    @property
    def offset_ns(self) -> int:
        now = time.monotonic_ns()
        if now - self._measured_at >= self._refresh_ns:
            with self._lock:
                self._offset_ns = _measure_boot_to_wall_ns()
                self._measured_at = now
        return self._offset_ns

    def to_wall_ns(self, boot_ns: int) -> int:
        return boot_ns + self.offset_ns


#: How far a synchronized start (`at`) may lie from this host's clock, in seconds: a start is
#: seconds ahead, not days; a time outside this window is a mistake, such as milliseconds sent for
#: seconds.
START_AT_WINDOW_S = 86400.0


def is_finite_number(value: object) -> bool:
    """A number that fits a float: not a boolean, not NaN or infinite, not an integer beyond float
    range (math.isfinite raises OverflowError on those)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return abs(value) < 2**1023
    return math.isfinite(value)


def checked_start_time(value: object, name: str = "at", shown: str | None = None) -> float:
    """`value` as a Unix time in seconds within START_AT_WINDOW_S of this host's clock; ValueError
    saying what is wrong and what is allowed otherwise. `shown`: how to print the value."""
    if shown is None:
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
            shown = f"an integer of {value.bit_length()} bits"
        else:
            shown = repr(value)[:40]
    if not is_finite_number(value) or value <= 0:  # type: ignore[operator]
        raise ValueError(f"'{name}' must be a Unix time in seconds (a positive number), got {shown}")
    offset = float(value) - time.time()  # type: ignore[arg-type]
    if abs(offset) > START_AT_WINDOW_S:
        when = "ahead of" if offset > 0 else "behind"
        raise ValueError(
            f"'{name}' {shown} is {abs(offset) / 86400:.3g} days {when} this host's clock; "
            f"allowed: a Unix time in seconds within {START_AT_WINDOW_S / 3600:g} hours of now"
        )
    return float(value)  # type: ignore[arg-type]
