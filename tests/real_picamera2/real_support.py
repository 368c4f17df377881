"""Checks of sessions recorded on the real picamera2: decoded frames against timing rows, the sensor
timestamp lattice of the virtual cameras, burned-in frame numbers, and the frames libcamera lost."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from camera_core.frames.overlay import OverlayStyle, burn_frame_number, frame_number_box
from camera_core.recording.timing_log import read_timing_csv, timing_csv_of
from camera_core.tools.verify import verify_recording

ROOT = Path(__file__).resolve().parents[2]
#: The `camera_cli` fixture: main_camera.py --backend picamera2 ARGS (env=extra variables, timeout=s).
CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def only_session(out_dir: Path) -> Path:
    (session,) = [p for p in out_dir.iterdir() if p.is_dir()]
    return session


def manifest_of(session: Path) -> dict[str, Any]:
    return json.loads((session / "manifest.json").read_text())


@dataclass(frozen=True, slots=True)
class CheckedRecording:
    video: Path
    frames: int
    drops: int
    rows: list[dict[str, str]]
    restarts: int = 0


def burned_number(luma: np.ndarray, candidates: list[int], style: OverlayStyle) -> int:
    """Which of `candidates` is burned into the decoded frame's number box (closest rendering wins)."""
    x0, y0, x1, y1 = frame_number_box(luma.shape[1], style)
    seen = luma[y0:y1, x0:x1].astype(np.int16)
    best, best_diff = candidates[0], float("inf")
    for number in candidates:
        plane = np.zeros((y1, luma.shape[1]), dtype=np.uint8)
        burn_frame_number(plane, number, style)
        diff = float(np.mean(np.abs(plane[y0:y1, x0:x1].astype(np.int16) - seen)))
        if diff < best_diff:
            best, best_diff = number, diff
    return best


def burned_numbers_match(video: Path, rows: int, style: OverlayStyle | None = None) -> list[str]:
    """Problems where a decoded frame does not carry its own number (frame i shows `#i`)."""
    style = style or OverlayStyle()
    problems: list[str] = []
    fmt = "h264" if video.suffix == ".h264" else None
    with av.open(str(video), format=fmt) as container:
        for i, frame in enumerate(container.decode(container.streams.video[0])):
            luma = frame.to_ndarray(format="gray")
            candidates = [i, *(n for n in (i - 1, i + 1, i + 2, rows + 1) if n >= 0 and n != i)]
            seen = burned_number(luma, candidates, style)
            if seen != i:
                problems.append(f"{video.name}: frame {i} shows #{seen}")
    return problems


def check_recording(video: Path, *, burned: bool = True, restarts: int = 0) -> CheckedRecording:
    """Decode `video`: frames = rows (verify, without frame codes: a real camera draws none), the rows'
    sensor timestamps step by exactly (1 + dropped_since_last) frame durations (the virtual cameras'
    frames start on a lattice), and each frame shows its own burned-in number.

    A camera restart starts a new lattice: up to `restarts` rows may step off it, by the nearest whole
    number of frame durations their dropped_since_last counts."""
    report = verify_recording(video, check_codes=False)
    assert report.ok, report.as_dict()
    rows = [dict(r) for r in read_timing_csv(timing_csv_of(video))]
    assert report.frames == len(rows) > 0
    stamps = [int(r["sensor_timestamp_ns"]) for r in rows]
    off_lattice = []
    for i in range(1, len(rows)):
        duration_ns = round(float(rows[i]["frame_duration_us"]) * 1000)
        step = 1 + int(rows[i]["dropped_since_last"])
        delta = stamps[i] - stamps[i - 1]
        if delta != step * duration_ns:
            off_lattice.append(i)
            assert abs(delta - step * duration_ns) <= duration_ns / 2, (video.name, i, delta, step)
    assert len(off_lattice) <= restarts, (video.name, "rows off the frame lattice", off_lattice)
    if burned:
        problems = burned_numbers_match(video, len(rows))
        assert not problems, problems[:10]
    return CheckedRecording(video, len(rows), report.drops_reported, rows, len(off_lattice))


LOST = re.compile(r"Virtual virtual\.cpp:\d+ (\S+): (\d+) frame\(s\) lost from sequence (\d+):")


def lost_frames_logged(session_log: Path) -> dict[str, list[tuple[int, int]]]:
    """{libcamera camera Id: [(first lost sequence, count), ...]} from libcamera's Virtual debug log."""
    events: dict[str, list[tuple[int, int]]] = {}
    for match in LOST.finditer(session_log.read_text(errors="replace")):
        events.setdefault(match[1], []).append((int(match[3]), int(match[2])))
    return {k: sorted(v) for k, v in events.items()}


def gaps_of(rows: list[dict[str, str]]) -> tuple[list[tuple[int, int]], int]:
    """([(first lost frame, count)] relative to the first row's sensor frame, the last row's frame)."""
    first = int(rows[0]["sensor_timestamp_ns"])
    gaps, position = [], 0
    for row in rows[1:]:
        duration_ns = round(float(row["frame_duration_us"]) * 1000)
        now = (int(row["sensor_timestamp_ns"]) - first) // duration_ns
        if now - position > 1:
            gaps.append((position + 1, now - position - 1))
        position = now
    return gaps, position


def match_lost_frames(rows: list[dict[str, str]], logged: list[tuple[int, int]]) -> int | None:
    """The camera's sequence number of the first row such that the rows' gaps are exactly the frames
    libcamera logged as lost between the first and the last row; None when no alignment fits."""
    gaps, last = gaps_of(rows)
    if gaps:
        starts = {seq - gaps[0][0] for seq, count in logged if count == gaps[0][1]}
    else:
        starts = {0, *(seq + count for seq, count in logged)}  # the frame after each loss, or the first
    for start in sorted(starts):
        inside = [(seq - start, count) for seq, count in logged if start < seq <= start + last]
        if inside == gaps:
            return start
    return None
