"""Segments: a recording split into numbered files is reported per segment and as one recording,
grouped by the manifest where it lists the segments, else by the file names."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from camera_core.cli import main as cli_main
from camera_core.tools.report.figure_data import figure_data
from camera_core.tools.report.load import load_session
from tests.report_sessions import EXACT, EXACT_LAST, PERIOD_NS, delivered, drop_runs, exact_session

#: cam0's second file starts at frame 196, the frame after the lost sequence 200: that drop sits
#: on the boundary.
SPLIT = 196


def split_cam0(dest: Path, names: tuple[str, str], *, keep_manifest: bool) -> Path:
    """A copy of the exact session with cam0's CSV cut in two at SPLIT (each part numbered from 0,
    the second part's first row claiming no drops, as a recorder that restarts its counter would)."""
    src = exact_session()
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.png", *(() if keep_manifest else ("manifest.json",))))
    (cam0_csv,) = dest.glob("cam0_*_frame_timing.csv")
    base = cam0_csv.name.removesuffix("_frame_timing.csv")
    with cam0_csv.open(newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    cam0_csv.unlink()
    assert header is not None
    for name, part in zip(names, (rows[:SPLIT], rows[SPLIT:]), strict=True):
        path = dest / name.format(base=base)
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, header, lineterminator="\n")
            writer.writeheader()
            for i, row in enumerate(part):
                writer.writerow(
                    {**row, "frame_number": i, "dropped_since_last": 0 if i == 0 else row["dropped_since_last"]}
                )
    return dest


def span_s(seqs: list[int]) -> float:
    """Duration of frames with these sequences: first to last timestamp plus one period."""
    return (seqs[-1] - seqs[0] + 1) * PERIOD_NS / 1e9


#: cam0's delivered sequences, in the first and the second file.
CAM0 = delivered(EXACT[0], EXACT_LAST)
FIRST, SECOND = CAM0[:SPLIT], CAM0[SPLIT:]


def check_split(capsys: pytest.CaptureFixture[str], session: Path) -> None:
    assert cli_main(["report", str(session), "--json", "--no-figure"]) == 0
    report = json.loads(capsys.readouterr().out)
    (take,) = report["takes"]
    recs = {r["total"]["camera_id"]: r for r in take["recordings"]}
    cam0 = recs[0]
    assert [s["segment"] for s in cam0["segments"]] == [1, 2]
    first, second = cam0["segments"]
    # (49, 3) lies in the first file; (196, 1) is the boundary: counted once, in the second file
    runs = drop_runs(EXACT[0], EXACT_LAST)
    assert runs == [(49, 3), (SPLIT, 1)]
    (_, in_first), (_, at_boundary) = runs
    assert (first["frames"], first["drops"], first["longest_drop_run"]) == (len(FIRST), in_first, in_first)
    assert (second["frames"], second["drops"], second["longest_drop_run"]) == (len(SECOND), at_boundary, at_boundary)
    assert first["duration_s"] == pytest.approx(span_s(FIRST), abs=1e-6)
    assert second["duration_s"] == pytest.approx(span_s(SECOND), abs=1e-6)
    assert first["interval_max_ms"] == pytest.approx((1 + in_first) * PERIOD_NS / 1e6, abs=1e-5)
    assert second["interval_max_ms"] == pytest.approx(PERIOD_NS / 1e6, abs=1e-5)  # the gap is between the files
    total = cam0["total"]
    assert (total["frames"], total["drops"], total["longest_drop_run"], total["drop_events"]) == (
        len(CAM0),
        len(EXACT[0].drops),
        max(lost for _, lost in runs),
        len(runs),
    )
    assert total["duration_s"] == pytest.approx(span_s(CAM0), abs=1e-6)
    assert total["interval_max_ms"] == pytest.approx((1 + in_first) * PERIOD_NS / 1e6, abs=1e-5)
    assert recs[1]["segments"] == []
    (pair,) = take["pairs"]
    both = set(CAM0) & set(delivered(EXACT[1], EXACT_LAST))
    assert pair["matched_frames"] == len(both)
    assert pair["drift_ppm"] == pytest.approx(EXACT[1].drift_ppm - EXACT[0].drift_ppm, abs=0.05)
    # the figure marks the boundary drop at the recording's frame 196, not at the second file's frame 0
    series = {s.camera_id: s for s in figure_data(load_session(session)).intervals}
    assert series[0].drop_frames.tolist() == [frame for frame, _ in runs]


def test_segments_grouped_by_file_name_without_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = split_cam0(
        tmp_path / "s", ("{base}_seg0001_frame_timing.csv", "{base}_seg0002_frame_timing.csv"), keep_manifest=False
    )
    check_split(capsys, session)
    assert cli_main(["report", str(session), "--no-figure"]) == 0
    text = capsys.readouterr().out
    assert "warning: no manifest.json: recordings grouped by file name" in text
    assert [ln.split()[:4] for ln in text.splitlines() if "segment" in ln and "frames" not in ln] == [
        ["segment", "1", str(len(FIRST)), f"{span_s(FIRST):.3f}"],  # sequences 1..199: 199 periods
        ["segment", "2", str(len(SECOND)), f"{span_s(SECOND):.3f}"],  # sequences 201..300: 100 periods
    ]


def test_segments_grouped_by_the_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """File names the report cannot parse, listed as segments in the manifest (in its order)."""
    session = split_cam0(
        tmp_path / "s", ("zz_first_frame_timing.csv", "aa_second_frame_timing.csv"), keep_manifest=True
    )
    manifest_path = session / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    (entry,) = [r for r in manifest["recordings"] if r["camera_id"] == 0]
    entry["segments"] = [
        {"index": 1, "video": "zz_first.h264", "timing_csv": "zz_first_frame_timing.csv"},
        {"index": 2, "video": "aa_second.h264", "timing_csv": "aa_second_frame_timing.csv"},
    ]
    manifest_path.write_text(json.dumps(manifest))
    check_split(capsys, session)
