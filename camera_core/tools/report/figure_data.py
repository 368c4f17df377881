"""What the report's figure plots, as data: per recording the frame intervals over time with the
drops marked, a histogram of the intervals, and per camera pair the offset over time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from camera_core.tools.report import stats
from camera_core.tools.report.load import SessionData
from camera_core.tools.report.model import matched_offsets

HISTOGRAM_BINS = 60
#: Most points a plotted line keeps: a longer series is kept as its per-bucket minimum and maximum
#: (the same picture at 1000 pixels across; a 10-hour recording's million points would cost
#: seconds and hundreds of MB to draw).
MAX_LINE_POINTS = 4000


@dataclass(slots=True)
class IntervalSeries:
    """One recording: each interval ends at a frame (row 1 on); drops are marked at the frame
    after the gap, the row whose dropped_since_last is > 0."""

    label: str
    camera_id: int
    take: str
    nominal_ms: float
    t_s: np.ndarray  #: wall-clock time of each interval's end frame since the session's first frame
    interval_ms: np.ndarray
    frame_numbers: np.ndarray  #: frame number of each interval's end frame (of each point once thinned)
    drop_frames: np.ndarray  #: frame numbers that follow a gap
    drop_counts: np.ndarray  #: sensor frames lost before each of them
    drop_t_s: np.ndarray
    drop_interval_ms: np.ndarray


@dataclass(slots=True)
class Histogram:
    edges_ms: np.ndarray
    counts: dict[str, np.ndarray]  #: per series label
    left_out: dict[str, int]  #: intervals past the last edge (drop gaps), per label


@dataclass(slots=True)
class OffsetSeries:
    label: str
    t_s: np.ndarray  #: time of the reference camera's matched frame since the session's first frame
    offset_ms: np.ndarray


@dataclass(slots=True)
class FigureData:
    title: str
    intervals: list[IntervalSeries]
    histogram: Histogram
    offsets: list[OffsetSeries]


def _session_start_ns(data: SessionData) -> int:
    firsts = [int(s.wall_ns[0]) for s in (r.combined() for r in data.recordings) if s.frames]
    return min(firsts) if firsts else 0


def interval_series(data: SessionData, start_ns: int) -> list[IntervalSeries]:
    several_takes = len(data.takes()) > 1
    out = []
    for rec in data.recordings:
        s = rec.combined()
        if s.frames < 2:
            continue
        t = (s.wall_ns[1:] - start_ns) / 1e9
        iv = stats.intervals_ns(s.sensor_ns) / 1e6
        rows = np.nonzero(s.dropped[1:] > 0)[0]
        label = f"cam{rec.camera_id}" + (f" {rec.take}" if several_takes else "")
        out.append(
            IntervalSeries(
                label=label,
                camera_id=rec.camera_id,
                take=rec.take,
                nominal_ms=s.period_ns / 1e6,
                t_s=t,
                interval_ms=iv,
                frame_numbers=s.frame_number[1:],
                drop_frames=s.frame_number[1:][rows],
                drop_counts=s.dropped[1:][rows],
                drop_t_s=t[rows],
                drop_interval_ms=iv[rows],
            )
        )
    return out


def histogram(series: list[IntervalSeries]) -> Histogram:
    """Shared bins over the intervals that follow no drop; drop gaps are counted as left out."""
    if not series:
        return Histogram(np.zeros(0), {}, {})
    ranges = [_regular_range(s) for s in series]
    kept = [r for r in ranges if r is not None]
    if not kept:
        kept = [(float(s.interval_ms.min()), float(s.interval_ms.max())) for s in series]
    low, high = min(r[0] for r in kept), max(r[1] for r in kept)
    margin = max((high - low) * 0.05, 0.005)
    edges = np.linspace(low - margin, high + margin, HISTOGRAM_BINS + 1)
    counts = {s.label: np.histogram(s.interval_ms, bins=edges)[0] for s in series}
    left_out = {s.label: int(((s.interval_ms < edges[0]) | (s.interval_ms > edges[-1])).sum()) for s in series}
    return Histogram(edges, counts, left_out)


def _regular_range(s: IntervalSeries) -> tuple[float, float] | None:
    """Smallest and largest interval that follows no drop; None when every one follows a drop."""
    regular = s.interval_ms[~np.isin(s.frame_numbers, s.drop_frames)]
    return (float(regular.min()), float(regular.max())) if regular.size else None


def offset_series(data: SessionData, start_ns: int) -> list[OffsetSeries]:
    out = []
    several_takes = len(data.takes()) > 1
    for take, recs in data.takes().items():
        if len(recs) < 2:
            continue
        ref = recs[0].combined()
        for other in recs[1:]:
            offsets = matched_offsets(ref, other.combined())
            if offsets is None or offsets.offset_ns.size == 0:
                continue
            t = (ref.wall_ns[offsets.a_frames] - start_ns) / 1e9
            label = f"cam{other.camera_id} - cam{ref.camera_id}" + (f" {take}" if several_takes else "")
            out.append(OffsetSeries(label, t, offsets.offset_ns / 1e6))
    return out


def envelope_buckets(size: int, points: int = MAX_LINE_POINTS) -> np.ndarray | None:
    """First sample of each bucket when `size` samples are more than `points`, else None."""
    if size <= points:
        return None
    return np.linspace(0, size, points // 2, endpoint=False).astype(np.intp)


def envelope(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per bucket its minimum then its maximum, so every spike still shows."""
    return np.column_stack((np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts))).ravel()


def thinned(s: IntervalSeries) -> IntervalSeries:
    """The series with at most MAX_LINE_POINTS plotted points (drop marks all kept)."""
    starts = envelope_buckets(s.interval_ms.size)
    if starts is None:
        return s
    s.t_s = np.repeat(s.t_s[starts], 2)
    s.frame_numbers = np.repeat(s.frame_numbers[starts], 2)
    s.interval_ms = envelope(s.interval_ms, starts)
    return s


def thinned_offsets(o: OffsetSeries) -> OffsetSeries:
    starts = envelope_buckets(o.offset_ms.size)
    if starts is None:
        return o
    return OffsetSeries(o.label, np.repeat(o.t_s[starts], 2), envelope(o.offset_ms, starts))


def figure_data(data: SessionData) -> FigureData:
    """What the figure plots; the histogram counts every interval, the lines are thinned."""
    start = _session_start_ns(data)
    series = interval_series(data, start)
    counts = histogram(series)
    series = [thinned(s) for s in series]
    return FigureData(
        title=f"Frame timing: {data.directory.name}",
        intervals=series,
        histogram=counts,
        offsets=[thinned_offsets(o) for o in offset_series(data, start)],
    )
