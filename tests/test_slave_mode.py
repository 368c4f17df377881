"""Slave mode end to end, through the real CLI: bad lines while recording, the seed's master
program, finalizing on EOF/SIGINT/SIGTERM, preview streaming to a master that stops reading, events."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from slave_support import (
    ROOT,
    RawSlave,
    assert_recordings_intact,
    csv_rows,
    session_dir,
    slave_cmd,
    wait_until,
)

from camera_core.recording.timing_log import read_timing_csv

BAD_LINES: list[tuple[bytes, str, object]] = [
    (b"this is not json", "INVALID_JSON", None),
    (b'{"command": "get_status"', "INVALID_JSON", None),
    (b'["get_status"]', "INVALID_JSON", None),
    (b'"get_status"', "INVALID_JSON", None),
    (b'{"id": "no-command"}', "INVALID_ARGUMENT", "no-command"),
    (b'{"command": 42, "id": 7}', "INVALID_ARGUMENT", 7),
    (b'{"command": "explode", "id": "u"}', "UNKNOWN_COMMAND", "u"),
    (b'{"command": "take_snapshot", "camera_id": "zero", "id": "t1"}', "INVALID_ARGUMENT", "t1"),
    (b'{"command": "toggle_preview", "camera_id": 0, "enabled": "yes", "id": "t2"}', "INVALID_ARGUMENT", "t2"),
    (b'{"command": "start_recording", "at": "noon", "id": "t3"}', "INVALID_ARGUMENT", "t3"),
    (b'{"command": "get_status", "verbose": true, "id": "t4"}', "INVALID_ARGUMENT", "t4"),
    (b'{"command": "get_status", "id": [1]}', "INVALID_ARGUMENT", None),
    (b'{"command": "take_snapshot", "camera_id": 9, "id": "cam9"}', "CAMERA_NOT_FOUND", "cam9"),
    (b'{"command": "start_recording", "id": "again"}', "ALREADY_RECORDING", "again"),
    (b'{"command": "get_status", "camera_id": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "INVALID_JSON", None),
    (b"[" * 200_000, "INVALID_JSON", None),
    (b'{"command": "get_status", "pad": "' + b"x" * 3_000_000 + b'"}', "LINE_TOO_LONG", None),
    (b"\xff\xfe not utf-8", "INVALID_JSON", None),
]


def test_every_bad_line_gets_one_error_while_recording_runs_on(tmp_path: Path) -> None:
    with RawSlave(slave_cmd(tmp_path)) as slave:
        assert slave.request("get_status", id="ready")["status"] == "status_report"
        assert slave.request("stop_recording", id="idle")["data"]["code"] == "NOT_RECORDING"
        started = slave.request("start_recording", id="rec")
        assert started["status"] == "recording_started" and started["id"] == "rec"
        for line, _, _ in BAD_LINES:
            slave.send(line + b"\n\n")  # blank lines are ignored, not answered
        for line, code, request_id in BAD_LINES:
            reply = slave.next_reply()
            assert reply["status"] == "error", line[:60]
            assert reply["data"]["code"] == code, (line[:60], reply)
            assert reply["data"]["message"]
            assert reply.get("id") == request_id, (line[:60], reply)
        status = slave.request("get_status", id=5)
        assert status["id"] == 5 and status["data"]["recording"] is True
        slave.wait_recorded(frames=1)
        stopped = slave.request("stop_recording", id="stop")
        assert stopped["status"] == "recording_stopped"
        frames = {r["camera_id"]: r["frames"] for r in stopped["data"]["recordings"]}
        assert slave.request("quit", id="q")["status"] == "shutdown"
        assert slave.close() == 0
    counts = assert_recordings_intact(session_dir(tmp_path), expected_videos=2)
    assert sorted(counts) == sorted(frames.values())


def _seed_master_program() -> str:
    """tests/seed_master_program.py: the original README's master program shape, kept in the repo."""
    program = (ROOT / "tests" / "seed_master_program.py").read_text(encoding="utf-8")
    # Only the sleeps are shortened: the program itself runs as the README shows it.
    shortened, count = re.subn(r"time\.sleep\(\d+\)", "time.sleep(0.5)", program)
    assert count == 2, "the program waits twice (start-up, recording)"
    return shortened


def test_seed_master_program_runs_unchanged(tmp_path: Path) -> None:
    assert shutil.which("uv") is not None, "the seed's program runs `uv run`: put uv on PATH"
    program = _seed_master_program()
    assert '["uv", "run", "main_camera.py", "--mode", "slave"]' in program
    (tmp_path / "main_camera.py").symlink_to(ROOT / "main_camera.py")
    (tmp_path / "master.py").write_text(program)
    env = {**os.environ, "UV_PROJECT": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "master.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    expected = [
        ("Recording started: ", "recording_started"),
        ("Recording stopped: ", "recording_stopped"),
        ("System status: ", "status_report"),
    ]
    assert len(printed) == 3, printed
    for line, (label, status) in zip(printed, expected, strict=True):
        assert line.startswith(label) and f"'status': '{status}'" in line, line
    assert "'recording': False" in printed[2]  # the status after stop_recording really is after it
    directory = session_dir(tmp_path / "recordings")
    assert_recordings_intact(directory, expected_videos=2)
    manifest = json.loads((directory / "manifest.json").read_text())
    assert len(manifest["recordings"]) == 2


