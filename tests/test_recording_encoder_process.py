"""End to end with `encoder_process = true`: recordings made by the encoder worker processes decode
to one frame per timing row; a worker killed mid-take ends that camera's take with what it wrote and
says so; stopping the program (SIGTERM to its whole process group, as a service stop or Ctrl+C)
finalizes every file and leaves no worker process and no shared memory behind."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from slave_support import RawSlave, assert_recordings_intact, session_dir, slave_cmd, wait_until

from camera_core.config import Settings
from camera_core.events import Event
from camera_core.recording.encoder_process import ProcessStage
from camera_core.recording.timing_log import read_timing_csv
from camera_core.system import CameraSystem
from camera_core.tools.verify import verify_recording
from tests.conftest import wait_for_frames


def children_of(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.add(int(entry.name))
    return out


def rows(video: Path) -> int:
    csv = video.with_name(video.stem + "_frame_timing.csv")
    return len(read_timing_csv(csv)) if csv.exists() else 0


def test_worker_processes_record_frames_equal_to_rows(small_settings: Callable[..., Settings]) -> None:
    settings = small_settings(sim_cameras=2, encoder_process=True)
    with CameraSystem(settings) as system:
        assert all(isinstance(cam.recorder.stage, ProcessStage) for cam in system.cameras)
        for _ in range(2):
            system.start_recording()
            wait_for_frames(system, 60)
            results = system.stop_recording()
            assert system.session is not None
            for result in results:
                assert not result.errors and "worker process" in result.encoder
                report = verify_recording(system.session.directory / result.video)
                assert report.ok, report.problems
                assert report.frames == result.frames >= 60
            # one worker per camera, started with the system, outliving the takes
            assert all(cam.recorder.stage.started == 1 for cam in system.cameras)  # type: ignore[attr-defined]
            assert len(children_of(os.getpid())) == 2
    assert children_of(os.getpid()) == set()


def test_killed_worker_ends_the_take_with_what_was_written_and_says_so(
    small_settings: Callable[..., Settings],
) -> None:
    settings = small_settings(sim_cameras=2, encoder_process=True)
    halted = threading.Event()
    seen: list[Event] = []

    def on_event(event: Event) -> None:
        if event.name == "recording_error":
            seen.append(event)
            halted.set()

    with CameraSystem(settings) as system:
        system.events.subscribe(on_event)
        started = system.start_recording()
        assert system.session is not None
        video = system.session.directory / started[0]["video"]
        wait_until(lambda: rows(video) >= 30, 30, "30 rows from camera 0")
        stage = system.cameras[0].recorder.stage
        assert isinstance(stage, ProcessStage) and stage.pid is not None
        os.kill(stage.pid, signal.SIGKILL)
        assert halted.wait(30), "no recording_error after the worker was killed"
        assert seen[0].data["camera_id"] == 0 and "worker process" in str(seen[0].data["detail"])
        wait_until(lambda: not system.cameras[0].recorder.active, 30, "camera 0's take to end")
        report = verify_recording(video)
        assert report.ok, report.problems
        assert report.frames == rows(video) >= 30
        assert system.cameras[1].recorder.active  # the other camera records on
        other = system.session.directory / started[1]["video"]
        wait_until(lambda: rows(other) >= 60, 30, "camera 1 to record on")
        (other_result,) = system.stop_recording()
        assert not other_result.errors and verify_recording(other).ok
        # the next take of camera 0 gets a new worker
        again = system.start_recording(0)
        wait_for_frames(system, 30)
        (result,) = system.stop_recording()
        assert not result.errors and stage.started == 2
        assert verify_recording(system.session.directory / again[0]["video"]).ok


def test_sigterm_to_the_process_group_finalizes_and_leaves_nothing_behind(tmp_path: Path) -> None:
    config = tmp_path / "config.txt"
    config.write_text("encoder_process = true\n")
    shm_before = set(os.listdir("/dev/shm"))
    out = tmp_path / "out"
    argv = slave_cmd(out, "--sim-cameras", "2", "--config", str(config))
    with RawSlave(argv, start_new_session=True) as slave:
        assert slave.request("start_recording")["status"] == "recording_started"
        directory = session_dir(out)
        wait_until(lambda: all(rows(v) >= 10 for v in directory.glob("cam*.h264")), 60, "rows from both cameras")
        workers = children_of(slave.proc.pid)
        assert len(workers) == 2
        os.killpg(slave.proc.pid, signal.SIGTERM)  # the workers get it too, and ignore it
        assert slave.proc.wait(60) == 0
        assert "Traceback" not in slave.proc.stderr.read().decode()  # type: ignore[union-attr]
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert set(os.listdir("/dev/shm")) - shm_before == set()
    assert_recordings_intact(directory, expected_videos=2)
