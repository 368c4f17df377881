"""The timing report's data model: per recording (and segment) figures and per take the offsets
between cameras, computed from a session's timing CSVs and manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from camera_core.tools.report import stats
from camera_core.tools.report.load import Recording, SessionData, TimingSeries, load_session

#: Cameras whose nominal frame periods differ by more than this are not matched frame by frame.
RATE_MATCH_TOLERANCE = 1e-3


@dataclass(slots=True)
class StreamStats:
    """The figures of one recording or one segment of it."""

    camera_id: int
    take: str
    recording: str
    segment: int | None
    timing_csv: str
    video: str | None
    frames: int
    duration_s: float
    target_fps: float
    effective_fps: float
    drops: int
    longest_drop_run: int
    drop_events: int
    interval_p50_ms: float | None
    interval_p99_ms: float | None
    interval_max_ms: float | None
    jitter_us: float | None
    clock_error_ppm: float | None
    first_sensor_timestamp_ns: int | None
    first_wall_clock_ns: int | None
    skipped_rows: int = 0


@dataclass(slots=True)
class RecordingReport:
    total: StreamStats
    #: Per segment, only when the recording was split into more than one file.
    segments: list[StreamStats] = field(default_factory=list)


@dataclass(slots=True)
class PairStats:
    """Camera `camera_id` against the take's reference camera, on the wall clock."""

    reference_camera: int
    camera_id: int
    first_frame_gap_ms: float | None
    matched_frames: int
    offset_start_ms: float | None
    offset_end_ms: float | None
    drift_ppm: float | None
    offset_change_us: float | None
    span_s: float
    note: str | None = None


@dataclass(slots=True)
class TakeReport:
    take: str
    recordings: list[RecordingReport]
    pairs: list[PairStats]


@dataclass(slots=True)
class TimingReport:
    session: str
    directory: str
    host: str | None
    takes: list[TakeReport]
    warnings: list[str]

    def streams(self) -> list[StreamStats]:
        """Every recording's totals and every segment."""
        return [s for t in self.takes for r in t.recordings for s in [r.total, *r.segments]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def stream_stats(series: TimingSeries) -> StreamStats:
    period = series.period_ns
    fitted = stats.fitted_period_ns(series.sensor_ns, stats.frame_index(series.dropped))
    summary = stats.interval_summary(series.sensor_ns, series.dropped, fitted or period)
    duration = stats.duration_s(series.sensor_ns, period)
    dropped = series.dropped  # the first row's: the gap to the previous segment (see Recording.joined_segments)
    has_frames = series.frames > 0
    return StreamStats(
        camera_id=series.camera_id,
        take=series.take,
        recording=series.recording,
        segment=series.segment,
        timing_csv=series.csv_name,
        video=series.video,
        frames=series.frames,
        duration_s=duration,
        target_fps=series.target_fps,
        effective_fps=series.frames / duration if duration > 0 else 0.0,
        drops=int(dropped.sum()),
        longest_drop_run=stats.longest_run(dropped),
        drop_events=int((dropped > 0).sum()),
        interval_p50_ms=summary.p50_ms if summary else None,
        interval_p99_ms=summary.p99_ms if summary else None,
        interval_max_ms=summary.max_ms if summary else None,
        jitter_us=summary.jitter_us if summary else None,
        clock_error_ppm=stats.clock_error_ppm(fitted, period),
        first_sensor_timestamp_ns=int(series.sensor_ns[0]) if has_frames else None,
        first_wall_clock_ns=int(series.wall_ns[0]) if has_frames else None,
        skipped_rows=series.skipped_rows,
    )


def recording_report(rec: Recording) -> RecordingReport:
    total = stream_stats(rec.combined())
    segments = [stream_stats(s) for s in rec.joined_segments()] if len(rec.segments) > 1 else []
    return RecordingReport(total, segments)


def matched_offsets(a: TimingSeries, b: TimingSeries) -> stats.PairOffsets | None:
    """B minus A for frames of the same sensor index; None when the rates differ or a side is empty."""
    if not a.frames or not b.frames or abs(a.period_ns / b.period_ns - 1) > RATE_MATCH_TOLERANCE:
        return None
    return stats.pair_offsets(a.wall_ns, stats.frame_index(a.dropped), b.wall_ns, stats.frame_index(b.dropped))


def pair_stats(a: TimingSeries, b: TimingSeries) -> PairStats:
    gap = (int(b.wall_ns[0]) - int(a.wall_ns[0])) / 1e6 if a.frames and b.frames else None
    offsets = matched_offsets(a, b)
    if offsets is None or offsets.offset_ns.size == 0:
        note = "no frames to match" if not a.frames or not b.frames else "different frame rates: not matched"
        return PairStats(a.camera_id, b.camera_id, gap, 0, None, None, None, None, 0.0, note)
    drift = stats.drift_ppm(offsets)
    span = float(offsets.t_s[-1] - offsets.t_s[0])
    return PairStats(
        reference_camera=a.camera_id,
        camera_id=b.camera_id,
        first_frame_gap_ms=gap,
        matched_frames=int(offsets.offset_ns.size),
        offset_start_ms=float(offsets.offset_ns[0]) / 1e6,
        offset_end_ms=float(offsets.offset_ns[-1]) / 1e6,
        drift_ppm=drift,
        offset_change_us=drift * span if drift is not None else None,
        span_s=span,
    )


def take_pairs(recordings: list[Recording]) -> list[PairStats]:
    """Every other camera of a take against the lowest-numbered one."""
    if len(recordings) < 2:
        return []
    ref = recordings[0].combined()
    return [pair_stats(ref, other.combined()) for other in recordings[1:]]


def build_report(data: SessionData) -> TimingReport:
    takes = [
        TakeReport(take, [recording_report(r) for r in recs], take_pairs(recs)) for take, recs in data.takes().items()
    ]
    host = data.manifest.get("host") if data.manifest else None
    return TimingReport(
        session=data.directory.name,
        directory=str(data.directory),
        host=str(host) if host else None,
        takes=takes,
        warnings=list(data.warnings),
    )


def report_for(directory: Path) -> tuple[TimingReport, SessionData]:
    """Load a session folder and compute its report (ReportInputError when it has no timing CSVs)."""
    data = load_session(directory)
    return build_report(data), data
