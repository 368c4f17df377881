"""Self-test: a short clip per camera recorded, verified (frames = rows, frame codes), deleted;
pass/fail per camera; the CLI flag exits 0 when every camera passed, 1 otherwise."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from camera_core.commands.schema import schema_for
from camera_core.config import Settings
from camera_core.errors import AlreadyRecordingError
from camera_core.system import CameraSystem
from camera_core.tools.self_test import run_self_test
from tests.conftest import ROOT, main_camera_cmd


def test_self_test_records_verifies_and_deletes(small_settings: Callable[..., Settings]) -> None:
    system = CameraSystem(small_settings(resolution_preset=7, sim_cameras=2, sim_realtime=True))
    with system:
        report = run_self_test(system, 0.3)
        assert system.session is not None
        folder = system.session.directory
        assert report["passed"] is True
        assert [c["camera_id"] for c in report["cameras"]] == [0, 1]
        for cam in report["cameras"]:
            assert cam["passed"] and cam["frames"] > 0 and cam["frames"] == cam["rows"]
            assert len(cam["sha256"]) == 64
        assert not list(folder.rglob("*.h264")) and not list(folder.glob("self_test_*"))
        assert json.loads((folder / "manifest.json").read_text())["recordings"] == []
        system.start_recording()
        with pytest.raises(AlreadyRecordingError):
            run_self_test(system, 0.3)
        system.stop_recording()


def run_cli(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.txt"
    if not config.exists():
        config.write_text("camera_backend = sim\nsim_realtime = true\nresolution_preset = 7\n")
    cmd = main_camera_cmd("--config", str(config), "--output-dir", str(tmp_path / "out"), *extra)
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_self_test_flag_exit_codes(tmp_path: Path) -> None:
    passed = run_cli(tmp_path, "--self-test", "--self-test-seconds", "0.3")
    assert passed.returncode == 0, passed.stderr
    assert "self-test cam0: PASS" in passed.stdout and "self-test cam1: PASS" in passed.stdout
    (tmp_path / "config.txt").write_text(
        "camera_backend = sim\nsim_realtime = true\nresolution_preset = 7\nmin_free_space_mb = 10000000\n"
    )
    failed = run_cli(tmp_path, "--self-test", "--self-test-seconds", "0.3")
    assert failed.returncode == 1
    assert "self-test cam0: FAIL" in failed.stdout and "LOW_DISK_SPACE" in failed.stdout
    # a camera that could not record is reported with the same keys as one that did
    good, bad = (json.loads(run.stdout.splitlines()[-1])["cameras"] for run in (passed, failed))
    assert [set(c) for c in bad] == [set(c) for c in good] and not any(c["passed"] for c in bad)
    assert not list((tmp_path / "out").rglob("*.h264"))


def test_self_test_slave_command(tmp_path: Path) -> None:
    config = tmp_path / "config.txt"
    config.write_text("camera_backend = sim\nsim_realtime = true\nresolution_preset = 7\n")
    cmd = main_camera_cmd("--config", str(config), "--mode", "slave", "--output-dir", str(tmp_path / "out"))
    lines = [
        {"command": "self_test", "seconds": 0.3, "id": 1},
        {"command": "self_test", "seconds": 0},
        {"command": "quit"},
    ]
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    done = subprocess.run(cmd, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report, bad, bye = (json.loads(line) for line in done.stdout.splitlines())
    jsonschema.validate(report, schema_for(report))
    assert (report["status"], report["id"], report["data"]["passed"]) == ("self_test_report", 1, True)
    assert [c["frames"] == c["rows"] > 0 for c in report["data"]["cameras"]] == [True, True]
    assert bad["status"] == "error" and bad["data"]["code"] == "INVALID_ARGUMENT"
    assert bye["status"] == "shutdown"
    assert not list((tmp_path / "out").rglob("*.h264"))


def test_self_test_fails_a_camera_lost_during_its_clip(tmp_path: Path) -> None:
    (tmp_path / "config.txt").write_text(
        "camera_backend = sim\nsim_realtime = true\nresolution_preset = 7\n"
        "sim_fault_camera = 1\nsim_error_after_frames = 20\ncamera_timeout_s = 0.3\n"
    )
    done = run_cli(tmp_path, "--self-test", "--self-test-seconds", "1.5")
    assert done.returncode == 1, done.stdout
    assert "self-test cam0: PASS" in done.stdout and "self-test cam1: FAIL" in done.stdout
    cam0, cam1 = json.loads(done.stdout.splitlines()[-1])["cameras"]
    assert cam0["passed"] and cam0["problems"] == []
    assert not cam1["passed"] and cam1["files"] == 2
    assert any("camera lost 1 time(s)" in p and "simulated camera error" in p for p in cam1["problems"])
    assert any("clip split into 2 files (camera_restart)" in p for p in cam1["problems"])


def test_self_test_fails_a_camera_dropping_more_than_allowed(small_settings: Callable[..., Settings]) -> None:
    settings = small_settings(resolution_preset=7, sim_cameras=1, sim_realtime=True, sim_drop_rate=0.3)
    with CameraSystem(settings) as system:
        (strict,) = run_self_test(system, 0.5)["cameras"]
    assert strict["drops"] > 0 and not strict["passed"]
    assert f"{strict['drops']} dropped frame(s), more than self_test_max_drops 0" in strict["problems"]
    with CameraSystem(settings.replace(self_test_max_drops=1000)) as system:
        (lenient,) = run_self_test(system, 0.5)["cameras"]
    assert lenient["drops"] > 0 and lenient["passed"], lenient["problems"]


def test_stopping_the_system_cuts_a_long_self_test_short(small_settings: Callable[..., Settings]) -> None:
    system = CameraSystem(small_settings(resolution_preset=7, sim_cameras=1, sim_realtime=True))
    system.start()
    reports: list[dict[str, object]] = []
    tester = threading.Thread(target=lambda: reports.append(run_self_test(system, 600)), daemon=True)
    tester.start()
    deadline = time.monotonic() + 20
    while not system.is_recording:  # the clip has begun
        assert time.monotonic() < deadline and tester.is_alive(), "the self-test clip never started"
        threading.Event().wait(0.01)
    system.stop()  # a SIGTERM during the self-test comes here: it must not wait out the 600 s
    tester.join(30)
    assert not tester.is_alive()
    assert system.session is not None
    assert not list(system.session.directory.glob("self_test_*"))  # the clip is deleted all the same
    assert json.loads((system.session.directory / "manifest.json").read_text())["complete"] is True
