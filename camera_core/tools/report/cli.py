"""`python -m camera_core report SESSION_DIR`: a session's frame timing at a glance.

Exit code 0 when every figure is within the limits given, 1 when one is over, 2 for bad input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from camera_core.tools.report.figure import FIGURE_NAME, FigureUnavailable, write_figure
from camera_core.tools.report.figure_data import FigureData, figure_data
from camera_core.tools.report.jsonout import format_json
from camera_core.tools.report.load import ReportInputError
from camera_core.tools.report.model import report_for
from camera_core.tools.report.text import LEGEND, format_text
from camera_core.tools.report.thresholds import Thresholds, violations

EXIT_OK, EXIT_OVER_LIMIT, EXIT_BAD_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m camera_core report",
        description="Frame timing of a session: per camera and segment frames, duration, fps, drops, "
        "interval percentiles, jitter, and the offset and drift between cameras; writes a PNG figure.",
        epilog="Exit code: 0 within the limits, 1 when a limit is exceeded, 2 for bad input.",
    )
    p.add_argument("session", type=Path, help="session folder (holds *_frame_timing.csv and manifest.json)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--no-figure", action="store_true", help="do not write the PNG figure")
    p.add_argument(
        "--figure", type=Path, default=None, metavar="PATH", help=f"PNG path (default: SESSION/{FIGURE_NAME})"
    )
    p.add_argument(
        "--max-drops", type=int, default=None, metavar="N", help="fail when a recording dropped more than N frames"
    )
    p.add_argument(
        "--max-gap-ms", type=float, default=None, metavar="X", help="fail when a frame interval exceeds X ms"
    )
    p.add_argument(
        "--max-jitter-us", type=float, default=None, metavar="X", help="fail when a recording's jitter exceeds X µs"
    )
    p.add_argument(
        "--max-start-gap-ms",
        type=float,
        default=None,
        metavar="X",
        help="fail when cameras' first frames are more than X ms apart",
    )
    p.add_argument(
        "--max-drift-ppm",
        type=float,
        default=None,
        metavar="X",
        help="fail when two cameras' clocks drift apart faster than X ppm",
    )
    return p


def _figure(data: FigureData, path: Path) -> tuple[str | None, str | None]:
    try:
        return str(write_figure(data, path)), None
    except FigureUnavailable as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"cannot write {path}: {exc}"


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    limits = Thresholds(args.max_drops, args.max_gap_ms, args.max_jitter_us, args.max_start_gap_ms, args.max_drift_ppm)
    try:
        report, data = report_for(args.session)
    except ReportInputError as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    over = violations(report, limits)
    plotted = None if args.no_figure else figure_data(data)
    del data  # a long session's arrays: the figure needs only what it plots
    figure, figure_error = (
        (None, None) if plotted is None else _figure(plotted, args.figure or args.session / FIGURE_NAME)
    )
    if args.json:
        print(format_json(report, limits, over, figure, figure_error))
    else:
        print(format_text(report))
        print(f"\n{LEGEND}")
        if figure:
            print(f"figure: {figure}")
        elif figure_error:
            print(f"figure: not written: {figure_error}")
        if limits.as_dict():
            print("\n" + ("\n".join(f"OVER LIMIT: {v}" for v in over) if over else "within limits"))
    return EXIT_OVER_LIMIT if over else EXIT_OK