@pytest.mark.parametrize("how", ["eof", "SIGTERM", "SIGINT"])
def test_eof_and_signals_finalize_and_exit_0(tmp_path: Path, how: str) -> None:
    with RawSlave(slave_cmd(tmp_path, "--sim-cameras", "1")) as slave:
        assert slave.request("start_recording")["status"] == "recording_started"
        wait_until(lambda: csv_rows(session_dir(tmp_path)) >= 5, 30, "5 recorded frames")
        if how == "eof":
            slave.proc.stdin.close()  # type: ignore[union-attr]
        else:
            slave.proc.send_signal(getattr(signal, how))
        assert slave.proc.wait(60) == 0
        with pytest.raises(EOFError):
            slave.next_message(timeout=10)  # nothing but protocol lines, and no reply for nothing asked
    directory = session_dir(tmp_path)
    assert_recordings_intact(directory, expected_videos=1)
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["recordings"][0]["frames"] == len(read_timing_csv(next(directory.glob("*_frame_timing.csv"))))


def test_master_that_stops_reading_costs_the_recording_no_frame(tmp_path: Path) -> None:
    with RawSlave(slave_cmd(tmp_path, "--preview-size", "5")) as slave:
        assert slave.request("start_recording")["status"] == "recording_started"
        toggled = slave.request("toggle_preview", camera_id=0, enabled=True)
        assert toggled["data"]["cameras"] == [{"camera_id": 0, "enabled": True}]
        assert slave.request("toggle_preview", camera_id=1, enabled=True)["status"] == "preview_toggled"
        slave.reading.clear()  # the master stops reading; the pipe fills up with preview frames
        rows_before = csv_rows(session_dir(tmp_path))
        wait_until(lambda: csv_rows(session_dir(tmp_path)) >= rows_before + 120, 60, "2 s of recording while stalled")
        slave.send({"command": "get_status", "id": "after-stall"})
        slave.reading.set()
        status = slave.next_reply()
        assert status["id"] == "after-stall"
        protocol = status["data"]["protocol"]
        assert sum(protocol["preview_frames_skipped"].values()) > 0, protocol  # it really was stalled
        assert sum(protocol["preview_frames_sent"].values()) > 0
        for cam in status["data"]["cameras"]:
            assert cam["encoder_overflows"] == 0 and cam["hardware_drops"] == 0, cam

        off = slave.request("toggle_preview", camera_id=0, enabled=False, id="off")
        assert off["data"]["cameras"] == [{"camera_id": 0, "enabled": False}]
        off = slave.request("toggle_preview", camera_id=1, enabled=False, id="off1")
        rows_off = csv_rows(session_dir(tmp_path))
        wait_until(lambda: csv_rows(session_dir(tmp_path)) >= rows_off + 30, 30, "frames after preview off")
        slave.send({"command": "stop_recording", "id": "stop"})
        message = slave.next_message()
        assert message.get("id") == "stop", f"a {message['status']} line came after preview was turned off"
        recordings = message["data"]["recordings"]
        assert all(r["encoder_overflows"] == 0 and r["hardware_drops"] == 0 for r in recordings)
        assert slave.close() == 0
    assert_recordings_intact(session_dir(tmp_path), expected_videos=2)


def test_subscribe_turns_on_events(tmp_path: Path) -> None:
    config = tmp_path / "config.txt"
    config.write_text("sim_drop_rate = 0.2\nsim_cameras = 1\n")
    with RawSlave(slave_cmd(tmp_path, "--config", str(config))) as slave:
        assert slave.request("get_status")["status"] == "status_report"
        reply = slave.request("subscribe", id="sub", events=["frames_dropped", "recording_first_frame"])
        assert reply["data"] == {"enabled": True, "events": ["frames_dropped", "recording_first_frame"]}
        slave.send({"command": "start_recording"})
        seen: dict[str, dict[str, object]] = {}
        while len(seen) < 2:
            message = slave.next_message()
            if message["type"] == "event":
                seen.setdefault(message["event"], message["data"])
        assert seen["frames_dropped"]["dropped"] >= 1  # type: ignore[operator]
        assert seen["recording_first_frame"]["camera_id"] == 0
        assert slave.request("subscribe", enabled=False)["data"]["enabled"] is False
        # with 20 % of frames dropped, 40 recorded frames hold a drop all but never (0.8^40)
        wait_until(lambda: csv_rows(session_dir(tmp_path)) >= 40, 30, "40 recorded frames")
        stopped = slave.request("stop_recording", id="stop")
        assert stopped["id"] == "stop"
        assert stopped["data"]["recordings"][0]["hardware_drops"] > 0
        assert slave.close() == 0
