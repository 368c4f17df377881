"""Timing arithmetic of the report on arrays: frame indices, intervals, jitter, clock rate and the
offset between two cameras from matched frames. Every function is pure and works on numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def frame_index(dropped: np.ndarray) -> np.ndarray:
    """Sensor frame index of each recorded frame, 0 for the first: each frame is 1 + its drops after
    the previous one. Two cameras' frames with the same index were meant to be exposed together."""
    if dropped.size == 0:
        return np.zeros(0, dtype=np.int64)
    steps = 1 + dropped.astype(np.int64)
    steps[0] = 0
    return np.cumsum(steps)


def intervals_ns(sensor_ns: np.ndarray) -> np.ndarray:
    """Sensor timestamp difference of each frame to the previous one (frame 1 on)."""
    return np.diff(sensor_ns.astype(np.int64))


def duration_s(sensor_ns: np.ndarray, period_ns: float) -> float:
    """Time the frames cover: first to last timestamp plus one frame period (as in the manifest)."""
    if sensor_ns.size == 0:
        return 0.0
    return (int(sensor_ns[-1]) - int(sensor_ns[0]) + period_ns) / 1e9


def longest_run(dropped: np.ndarray) -> int:
    """Most sensor frames lost in a row (one gap)."""
    return int(dropped.max()) if dropped.size else 0


@dataclass(frozen=True, slots=True)
class IntervalSummary:
    p50_ms: float
    p99_ms: float
    max_ms: float
    jitter_us: float


def fitted_period_ns(sensor_ns: np.ndarray, index: np.ndarray) -> float | None:
    """The camera's real mean frame period: a straight-line fit (least squares) of timestamp over
    frame index, as the closed-form slope so a long recording needs no n-by-2 matrix."""
    if index.size < 2 or index[-1] == index[0]:
        return None
    return _slope((index - index[0]).astype(np.float64), (sensor_ns - sensor_ns[0]).astype(np.float64))


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y over x, in closed form (x and y are centred in place: pass copies)."""
    x -= x.mean()
    y -= y.mean()
    return float(np.dot(x, y) / np.dot(x, x))


def interval_summary(sensor_ns: np.ndarray, dropped: np.ndarray, mean_period_ns: float) -> IntervalSummary | None:
    """Percentiles of the frame intervals (drop gaps included) and the jitter: the standard deviation
    of each interval's deviation from (1 + drops) periods, the period being the camera's measured
    mean one (fitted_period_ns, the nominal one when it cannot be fitted), so neither drops nor a
    rate error count as jitter."""
    iv = intervals_ns(sensor_ns)
    if iv.size == 0:
        return None
    deviation = iv - (1 + dropped[1:]) * mean_period_ns
    p50, p99 = np.percentile(iv, [50, 99])
    return IntervalSummary(
        p50_ms=float(p50) / 1e6,
        p99_ms=float(p99) / 1e6,
        max_ms=float(iv.max()) / 1e6,
        jitter_us=float(np.std(deviation)) / 1e3,
    )


def clock_error_ppm(fitted_ns: float | None, period_ns: float) -> float | None:
    """How far the camera's measured frame period (fitted_period_ns) is from the nominal one, in
    parts per million; positive = frames come slower than nominal."""
    return None if fitted_ns is None else (fitted_ns / period_ns - 1.0) * 1e6


@dataclass(frozen=True, slots=True)
class PairOffsets:
    """Camera B minus camera A on the wall clock, for frames of the same index."""

    t_s: np.ndarray  #: time of each matched frame since A's first frame
    offset_ns: np.ndarray
    a_frames: np.ndarray  #: frame numbers (rows) of A
    b_frames: np.ndarray


def pair_offsets(a_wall: np.ndarray, a_index: np.ndarray, b_wall: np.ndarray, b_index: np.ndarray) -> PairOffsets:
    """Match frames of two cameras by sensor frame index (counted from each one's first recorded
    frame) and give B's wall-clock time minus A's for each match."""
    ia, ib = _matches(a_index, b_index)
    offset = b_wall[ib].astype(np.int64)
    offset -= a_wall[ia]
    t = np.zeros(0)
    if a_wall.size:
        start = a_wall[ia]
        start -= a_wall[0]
        t = start.astype(np.float64)
        del start
        t /= 1e9
    return PairOffsets(t_s=t, offset_ns=offset, a_frames=ia, b_frames=ib)


def _matches(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in `a` and in `b` of the values both hold. Frame indices only ever grow, so a
    binary search of `b` finds them without sorting copies of both; any other input is intersected."""
    if a.size == 0 or b.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    if not (_increasing(a) and _increasing(b)):
        _, ia, ib = np.intersect1d(a, b, assume_unique=True, return_indices=True)
        return ia, ib
    pos = np.searchsorted(b, a)
    np.minimum(pos, b.size - 1, out=pos)
    found = b[pos] == a
    return np.flatnonzero(found), pos[found]


def _increasing(values: np.ndarray) -> bool:
    return bool((values[1:] > values[:-1]).all())


def drift_ppm(offsets: PairOffsets) -> float | None:
    """Slope of the offset over time (µs per second = ppm): how fast the two clocks walk apart."""
    if offsets.t_s.size < 2 or offsets.t_s[-1] == offsets.t_s[0]:
        return None
    slope_ns_per_s = _slope(offsets.t_s.copy(), offsets.offset_ns.astype(np.float64))
    return slope_ns_per_s / 1e3
