"""The camera pipeline's supervised capture thread (camera.py), without the system around it: a
loop killed by an exception logs its traceback, marks its camera failed and publishes camera_failed,
while another camera captures on; a stop ends the thread without any failure reported."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from camera_core.config import Settings
from camera_core.events import Event, EventBus
from camera_core.frames.frame import Frame
from camera_core.frames.overlay import OverlayStyle
from camera_core.pipeline.camera_pipeline import CameraPipeline, CameraStatus, PipelineSettings
from camera_core.recording.recorder import Recorder, RecordingResult, RecordingTarget
from camera_core.sources.sim import create_sim_sources
from camera_core.timing import BootToWallClock


class CountingRecorder(Recorder):
    """Counts the frames submitted to it; records nothing."""

    def __init__(self) -> None:
        self.submitted = 0

    @property
    def active(self) -> bool:
        return False

    def start(self, target: RecordingTarget) -> None:
        raise AssertionError("not used")

    def submit(self, frame: Frame) -> None:
        self.submitted += 1

    def stop(self) -> RecordingResult:
        raise AssertionError("not used")

    def stats(self) -> dict[str, object]:
        return {"recording": False, "frames_recorded": 0}


@pytest.fixture
def cameras(small_settings: Callable[..., Settings]) -> Iterator[tuple[list[CameraPipeline], list[Event]]]:
    """Two sim cameras; camera 1's source raises an error no `except Exception` catches after 10 frames."""
    settings = small_settings(
        sim_cameras=2, sim_realtime=True, resolution_preset=7, sim_fault_camera=1, sim_crash_after_frames=10
    )
    bus, events, cond = EventBus(), [], threading.Condition()

    def collect(event: Event) -> None:
        with cond:
            events.append(event)
            cond.notify_all()

    bus.subscribe(collect)
    cams = []
    for source in create_sim_sources(settings):
        source.open()
        source.start()
        cams.append(
            CameraPipeline(
                source,
                CountingRecorder(),
                BootToWallClock(),
                PipelineSettings.of(settings),
                style=OverlayStyle(),
                publish=bus.publish,
            )
        )
    try:
        yield cams, events
    finally:
        for cam in cams:
            cam.request_stop()
            cam.source.stop()
            cam.shutdown_pools()
            cam.source.close()


def wait_until(predicate: Callable[[], bool], cam: CameraPipeline, timeout: float = 10.0) -> None:
    """Wait (woken by each new frame of `cam`) until predicate() holds."""
    version, deadline = 0, time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        version, _frame = cam.latest.wait_newer(version, 0.5)


def test_a_killed_capture_loop_is_logged_reported_and_the_other_camera_captures_on(
    cameras: tuple[list[CameraPipeline], list[Event]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="camera_core")
    (cam0, cam1), events = cameras
    cam0.start_capture()
    cam1.start_capture()
    wait_until(lambda: any(e.name == "camera_failed" for e in events), cam0)
    (failed,) = [e for e in events if e.name == "camera_failed"]
    assert failed.data["camera_id"] == 1 and "SimulatedLoopCrash" in str(failed.data["reason"])
    status = cam1.status().as_dict()
    assert status["state"] == "failed" and "capture loop died" in str(status["last_error"])
    assert cam1.frames_captured == 10 and cam1.recorder.submitted == 10  # type: ignore[attr-defined]
    record = next(r for r in caplog.records if "capture loop died" in r.getMessage())
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.exc_info[0].__name__ == "SimulatedLoopCrash"
    seen = cam0.frames_captured
    wait_until(lambda: cam0.frames_captured >= seen + 10, cam0)
    assert cam0.status().state == "running" and cam0.recorder.submitted >= seen + 10  # type: ignore[attr-defined]


def test_stopping_ends_the_capture_thread_without_a_failure(cameras: tuple[list[CameraPipeline], list[Event]]) -> None:
    (cam0, _cam1), events = cameras
    cam0.start_capture()
    wait_until(lambda: cam0.frames_captured >= 3, cam0)
    cam0.request_stop()
    cam0.source.stop()
    cam0.shutdown_pools(timeout=5)
    assert cam0._capture_thread is not None and not cam0._capture_thread.is_alive()
    assert not [e for e in events if e.name == "camera_failed"] and cam0.failure is None


def test_a_capture_loop_that_returns_before_the_stop_is_a_failure(
    cameras: tuple[list[CameraPipeline], list[Event]], monkeypatch: pytest.MonkeyPatch
) -> None:
    (cam0, _cam1), events = cameras
    monkeypatch.setattr(cam0, "capture_loop", lambda: None)
    cam0.start_capture()
    assert cam0._capture_thread is not None
    cam0._capture_thread.join(5)
    assert cam0.failure == "capture loop ended"
    assert [e.data["camera_id"] for e in events if e.name == "camera_failed"] == [0]


def test_a_source_status_key_never_replaces_a_camera_key(caplog: pytest.LogCaptureFixture) -> None:
    status = CameraStatus(
        camera_id=3,
        backend="sim",
        model="m",
        resolution=[4, 2],
        target_fps=30.0,
        frames_captured=5,
        hardware_drops=0,
        hardware_fps=30.0,
        collated_fps=30.0,
        collated_frames=5,
        duplicates=0,
        skipped=0,
        last_error=None,
        state="failed",
        lost_count=0,
        restarts=0,
        warmup_skipped=0,
        recorder={"frames_recorded": 4, "state": "recording"},
        source={"state": "running", "frames_recorded": 99, "controls": {}},
    )
    out = status.as_dict()
    assert out["state"] == "failed" and out["frames_recorded"] == 4 and out["controls"] == {}
    assert list(out)[:3] == ["camera_id", "backend", "model"]
    assert "the source's status key 'state' clashes" in caplog.text
    assert "the recorder's status key 'state' clashes" in caplog.text
