"""The aligned frame table: one row per instant, every camera's frame number, empty where dropped."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from camera_core.config import Settings
from camera_core.system import CameraSystem
from camera_core.tools.align import main as align
from tests.conftest import wait_for_frames
from tests.sync_support import free_udp_port, timing_rows


def record_with_drops(small_settings: Callable[..., Settings], frames: int = 90) -> Path:
    """Two synced sim cameras, each losing its own random 10 % of sensor frames."""
    settings = small_settings(
        resolution_preset=7,
        sim_realtime=True,
        sim_drop_rate=0.1,
        sim_seed=7,
        sync_role="server",
        sync_frames=30,
        sync_period_frames=10,
        sync_port=free_udp_port(),
        min_free_space_mb=0,
        stop_free_space_mb=0,
    )
    with CameraSystem(settings) as system:
        system.start_recording()
        wait_for_frames(system, frames)
        system.stop_recording()
        assert system.session is not None
        return system.session.directory


def test_align_pairs_every_frame_and_leaves_drops_empty(
    small_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    session = record_with_drops(small_settings)
    rows = timing_rows(session)
    assert align([str(session)]) == 0
    out = capsys.readouterr()
    table = list(csv.DictReader(io.StringIO(out.out)))
    host = table[0].keys() - {"instant", "wall_clock_ns"}
    cam0, cam1 = sorted(host)
    assert cam0.endswith("/cam0") and cam1.endswith("/cam1")
    # Every recorded frame is in the table exactly once, in order.
    for column, cam_rows in ((cam0, rows[0]), (cam1, rows[1])):
        numbers = [int(r[column]) for r in table if r[column] != ""]
        assert numbers == [int(r["frame_number"]) for r in cam_rows]
    # Frames in one row are the same instant: the cameras' sensor frame counts (frame codes) are a
    # constant apart on every row both have, and a row lacks a camera exactly where it dropped.
    seq = {cam: {int(r["frame_number"]): int(r["sensor_sequence"]) for r in rows[cam]} for cam in (0, 1)}
    pairs = [(seq[0][int(r[cam0])], seq[1][int(r[cam1])]) for r in table if r[cam0] != "" and r[cam1] != ""]
    assert len(pairs) > len(table) // 2
    shift = pairs[0][1] - pairs[0][0]
    assert all(b - a == shift for a, b in pairs)
    instant_seq = [seq[0][int(r[cam0])] if r[cam0] != "" else seq[1][int(r[cam1])] - shift for r in table]
    assert instant_seq == sorted(set(instant_seq))  # one row per instant, in time order
    only0 = [s for r, s in zip(table, instant_seq, strict=True) if r[cam1] == ""]
    only1 = [s for r, s in zip(table, instant_seq, strict=True) if r[cam0] == ""]
    assert only0 and only1  # each camera dropped some
    assert not set(only0) & {b - shift for b in seq[1].values()}  # empty where cam1 has no frame
    assert not set(only1) & set(seq[0].values())
    assert "not placed" not in out.err


def test_align_writes_a_file_and_names_hosts(
    small_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = record_with_drops(small_settings, frames=30)
    target = tmp_path / "aligned.csv"
    assert align([f"left={session}", "-o", str(target)]) == 0
    header = target.read_text().splitlines()[0]
    assert header == "instant,wall_clock_ns,left/cam0,left/cam1"
    assert align([str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err
