"""Crash safety: a recording process killed with SIGKILL leaves .h264 files that decode and CSVs
holding every row written; `recover` makes frames = rows, rebuilds the manifest and marks the
session complete; a new run names the unfinished session. A power-loss-style tear (a frame cut in
half, rows ahead of the video) is repaired too."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from camera_core.config import Settings
from camera_core.system import CameraSystem
from camera_core.tools.recovery.tool import recover_session
from camera_core.tools.verify import verify_recording
from camera_core.unfinished_sessions import find_unfinished_sessions
from tests.conftest import ROOT, main_camera_cmd, wait_for_frames
from tests.unattended_support import codes_of, rows_of


def wait_for_file(pattern: str, folder: Path, min_lines: int, timeout: float = 30.0) -> Path:
    """Poll the folder until a file matching `pattern` has at least `min_lines` lines."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in folder.glob(pattern):
            if path.read_bytes().count(b"\n") >= min_lines:
                return path
        time.sleep(0.05)
    raise TimeoutError(f"no {pattern} with {min_lines} lines in {folder}")


def test_sigkill_then_recover(tmp_path: Path, small_settings: Callable[..., Settings]) -> None:
    out = tmp_path / "rec"
    cmd = main_camera_cmd(
        "--mode", "headless", "--backend", "sim", "--resolution", "7", "--target-fps", "60",
        "--segment-seconds", "1", "--output-dir", str(out), "--no-preview",
    )  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_file("session_*/cam1_*_seg0002_frame_timing.csv", out, 20)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    (session,) = out.glob("session_*")
    before = {p.name: len(rows_of(p)) for p in session.glob("*_frame_timing.csv")}
    manifest = json.loads((session / "manifest.json").read_text())
    assert manifest["complete"] is False
    for video in session.glob("*.h264"):  # decodable as they are, before any repair
        assert len(codes_of(video)) >= before[video.stem + "_frame_timing.csv"]

    # a new run in the same output folder says so in its status and log
    with CameraSystem(small_settings(output_dir=str(out), sim_cameras=1)) as system:
        assert str(session) in system.status()["unfinished_sessions"]
        assert system.session is not None
        log_text = (system.session.directory / "session.log").read_text()
        assert f"unfinished session {session.name}" in log_text and "recover" in log_text

    done = subprocess.run(
        [sys.executable, "-m", "camera_core", "recover", "--unfinished-in", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert f"{session}: unfinished; recovered" in done.stdout
    assert done.stdout.count("recovered") == 1  # the later, complete session is left alone
    manifest = json.loads((session / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["recovery"]["was_complete"] is False
    recordings = {r["camera_id"]: r for r in manifest["recordings"]}
    assert sorted(recordings) == [0, 1]
    for rec in recordings.values():
        assert len(rec["segments"]) >= 2
        codes: list[int] = []
        for seg in rec["segments"]:
            video = session / seg["video"]
            report = verify_recording(video, session / seg["timing_csv"])
            assert report.ok, report.problems
            assert report.rows >= before[seg["timing_csv"]]  # no row that reached the file is lost
            assert seg["frames"] == report.frames
            codes += codes_of(video)
        assert codes == list(range(codes[0], codes[0] + len(codes)))  # continuous across the files
        assert rec["frames"] == len(codes)
    # recovering again changes nothing
    again = recover_session(session)
    assert again["was_complete"] is True and not [a for a in again["actions"] if "cut" in a]


def test_recover_repairs_a_torn_frame_and_rows_ahead_of_the_video(
    tmp_path: Path, small_settings: Callable[..., Settings]
) -> None:
    system = CameraSystem(small_settings(sim_cameras=1, resolution_preset=7, output_dir=str(tmp_path / "rec")))
    with system:
        system.start_recording()
        wait_for_frames(system, 60)
        (result,) = system.stop_recording()
    assert system.session is not None
    session = tmp_path / "torn"
    shutil.copytree(system.session.directory, session)
    video, csv_path = session / result.video, session / str(result.timing_csv)
    rows = len(rows_of(csv_path))
    # power loss: the video lost the second half of its last frame; the CSV ends in half a row
    size = video.stat().st_size
    os.truncate(video, size - 100)
    with csv_path.open("a") as f:
        f.write("60,1795000000.1,123")
    manifest = json.loads((session / "manifest.json").read_text())
    manifest["complete"], manifest["recordings"] = False, []
    (session / "manifest.json").write_text(json.dumps(manifest))

    report = recover_session(session)
    (fixed,) = report["files"]
    assert (fixed["frames_found"], fixed["rows_found"], fixed["frames"]) == (rows, rows, rows - 1)
    verified = verify_recording(video, csv_path)
    assert verified.ok and verified.frames == rows - 1, verified.problems
    (entry,) = json.loads((session / "manifest.json").read_text())["recordings"]
    assert entry["frames"] == rows - 1 and entry["segments"][0]["video"] == video.name

    # a killed process: the video holds two frames more than the rows
    report_rows = rows - 1
    lines = csv_path.read_text().splitlines(keepends=True)
    csv_path.write_text("".join(lines[: 1 + report_rows - 2]))
    report = recover_session(session)
    (fixed,) = report["files"]
    assert (fixed["frames_found"], fixed["rows_found"], fixed["frames"]) == (
        report_rows,
        report_rows - 2,
        report_rows - 2,
    )
    verified = verify_recording(video, csv_path)
    assert verified.ok and verified.frames == report_rows - 2, verified.problems


def test_unfinished_sessions_exclude_running_and_complete_ones(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    host = socket.gethostname()
    for name, complete, pid in (
        ("crashed", False, gone.pid),
        ("running", False, os.getpid()),
        ("done", True, gone.pid),
    ):
        (tmp_path / name).mkdir()
        manifest = {"complete": complete, "pid": pid, "host": host}
        (tmp_path / name / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "torn").mkdir()
    (tmp_path / "torn" / "manifest.json").write_text('{"complete": fa')
    assert find_unfinished_sessions(tmp_path) == [tmp_path / "crashed", tmp_path / "torn"]
