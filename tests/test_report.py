"""The timing report's figures, text and JSON, checked against what was injected into sim cameras."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from camera_core.cli import main as cli_main
from camera_core.tools.report.figure import FIGURE_NAME
from tests.report_sessions import (
    EXACT,
    EXACT_LAST,
    JITTER,
    JITTER_LAST,
    PERIOD_NS,
    delivered,
    drop_runs,
    exact_session,
    jitter_session,
    sensor_ns,
)

T_MS = PERIOD_NS / 1e6


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = cli_main(["report", *args, "--json", "--no-figure"])
    return code, json.loads(capsys.readouterr().out)


def totals(report: dict) -> dict[int, dict]:
    (take,) = report["takes"]
    return {r["total"]["camera_id"]: r["total"] for r in take["recordings"]}


def test_exact_session_figures_per_camera(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, str(exact_session()))
    assert code == 0 and report["ok"] and report["violations"] == []
    cams = totals(report)
    assert sorted(cams) == [0, 1]
    for cam_id, spec in enumerate(EXACT):
        s = cams[cam_id]
        frames = len(delivered(spec, EXACT_LAST))
        runs = [lost for _, lost in drop_runs(spec, EXACT_LAST)]
        # first to last timestamp (sequences 1..last) plus one nominal period
        duration = (sensor_ns(spec, EXACT_LAST) - sensor_ns(spec, 1) + PERIOD_NS) / 1e9
        assert s["frames"] == frames
        assert s["drops"] == len(spec.drops) == sum(runs)
        assert s["longest_drop_run"] == max(runs)
        assert s["drop_events"] == len(runs)
        assert s["target_fps"] == 30.0
        assert s["duration_s"] == pytest.approx(duration, abs=1e-6)
        assert s["effective_fps"] == pytest.approx(frames / duration, rel=1e-6)
        assert s["interval_p50_ms"] == pytest.approx(spec.period_ns / 1e6, abs=1e-5)
        assert s["interval_p99_ms"] == pytest.approx(spec.period_ns / 1e6, abs=1e-5)
        assert s["interval_max_ms"] == pytest.approx((1 + max(runs)) * spec.period_ns / 1e6, abs=1e-5)
        assert s["jitter_us"] == pytest.approx(0.0, abs=0.01)
        assert s["clock_error_ppm"] == pytest.approx(spec.drift_ppm, abs=0.05)
    assert cams[0]["effective_fps"] == pytest.approx(29.6, abs=1e-6)  # 296 frames in exactly 10 s


def test_exact_session_offset_and_drift_between_cameras(capsys: pytest.CaptureFixture[str]) -> None:
    _, report = run_json(capsys, str(exact_session()))
    (pair,) = report["takes"][0]["pairs"]
    a, b = EXACT
    assert (pair["reference_camera"], pair["camera_id"]) == (0, 1)
    start_gap_ms = (sensor_ns(b, 1) - sensor_ns(a, 1)) / 1e6  # 5 ms + one period's 100 ppm
    end_gap_ms = (sensor_ns(b, EXACT_LAST) - sensor_ns(a, EXACT_LAST)) / 1e6
    assert pair["first_frame_gap_ms"] == pytest.approx(start_gap_ms, abs=1e-5)
    assert pair["offset_start_ms"] == pytest.approx(start_gap_ms, abs=1e-5)
    assert pair["offset_end_ms"] == pytest.approx(end_gap_ms, abs=1e-5)
    assert end_gap_ms == pytest.approx(6.0, abs=1e-6)  # 5 ms + 300 frames x 3.33 µs
    assert pair["drift_ppm"] == pytest.approx(b.drift_ppm - a.drift_ppm, abs=0.05)
    assert pair["offset_change_us"] == pytest.approx(1000 * (end_gap_ms - start_gap_ms), abs=0.1)
    both = set(delivered(a, EXACT_LAST)) & set(delivered(b, EXACT_LAST))
    assert pair["matched_frames"] == len(both) == EXACT_LAST - 5


def test_jitter_and_clock_errors_are_measured(capsys: pytest.CaptureFixture[str]) -> None:
    """Uniform ±J µs timestamp jitter gives interval deviations with std J·√(2/3) (408 µs for 500)."""
    _, report = run_json(capsys, str(jitter_session()))
    cams = totals(report)
    for cam_id, spec in enumerate(JITTER):
        s = cams[cam_id]
        assert s["frames"] == JITTER_LAST and s["drops"] == 0 and s["longest_drop_run"] == 0
        assert s["jitter_us"] == pytest.approx(spec.jitter_us * math.sqrt(2 / 3), rel=0.08)
        assert s["interval_p50_ms"] == pytest.approx(T_MS, abs=0.1)
        assert T_MS + 0.6 < s["interval_p99_ms"] <= s["interval_max_ms"] <= T_MS + 2 * spec.jitter_us / 1000
        assert s["clock_error_ppm"] == pytest.approx(spec.drift_ppm, abs=10)
    (pair,) = report["takes"][0]["pairs"]
    a, b = JITTER
    assert pair["drift_ppm"] == pytest.approx(b.drift_ppm - a.drift_ppm, abs=10)
    # the system's own boot->wall clock here (no FrameWallClock); each first frame is off by up to J
    expected_gap_ms = (sensor_ns(b, 1) - sensor_ns(a, 1)) / 1e6
    assert pair["first_frame_gap_ms"] == pytest.approx(expected_gap_ms, abs=2 * a.jitter_us / 1000 + 0.05)
    assert pair["matched_frames"] == JITTER_LAST


def cam_row(text: str, cam: int) -> list[str]:
    (line,) = [ln for ln in text.splitlines() if re.match(rf"\s+cam{cam}\s+\d", ln)]
    return re.split(r"\s{2,}", line.strip())


def test_text_output_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["report", str(exact_session()), "--no-figure"]) == 0
    text = capsys.readouterr().out
    assert cam_row(text, 0) == [
        "cam0",
        "296",
        "10.000",
        "29.60 (30.00)",
        "4",
        "3",
        "33.333/33.333/133.333",
        "0.0",
        "+0.0",
    ]
    assert cam_row(text, 1) == [
        "cam1",
        "299",
        "10.001",
        "29.90 (30.00)",
        "1",
        "1",
        "33.337/33.337/66.673",
        "0.0",
        "+100.0",
    ]
    assert (
        "cam1: first frame +5.003 ms; offset +5.003 -> +6.000 ms over 10.0 s; drift +100.0 ppm (+996.7 µs); "
        "295 matched frames" in text
    )


@pytest.mark.parametrize(
    ("limits", "code", "complaint"),
    [
        (["--max-drops", "4"], 0, None),
        (["--max-drops", "3"], 1, "cam0: 4 dropped frames > --max-drops 3"),
        (["--max-gap-ms", "150"], 0, None),
        (["--max-gap-ms", "100"], 1, "cam0: longest frame interval 133.333 ms > --max-gap-ms 100"),
        (["--max-start-gap-ms", "5.1"], 0, None),
        (["--max-start-gap-ms", "5"], 1, "cam1 vs cam0: first frames +5.003 ms apart"),
        (["--max-drift-ppm", "99"], 1, "cam1 vs cam0: clock drift +100.0 ppm > --max-drift-ppm 99"),
        (["--max-jitter-us", "1"], 0, None),
    ],
)
def test_exit_code_follows_the_limits(
    capsys: pytest.CaptureFixture[str], limits: list[str], code: int, complaint: str | None
) -> None:
    assert cli_main(["report", str(exact_session()), "--no-figure", *limits]) == code
    out = capsys.readouterr().out
    if complaint is None:
        assert "within limits" in out and "OVER LIMIT" not in out
    else:
        assert "OVER LIMIT: take " in out and complaint in out
    rc, report = run_json(capsys, str(exact_session()), *limits)
    assert rc == code and report["ok"] is (code == 0)
    assert (complaint is None) == (report["violations"] == [])


def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["report", str(tmp_path)]) == 2
    assert "no timing CSVs (*_frame_timing.csv)" in capsys.readouterr().err
    assert cli_main(["report", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err
    (tmp_path / "x_frame_timing.csv").write_text("a,b\n1,2\n")
    assert cli_main(["report", str(tmp_path)]) == 2
    assert "x_frame_timing.csv: not a timing CSV (missing columns" in capsys.readouterr().err
    assert not (tmp_path / FIGURE_NAME).exists()
