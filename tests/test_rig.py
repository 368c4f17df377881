"""Several slaves as one rig: a shared `at` starts them together (first recorded frames within
50 ms of each other by their wall-clock times), and a failing slave is reported on its own while
the others record on; the same through `python -m camera_core rig RIG_FILE`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from slave_support import FAST, assert_recordings_intact, session_dir

from camera_core.client import SlaveClient
from camera_core.client.launch import local_slave_argv
from camera_core.client.rig import Rig, SlaveSpec, load_rig
from camera_core.recording.timing_log import read_timing_csv


def _spec(name: str, out: Path) -> SlaveSpec:
    return SlaveSpec(name, local_slave_argv([*FAST, "--sim-cameras", "1", "--output-dir", str(out)]))


def _first_wall_clock_ns(out: Path) -> int:
    (csv_path,) = session_dir(out).glob("*_frame_timing.csv")
    return int(read_timing_csv(csv_path)[0]["wall_clock_ns"])


def test_shared_at_starts_two_slaves_together_and_a_dead_one_is_reported(tmp_path: Path) -> None:
    specs = [
        _spec("left", tmp_path / "left"),
        _spec("right", tmp_path / "right"),
        SlaveSpec("broken", [sys.executable, "-c", "import sys; sys.exit('camera unplugged')"]),
    ]
    with Rig(specs) as rig:
        ready = rig.start(ready_timeout=60)
        assert ready["left"].ok and ready["right"].ok
        assert not ready["broken"].ok and "camera unplugged" in ready["broken"].error
        assert rig.live == ["left", "right"]
        subscribed = rig.command("subscribe", events=["recording_first_frame"])
        assert all(r.ok for r in subscribed.values())
        at, started = rig.start_recording(lead_s=1.0)
        assert set(started) == {"left", "right"} and all(r.ok for r in started.values())
        assert all(r.data["at"] == at for r in started.values())
        for name in rig.live:
            event = rig.clients[name].wait_event("recording_first_frame", timeout=30)
            assert event.data["camera_id"] == 0
        status = rig.status()
        assert status["broken"]["ok"] is False and "camera unplugged" in status["broken"]["error"]
        assert status["left"]["data"]["recording"] and status["right"]["data"]["recording"]
        stopped = rig.stop_recording()
        assert all(r.ok and r.data["recordings"][0]["frames"] > 0 for r in stopped.values())
    left, right = _first_wall_clock_ns(tmp_path / "left"), _first_wall_clock_ns(tmp_path / "right")
    assert abs(left - right) <= 50_000_000, f"first frames {abs(left - right) / 1e6:.1f} ms apart"
    at_ns = int(at * 1e9)
    assert at_ns <= left < at_ns + 100_000_000 and at_ns <= right < at_ns + 100_000_000  # nothing before `at`
    for name in ("left", "right"):
        assert_recordings_intact(session_dir(tmp_path / name), expected_videos=1)


def test_a_slave_that_dies_mid_run_is_dropped_while_the_others_carry_on(tmp_path: Path) -> None:
    with Rig([_spec("a", tmp_path / "a"), _spec("b", tmp_path / "b")]) as rig:
        ready = rig.start()
        assert all(r.ok for r in ready.values()), ready
        rig.command("subscribe", events=["recording_first_frame"])
        rig.start_recording(at=None, lead_s=0.0)
        rig.clients["a"].wait_event("recording_first_frame", timeout=30)
        rig.clients["b"].kill()
        status = rig.status()
        assert status["a"]["ok"] and status["a"]["data"]["recording"]
        assert not status["b"]["ok"] and "exited with code -9" in status["b"]["error"]
        assert rig.live == ["a"]
        stopped = rig.stop_recording()
        assert list(stopped) == ["a"] and stopped["a"].ok
    assert isinstance(rig.clients["a"], SlaveClient) and rig.clients["a"].proc.returncode == 0
    assert_recordings_intact(session_dir(tmp_path / "a"), expected_videos=1)


def test_rig_cli_reports_each_slave(tmp_path: Path) -> None:
    rig_file = tmp_path / "rig.toml"
    args = json.dumps([*FAST, "--sim-cameras", "1", "--output-dir", str(tmp_path / "out")])
    rig_file.write_text(
        f'lead_s = 0.5\nargs = {args}\n[[slave]]\nname = "one"\n[[slave]]\nname = "two"\n'
        '[[slave]]\nname = "gone"\nremote = "false"\n'
    )
    assert [s.name for s in load_rig(rig_file).slaves] == ["one", "two", "gone"]
    done = subprocess.run(
        [sys.executable, "-m", "camera_core", "rig", str(rig_file), "--duration", "0.5", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # one slave failed
    summary = json.loads(done.stdout)
    assert set(summary["failures"]) == {"gone"}
    assert {name for name, r in summary["recordings"].items() if r["ok"]} == {"one", "two"}
    assert "stopped one: ok" in done.stderr and "ready gone: FAILED" in done.stderr
    sessions = sorted(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    assert len(sessions) == 2
    for session in sessions:
        assert_recordings_intact(session, expected_videos=1)
