"""A camera whose loop dies is never silent: a traceback in the log, a camera_failed event and
state "failed" in get_status within 2 s, while the other cameras record on; a failing background
thread is logged with its traceback."""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from slave_support import RawSlave, session_dir, slave_cmd

from camera_core.config import Settings
from camera_core.modes.runner import log_thread_failure
from camera_core.pipeline.camera_pipeline import CameraPipeline
from camera_core.system import CameraSystem
from tests.conftest import ROOT, main_camera_cmd
from tests.unattended_support import EventLog


def test_a_dead_capture_loop_is_reported_while_others_record_on(
    small_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="camera_core")

    def broken_recover(self: CameraPipeline, why: str) -> None:
        raise RuntimeError(f"injected: recovery of cam{self.camera_id} broke ({why})")

    monkeypatch.setattr(CameraPipeline, "_recover", broken_recover)
    settings = small_settings(sim_cameras=2, sim_realtime=True, sim_fault_camera=1, sim_error_after_frames=15)
    with CameraSystem(settings) as system:
        events = EventLog(system.events)
        system.start_recording()
        started = time.monotonic()
        (failed,) = events.wait_for("camera_failed", timeout=10)
        assert failed.data["camera_id"] == 1 and "injected" in failed.data["reason"]
        status = system.status()
        assert time.monotonic() - started < 2.0 + 15 / 30  # the fault comes after 15 frames at 30 fps
        cams = {c["camera_id"]: c for c in status["cameras"]}
        assert cams[1]["state"] == "failed" and "injected" in str(cams[1]["last_error"])
        assert cams[0]["state"] == "running" and status["failed_cameras"] == [1]
        before = system.cameras[0].recorder.stats()["frames_recorded"]
        wait_for_frames_of(system.cameras[0], int(before) + 30)
        results = system.stop_recording()
    assert {r.camera_id for r in results} == {0, 1}
    assert next(r for r in results if r.camera_id == 0).frames >= int(before) + 30
    record = next(r for r in caplog.records if "capture loop died" in r.getMessage())
    assert record.levelno == logging.ERROR and record.exc_info is not None  # the traceback is logged


def wait_for_frames_of(cam: CameraPipeline, recorded: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    version = 0
    while int(cam.recorder.stats()["frames_recorded"]) < recorded:
        assert time.monotonic() < deadline, "the healthy camera stopped recording"
        version, _ = cam.latest.wait_newer(version, deadline - time.monotonic())


def test_a_failing_thread_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="camera_core")
    previous = threading.excepthook
    threading.excepthook = log_thread_failure
    try:

        def boom() -> None:
            raise ValueError("background job broke")

        worker = threading.Thread(target=boom, name="auto-stop-test")
        worker.start()
        worker.join(10)
    finally:
        threading.excepthook = previous
    (record,) = [r for r in caplog.records if "thread auto-stop-test failed" in r.getMessage()]
    assert record.exc_info is not None and "background job broke" in caplog.text


def test_slave_reports_a_camera_whose_loop_died(tmp_path: Path) -> None:
    config = tmp_path / "config.txt"
    config.write_text("sim_fault_camera = 1\nsim_crash_after_frames = 30\n")
    with RawSlave(slave_cmd(tmp_path / "out", "--config", str(config))) as slave:
        assert slave.request("subscribe", events=["camera_failed"])["status"] == "subscribed"
        assert slave.request("start_recording")["status"] == "recording_started"
        event = slave.next_message(timeout=20)  # validated against the camera_failed schema
        assert event["type"] == "event" and event["event"] == "camera_failed", event
        assert event["data"]["camera_id"] == 1 and "SimulatedLoopCrash" in event["data"]["reason"]
        cams = {c["camera_id"]: c for c in slave.request("get_status")["data"]["cameras"]}
        assert cams[1]["state"] == "failed" and cams[0]["state"] == "running"
        before = cams[0]["frames_recorded"]
        deadline = time.monotonic() + 20
        while cams[0]["frames_recorded"] < before + 15:  # cam0 records on (each status waits on the slave)
            assert time.monotonic() < deadline, f"cam0 stopped recording after cam1 failed: {cams[0]}"
            cams = {c["camera_id"]: c for c in slave.request("get_status", timeout=10)["data"]["cameras"]}
        assert slave.request("quit")["status"] == "shutdown"
        assert slave.close() == 0
        stderr = slave.proc.stderr.read().decode()  # type: ignore[union-attr]
    assert "main_camera.py: error: cam1: capture loop died: SimulatedLoopCrash" in stderr
    log = (session_dir(tmp_path / "out") / "session.log").read_text()
    assert "Traceback" in log and "SimulatedLoopCrash" in log
    manifest = json.loads((session_dir(tmp_path / "out") / "manifest.json").read_text())
    assert manifest["complete"] is True and len(manifest["recordings"]) == 2


def test_headless_says_which_camera_failed_and_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "config.txt"
    config.write_text(
        "camera_backend = sim\nresolution_preset = 7\nsim_fault_camera = 1\nsim_crash_after_frames = 20\n"
    )
    cmd = main_camera_cmd(
        "--config", str(config), "--mode", "headless", "--duration", "2", "--output-dir", str(tmp_path)
    )
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr  # one line on stderr; the traceback is in session.log
    assert "capture loop died: SimulatedLoopCrash" in done.stderr and "(traceback in session.log)" in done.stderr
    assert "cam1 failed during the run" in done.stderr
    assert "Traceback" in (session_dir(tmp_path) / "session.log").read_text()
