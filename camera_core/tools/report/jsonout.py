"""The timing report as JSON for scripts (schema camera_core.timing_report/1)."""

from __future__ import annotations

import json
import math
from typing import Any

from camera_core.tools.report.model import TimingReport
from camera_core.tools.report.thresholds import Thresholds

SCHEMA = "camera_core.timing_report/1"


def _clean(value: Any) -> Any:
    """NaN/inf become null so every consumer can parse the output."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def report_dict(
    report: TimingReport, limits: Thresholds, violations: list[str], figure: str | None, figure_error: str | None
) -> dict[str, Any]:
    return _clean(
        {
            "schema": SCHEMA,
            **report.as_dict(),
            "thresholds": limits.as_dict(),
            "violations": violations,
            "ok": not violations,
            "figure": figure,
            "figure_error": figure_error,
        }
    )


def format_json(
    report: TimingReport, limits: Thresholds, violations: list[str], figure: str | None, figure_error: str | None
) -> str:
    return json.dumps(report_dict(report, limits, violations, figure, figure_error), indent=2, ensure_ascii=False)
