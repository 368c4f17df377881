"""The program as a user runs it: headless sessions, signals, native output in the log, convert."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from camera_core.tools.verify import verify_recording
from tests.conftest import ROOT, main_camera_cmd


def only_session(out: Path) -> Path:
    sessions = [p for p in out.iterdir() if p.is_dir()]
    assert len(sessions) == 1, sessions
    return sessions[0]


def test_headless_duration_writes_a_complete_session(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    proc = subprocess.run(
        main_camera_cmd(
            "--mode", "headless", "--backend", "sim", "--duration", "2", "--resolution", "6", "--output-dir", str(out)
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # headless prints nothing on stdout
    session = only_session(out)
    assert session.name.startswith("session_")
    videos = sorted(session.glob("cam*.h264"))
    assert [v.name.split("_")[:3] for v in videos] == [["cam0", "480x360", "30.0fps"], ["cam1", "480x360", "30.0fps"]]
    for video in videos:
        report = verify_recording(video)
        assert report.ok, report.problems
        assert 45 <= report.frames <= 75  # 2 s at 30 fps, paced by the clock
    manifest = json.loads((session / "manifest.json").read_text())
    assert manifest["complete"] and len(manifest["recordings"]) == 2
    log = (session / "session.log").read_text()
    assert "stopping: --duration 2 s elapsed" in log
    assert "\x1b[" not in log


def test_sigterm_and_sigint_finalize_every_file(tmp_path: Path) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        out = tmp_path / sig.name
        proc = subprocess.Popen(
            main_camera_cmd(
                "--mode", "headless", "--backend", "sim", "--resolution", "7", "--output-dir", str(out), "--mp4"
            ),
            stderr=subprocess.PIPE,
            text=True,
        )
        # Wait until the recording has frames on disk (the CSV is flushed once a second).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            csvs = list(out.glob("*/*_frame_timing.csv"))
            if len(csvs) == 2 and all(len(c.read_text().splitlines()) > 5 for c in csvs):
                break
            proc.poll()
            assert proc.returncode is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)  # polling the file system, not synchronising threads
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 0
        session = only_session(out)
        videos = sorted(session.glob("cam*.mp4"))
        assert len(videos) == 2 and not list(session.glob("*.h264"))
        for video in videos:
            assert verify_recording(video).ok
        assert sig.name in (session / "session.log").read_text()


NOISY_RUN = """
import os, sys
import camera_core.modes.headless as headless
real = headless.record_until_stopped
def noisy(ctx):
    os.write(1, b"\\x1b[31mnative stdout line\\x1b[0m\\n")
    os.write(2, b"\\x1b[1;33mWARN libcamera: native stderr line\\x1b[0m\\n")
    print("python print goes to the terminal")
    return real(ctx)
headless.record_until_stopped = noisy
from camera_core.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_native_output_goes_to_session_log_without_ansi(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            NOISY_RUN,
            "--mode",
            "headless",
            "--backend",
            "sim",
            "--resolution",
            "7",
            "--duration",
            "0.5",
            "--output-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    log = (only_session(out) / "session.log").read_text()
    assert "native stdout line" in log and "WARN libcamera: native stderr line" in log
    assert "\x1b" not in log
    assert "native stdout line" not in proc.stdout + proc.stderr
    assert "native stderr line" not in proc.stdout + proc.stderr
    assert "python print goes to the terminal" in proc.stdout


def test_convert_turns_a_sessions_h264_into_verified_mp4(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    subprocess.run(
        main_camera_cmd(
            "--mode", "headless", "--backend", "sim", "--duration", "1", "--resolution", "7", "--output-dir", str(out)
        ),
        check=True,
        capture_output=True,
        timeout=60,
    )
    session = only_session(out)
    proc = subprocess.run(
        [sys.executable, "-m", "camera_core", "convert", str(session)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert not list(session.glob("*.h264"))
    mp4s = sorted(session.glob("*.mp4"))
    assert len(mp4s) == 2
    for mp4 in mp4s:
        assert verify_recording(mp4).ok


def test_python_dash_m_is_the_same_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "camera_core", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0 and "--target-fps" in proc.stdout and "config key" in proc.stdout


def test_verify_tool_passes_good_recordings_and_catches_a_missing_row(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    subprocess.run(
        main_camera_cmd(
            "--mode",
            "headless",
            "--backend",
            "sim",
            "--duration",
            "1",
            "--resolution",
            "7",
            "--output-dir",
            str(out),
            "--sim-cameras",
            "1",
        ),
        check=True,
        capture_output=True,
        timeout=60,
    )
    session = only_session(out)
    verify = [sys.executable, "-m", "camera_core", "verify", str(session)]
    good = subprocess.run(verify, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert good.returncode == 0 and ": ok: " in good.stdout
    csv_path = next(session.glob("*_frame_timing.csv"))
    lines = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join(lines[:5] + lines[6:]) + "\n")  # lose one row in the middle
    bad = subprocess.run(verify, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert bad.returncode == 1 and "FAILED" in bad.stdout and "timing rows" in bad.stdout
