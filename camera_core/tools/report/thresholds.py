"""Limits a take must keep (given on the command line) and the violations a report shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from camera_core.tools.report.model import TimingReport


@dataclass(frozen=True, slots=True)
class Thresholds:
    """None = not checked."""

    max_drops: int | None = None
    max_gap_ms: float | None = None
    max_jitter_us: float | None = None
    max_start_gap_ms: float | None = None
    max_drift_ppm: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def violations(report: TimingReport, limits: Thresholds) -> list[str]:
    """One line per figure over its limit, naming the take, camera and segment."""
    out: list[str] = []
    for take in report.takes:
        for rec in take.recordings:
            s = rec.total  # segments add up to it; each limit is checked once per recording
            where = f"take {take.take} cam{s.camera_id}"
            if limits.max_drops is not None and s.drops > limits.max_drops:
                out.append(f"{where}: {s.drops} dropped frames > --max-drops {limits.max_drops}")
            gap = s.interval_max_ms
            if limits.max_gap_ms is not None and gap is not None and gap > limits.max_gap_ms:
                out.append(f"{where}: longest frame interval {gap:.3f} ms > --max-gap-ms {limits.max_gap_ms:g}")
            jitter = s.jitter_us
            if limits.max_jitter_us is not None and jitter is not None and jitter > limits.max_jitter_us:
                out.append(f"{where}: jitter {jitter:.1f} µs > --max-jitter-us {limits.max_jitter_us:g}")
        for p in take.pairs:
            where = f"take {take.take} cam{p.camera_id} vs cam{p.reference_camera}"
            gap = p.first_frame_gap_ms
            if limits.max_start_gap_ms is not None and gap is not None and abs(gap) > limits.max_start_gap_ms:
                out.append(
                    f"{where}: first frames {gap:+.3f} ms apart > --max-start-gap-ms {limits.max_start_gap_ms:g}"
                )
            if limits.max_drift_ppm is not None and p.drift_ppm is not None and abs(p.drift_ppm) > limits.max_drift_ppm:
                out.append(f"{where}: clock drift {p.drift_ppm:+.1f} ppm > --max-drift-ppm {limits.max_drift_ppm:g}")
    return out
