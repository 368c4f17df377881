"""Every signal that can end the process finalizes it: SIGHUP (terminal or ssh closed) and a flood of
repeated SIGTERM/SIGINT during the final shutdown all end in exit 0, a complete manifest and whole
files, with no traceback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from slave_support import RawSlave, assert_recordings_intact, session_dir, slave_cmd

from tests.conftest import ROOT


def recording_slave(out_dir: Path) -> RawSlave:
    slave = RawSlave(slave_cmd(out_dir, "--sim-cameras", "2", "--mp4"))
    assert slave.request("start_recording", id="rec")["status"] == "recording_started"
    directory = session_dir(out_dir)
    while not any(p.stat().st_size > 0 for p in directory.glob("cam*.h264")):  # wait for data (bounded below)
        slave.request("get_status", timeout=10)
    return slave


def assert_finalized(out_dir: Path, stderr: str) -> None:
    directory = session_dir(out_dir)
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["complete"] is True
    assert len(manifest["recordings"]) == 2
    assert_recordings_intact(directory, expected_videos=2)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


def test_sighup_finalizes_like_sigterm(tmp_path: Path) -> None:
    with recording_slave(tmp_path) as slave:
        slave.proc.send_signal(signal.SIGHUP)
        assert slave.proc.wait(60) == 0
        assert_finalized(tmp_path, slave.proc.stderr.read().decode())  # type: ignore[union-attr]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_repeated_signals_during_shutdown_do_not_cut_it_short(tmp_path: Path, signum: signal.Signals) -> None:
    with recording_slave(tmp_path) as slave:
        sent = 0
        while slave.proc.poll() is None and sent < 10_000:  # the first stops, the rest hit the shutdown
            slave.proc.send_signal(signum)
            sent += 1
            try:
                slave.proc.wait(0.005)
            except subprocess.TimeoutExpired:
                pass
        assert slave.proc.wait(60) == 0, f"exit {slave.proc.returncode} after {sent} {signum.name}"
        assert sent > 1
        assert_finalized(tmp_path, slave.proc.stderr.read().decode())  # type: ignore[union-attr]
        assert f"stopping: {signum.name}" in (session_dir(tmp_path) / "session.log").read_text()


def test_a_process_that_lingers_after_its_run_still_ends(tmp_path: Path) -> None:
    """After a finished run, a thread that never ends (a library's, say) keeps the interpreter
    from exiting, and stop signals are held off then: the process must still end by itself, with
    the run's own exit code, naming the thread."""
    script = (
        "import sys, threading\n"
        "from camera_core.cli import main\n"
        "threading.Thread(target=threading.Event().wait, name='never-ends').start()\n"
        f"code = main(['--mode', 'headless', '--sim-cameras', '1', '--duration', '0.5', '--output-dir', {str(tmp_path)!r}])\n"
        "print('run ended', code, flush=True)\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "run ended 0"
        proc.send_signal(signal.SIGTERM)  # held off: the run is over
        assert proc.wait(60) == 0
    finally:
        proc.kill()
        proc.wait(10)
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "thread(s) ['never-ends'] did not" in stderr and "Traceback" not in stderr
