"""The report's PNG: three panels drawn from FigureData with matplotlib (Agg), an optional extra."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from camera_core.tools.report.figure_data import FigureData

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURE_NAME = "timing_report.png"
INSTALL_HINT = "the figure needs matplotlib: uv sync --extra report (or pip install 'camera-core[report]')"


class FigureUnavailable(Exception):
    """matplotlib is not installed."""


def _matplotlib() -> None:
    try:
        import matplotlib
    except ImportError as exc:
        raise FigureUnavailable(INSTALL_HINT) from exc
    matplotlib.use("Agg", force=True)


def build_figure(data: FigureData) -> Figure:
    """Intervals over time (drops marked), interval histogram, camera-to-camera offset over time."""
    _matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 11), layout="constrained")
    ax_iv, ax_hist, ax_off = fig.subplots(3, 1)
    fig.suptitle(data.title)
    for s in data.intervals:
        ax_iv.plot(s.t_s, s.interval_ms, lw=0.8, label=s.label)
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
        ax_off.plot(o.t_s, o.offset_ms, lw=0.8, label=o.label)
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
