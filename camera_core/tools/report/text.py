"""The timing report as text for a terminal: a table per take and the offsets between cameras."""

from __future__ import annotations

from camera_core.tools.report.model import PairStats, StreamStats, TimingReport

HEADER = (
    "camera",
    "frames",
    "duration s",
    "fps (target)",
    "drops",
    "longest",
    "interval ms p50/p99/max",
    "jitter µs",
    "clock ppm",
)
RIGHT = {1, 2, 4, 5, 7, 8}


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def stream_row(s: StreamStats, indent: str = "") -> tuple[str, ...]:
    intervals = "/".join(_num(v, ".3f") for v in (s.interval_p50_ms, s.interval_p99_ms, s.interval_max_ms))
    name = f"{indent}cam{s.camera_id}" if not indent else f"{indent}segment {s.segment}"
    return (
        name,
        str(s.frames),
        f"{s.duration_s:.3f}",
        f"{s.effective_fps:.2f} ({s.target_fps:.2f})",
        str(s.drops),
        str(s.longest_drop_run),
        intervals,
        _num(s.jitter_us, ".1f"),
        _num(s.clock_error_ppm, "+.1f"),
    )


def table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    cells = [
        "  ".join(c.rjust(w) if i in RIGHT else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    ]
    return [c.rstrip() for c in cells]


def pair_line(p: PairStats) -> str:
    head = f"cam{p.camera_id}: first frame {_num(p.first_frame_gap_ms, '+.3f')} ms"
    if p.note:
        return f"{head}; {p.note}"
    return (
        f"{head}; offset {_num(p.offset_start_ms, '+.3f')} -> {_num(p.offset_end_ms, '+.3f')} ms over {p.span_s:.1f} s; "
        f"drift {_num(p.drift_ppm, '+.1f')} ppm ({_num(p.offset_change_us, '+.1f')} µs); {p.matched_frames} matched frames"
    )


def format_text(report: TimingReport) -> str:
    n_rec = sum(len(t.recordings) for t in report.takes)
    host = f"host {report.host}, " if report.host else ""
    lines = [f"Timing report: {report.session} ({host}{n_rec} recording(s) in {len(report.takes)} take(s))"]
    for take in report.takes:
        lines += ["", f"Take {take.take}"]
        rows: list[tuple[str, ...]] = [HEADER]
        for rec in take.recordings:
            rows.append(stream_row(rec.total))
            rows += [stream_row(s, indent="  ") for s in rec.segments]
        lines += ["  " + line for line in table(rows)]
        if take.pairs:
            lines.append(f"  Between cameras (wall clock, against cam{take.pairs[0].reference_camera}):")
            lines += ["    " + pair_line(p) for p in take.pairs]
    if report.warnings:
        lines += ["", *[f"warning: {w}" for w in report.warnings]]
    return "\n".join(lines)


LEGEND = """\
fps      frames / duration (first to last timestamp + one period); drops lower it
interval sensor timestamp step to the previous frame, drop gaps included
jitter   std of each interval's deviation from (1 + drops) x the camera's mean period
clock    the camera's mean frame period against the nominal one, ppm
offset   a camera's wall-clock time minus the reference's, frames matched by sensor index
drift    how fast that offset changes, µs per second (= ppm)
(docs/timing.md explains each figure)"""
