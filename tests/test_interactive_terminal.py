"""Interactive mode without windows: one-letter commands + Enter on stdin, driven through a
pseudo-terminal as a person types them, and the fallback when no display exists."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from interactive_support import (
    OutputReader,
    finish,
    main_camera,
    session_dir,
    small_run_args,
    wait_recorded_rows,
)

from camera_core.cli import parse_settings
from camera_core.display import environment_problem
from camera_core.modes.terminal import format_status
from camera_core.tools.verify import verify_recording


def no_display_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


def test_typed_letters_record_snapshot_and_quit_in_a_terminal(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        main_camera(*small_run_args(out, "--no-preview")),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=no_display_env(),
        close_fds=True,
    )
    os.close(slave)
    term = OutputReader.of_fd(master)
    try:
        term.wait_for(r"type a letter and Enter")
        session = session_dir(out)
        # The live status line, redrawn in place (carriage return + erase line).
        term.wait_for(
            r"\r\x1b\[2Knot recording \| cam0 [\d.]+ fps 0 drops \| cam1 [\d.]+ fps 0 drops \| free [\d.]+ GB"
        )

        os.write(master, b"r\n")
        mark = term.wait_for(r"recording started \(2 cameras\)").end()
        term.wait_for(r"\r\x1b\[2KREC \d+ frames \| cam0", start=mark)
        wait_recorded_rows(session, cameras=2, rows=15)
        os.write(master, b"s\n")
        term.wait_for(r"snapshot saved \(2 cameras\)")
        os.write(master, b"r\n")
        term.wait_for(r"recording stopped: cam0 \d+ frames, cam1 \d+ frames")
        os.write(master, b"x\n")
        term.wait_for(r"unknown command 'x': r = record on/off, s = snapshot, q = quit")
        os.write(master, b"q\n")
        term.wait_for("quitting")
        assert finish(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)

    videos = sorted(session.glob("cam*.h264"))
    assert [v.name[:4] for v in videos] == ["cam0", "cam1"]
    for video in videos:
        report = verify_recording(video)
        assert report.ok and report.frames >= 15, report.as_dict()
    assert [s.name[:13] for s in sorted(session.glob("snapshot_cam*.jpg"))] == ["snapshot_cam0", "snapshot_cam1"]
    assert "no preview window" not in term.text  # --no-preview asked for the terminal: no notice


def test_without_a_display_it_falls_back_to_stdin_with_one_notice(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    result = subprocess.run(
        main_camera(*small_run_args(out, "--duration", "3")),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=no_display_env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    notices = [line for line in result.stderr.splitlines() if "no preview window" in line]
    assert notices == [
        "main_camera.py: no preview window: no display (DISPLAY and WAYLAND_DISPLAY are not set); "
        "using terminal commands instead"
    ]
    assert "Traceback" not in result.stderr
    assert "type a letter and Enter" in result.stderr
    log = (session_dir(out) / "session.log").read_text()
    assert "no preview windows: no display" in log and "--duration 3 s elapsed" in log


def test_display_check_names_what_is_missing() -> None:
    assert environment_problem({}, "linux") == "no display (DISPLAY and WAYLAND_DISPLAY are not set)"
    assert environment_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert environment_problem({}, "darwin") is None


def test_headless_and_slave_open_windows_only_with_an_explicit_preview_flag() -> None:
    # config.txt says show_preview = true: that is interactive mode's default only.
    assert parse_settings([]).show_preview is True
    assert parse_settings(["--mode", "headless"]).show_preview is False
    assert parse_settings(["--mode", "slave"]).show_preview is False
    assert parse_settings(["--mode", "headless", "--preview"]).show_preview is True
    assert parse_settings(["--no-preview"]).show_preview is False


def test_status_line_shows_recording_fps_drops_and_free_disk() -> None:
    status = {
        "recording": True,
        "free_disk_bytes": 12_300_000_000,
        "cameras": [
            {"camera_id": 0, "hardware_fps": 29.96, "hardware_drops": 2, "frames_recorded": 120},
            {"camera_id": 1, "hardware_fps": 30.0, "hardware_drops": 0, "frames_recorded": 118},
        ],
    }
    assert format_status(status) == (
        "REC 120 frames | cam0 30.0 fps 2 drops | cam1 30.0 fps 0 drops | free 12.3 GB | r/s/q + Enter: "
    )
