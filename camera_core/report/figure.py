"""The report's PNG: three panels drawn from FigureData with matplotlib (Agg), an optional extra."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from camera_core.report.figure_data import FigureData

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURE_NAME = "timing_report.png"
INSTALL_HINT = "the figure needs matplotlib: uv sync --extra report (or pip install 'camera-core[report]')"


#: Most points a line is drawn with: a long recording's series is drawn as its per-column minimum
#: and maximum (the same picture at 1000 pixels across, at a fraction of the time and memory).
MAX_LINE_POINTS = 4000


class FigureUnavailable(Exception):
    """matplotlib is not installed."""


def _matplotlib() -> None:
    try:
        import matplotlib
    except ImportError as exc:
        raise FigureUnavailable(INSTALL_HINT) from exc
    matplotlib.use("Agg", force=True)


def envelope(x: np.ndarray, y: np.ndarray, points: int = MAX_LINE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """`x`, `y` thinned to about `points` points for a line plot: per bucket of consecutive
    samples its minimum and maximum at the bucket's first x, so every spike still shows."""
    if y.size <= points:
        return x, y
    starts = np.linspace(0, y.size, points // 2, endpoint=False).astype(np.intp)
    low = np.minimum.reduceat(y, starts)
    high = np.maximum.reduceat(y, starts)
    return np.repeat(x[starts], 2), np.column_stack((low, high)).ravel()


def build_figure(data: FigureData) -> Figure:
    """Intervals over time (drops marked), interval histogram, camera-to-camera offset over time."""
    _matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 11), layout="constrained")
    ax_iv, ax_hist, ax_off = fig.subplots(3, 1)
    fig.suptitle(data.title)
    for s in data.intervals:
        ax_iv.plot(*envelope(s.t_s, s.interval_ms), lw=0.8, label=s.label)
        if s.drop_frames.size:
            ax_iv.scatter(
                s.drop_t_s,
                s.drop_interval_ms,
                marker="x",
                color="red",
                zorder=3,
                label=f"{s.label} drops ({int(s.drop_counts.sum())})",
            )
    for nominal in sorted({s.nominal_ms for s in data.intervals}):
        ax_iv.axhline(nominal, color="grey", ls="--", lw=0.8)
        ax_hist.axvline(nominal, color="grey", ls="--", lw=0.8)
    ax_iv.set(title="Frame intervals (sensor timestamps)", xlabel="time since first frame (s)", ylabel="interval (ms)")
    h = data.histogram
    for label, counts in h.counts.items():
        extra = f", {h.left_out[label]} drop gap(s) off scale" if h.left_out.get(label) else ""
        ax_hist.stairs(counts, h.edges_ms, label=f"{label}{extra}")
    ax_hist.set(title="Frame interval histogram", xlabel="interval (ms)", ylabel="frames")
    for o in data.offsets:
        ax_off.plot(*envelope(o.t_s, o.offset_ms), lw=0.8, label=o.label)
    if not data.offsets:
        ax_off.text(0.5, 0.5, "one camera: no offset to show", ha="center", va="center", transform=ax_off.transAxes)
    ax_off.set(title="Camera-to-camera offset (wall clock, matched frames)", xlabel="time since first frame (s)")
    ax_off.set_ylabel("offset (ms)")
    for ax in (ax_iv, ax_hist, ax_off):
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize="small")
    return fig


def write_figure(data: FigureData, path: Path) -> Path:
    """Render to a PNG; FigureUnavailable (with how to install) when matplotlib is missing."""
    fig = build_figure(data)
    fig.savefig(path, dpi=100)
    return path
