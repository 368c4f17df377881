"""The report's figure: its data marks the injected drops where they were injected, the PNG has
three panels, and without matplotlib the text report still works and says how to get the figure."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import numpy as np
import pytest

from camera_core.cli import main as cli_main
from camera_core.tools.report.figure import FIGURE_NAME, build_figure
from camera_core.tools.report.figure_data import figure_data
from camera_core.tools.report.load import load_session
from tests.report_sessions import EXACT, EXACT_LAST, PERIOD_NS, delivered, drop_runs, exact_session, sensor_ns


def test_figure_data_marks_drops_at_the_injected_frames() -> None:
    data = figure_data(load_session(exact_session()))
    series = {s.camera_id: s for s in data.intervals}
    assert sorted(series) == [0, 1]
    # cam0 lost sequences 50-52 and 200 of 1..300: frame 49 (sequence 53) follows 3 lost, frame 196
    # (sequence 201) follows 1 lost; cam1 lost 120: frame 119 (sequence 121) follows 1 lost.
    assert drop_runs(EXACT[0], EXACT_LAST) == [(49, 3), (196, 1)]
    assert drop_runs(EXACT[1], EXACT_LAST) == [(119, 1)]
    for cam_id, spec in enumerate(EXACT):
        s = series[cam_id]
        runs = drop_runs(spec, EXACT_LAST)
        assert s.drop_frames.tolist() == [frame for frame, _ in runs]
        assert s.drop_counts.tolist() == [lost for _, lost in runs]
        expected_ms = [(1 + lost) * spec.period_ns / 1e6 for _, lost in runs]
        assert s.drop_interval_ms == pytest.approx(expected_ms, abs=1e-5)
        # every other interval is one period
        others = s.interval_ms[~np.isin(s.frame_numbers, s.drop_frames)]
        assert others == pytest.approx(spec.period_ns / 1e6, abs=1e-5)
        assert s.frame_numbers.tolist() == list(range(1, len(delivered(spec, EXACT_LAST))))
    # the drop gaps are left out of the histogram, which counts every other interval
    runs = {f"cam{i}": drop_runs(spec, EXACT_LAST) for i, spec in enumerate(EXACT)}
    intervals = {f"cam{i}": len(delivered(spec, EXACT_LAST)) - 1 for i, spec in enumerate(EXACT)}
    assert data.histogram.left_out == {label: len(r) for label, r in runs.items()}
    counted = {k: int(v.sum()) for k, v in data.histogram.counts.items()}
    assert counted == {label: intervals[label] - len(r) for label, r in runs.items()}
    (offset,) = data.offsets
    assert offset.label == "cam1 - cam0"
    assert offset.offset_ms[0] == pytest.approx((sensor_ns(EXACT[1], 1) - sensor_ns(EXACT[0], 1)) / 1e6, abs=1e-5)
    end_gap_ms = (sensor_ns(EXACT[1], EXACT_LAST) - sensor_ns(EXACT[0], EXACT_LAST)) / 1e6
    assert offset.offset_ms[-1] == pytest.approx(end_gap_ms, abs=1e-5)
    assert offset.t_s[-1] - offset.t_s[0] == pytest.approx((EXACT_LAST - 1) * PERIOD_NS / 1e9, abs=1e-6)


def test_png_is_written_into_the_session_with_three_panels(capsys: pytest.CaptureFixture[str]) -> None:
    import matplotlib.image

    session = exact_session()
    png = session / FIGURE_NAME
    png.unlink(missing_ok=True)
    assert cli_main(["report", str(session)]) == 0
    assert f"figure: {png}" in capsys.readouterr().out
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 600 and image.shape[1] > 600
    fig = build_figure(figure_data(load_session(session)))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "Frame intervals (sensor timestamps)",
        "Frame interval histogram",
        "Camera-to-camera offset (wall clock, matched frames)",
    ]
    panel = fig.axes[0]
    labels = panel.get_legend_handles_labels()[1]
    assert "cam0 drops (4)" in labels and "cam1 drops (1)" in labels
    assert cli_main(["report", str(session), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["figure"] == str(png)


def test_without_matplotlib_the_report_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: object, **kwargs: object) -> object:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    figure = tmp_path / "fig.png"
    assert cli_main(["report", str(exact_session()), "--figure", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "cam0       296" in out
    assert "figure: not written: the figure needs matplotlib: uv sync --extra report" in out
    assert not figure.exists()
    assert cli_main(["report", str(exact_session()), "--figure", str(figure), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["figure"] is None and "pip install 'camera-core[report]'" in report["figure_error"]
