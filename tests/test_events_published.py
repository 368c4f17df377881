"""Events come from the code where their fact happens, at once: frames_dropped from the capture
thread when the frame after a gap arrives, camera_error where a camera's last_error is set,
frames_not_recorded where the encoder queue has no room, recording_first_frame from the recording
thread right after it wrote the take's first frame (no poller, no delay)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from camera_core.config import Settings
from camera_core.events import Event, EventBus, FramesNotRecorded
from camera_core.recording.segment import SegmentWriter
from camera_core.sources.sim import SimSource
from camera_core.system import CameraSystem
from tests.conftest import wait_for_frames
from tests.unattended_support import EventLog


class ThreadedEventLog(EventLog):
    """An EventLog that also notes the thread each event was published on."""

    def __init__(self, bus: EventBus) -> None:
        self.threads: dict[int, str] = {}
        super().__init__(bus)

    def _on_event(self, event: Event) -> None:
        self.threads[id(event)] = threading.current_thread().name
        super()._on_event(event)

    def thread_of(self, event: Event) -> str:
        return self.threads[id(event)]


def runs(numbers: list[int]) -> list[int]:
    """Lengths of the runs of consecutive numbers."""
    lengths: list[int] = []
    for i, n in enumerate(numbers):
        if i and n == numbers[i - 1] + 1:
            lengths[-1] += 1
        else:
            lengths.append(1)
    return lengths


def test_frames_dropped_comes_from_the_capture_thread_once_per_gap(small_settings: Callable[..., Settings]) -> None:
    settings = small_settings(sim_cameras=1, sim_drop_rate=0.2, warmup_frames=0)
    system = CameraSystem(settings)
    events = ThreadedEventLog(system.events)  # from the first frame on
    with system:
        events.wait_for("frames_dropped", count=10)
        events.unsubscribe()
        source = system.cameras[0].source
        drops_total = system.cameras[0].drops.total
    assert isinstance(source, SimSource)
    dropped = events.named("frames_dropped")
    assert {events.thread_of(e) for e in dropped} == {"capture-cam0"}
    assert {e.data["camera_id"] for e in dropped} == {0}
    totals = [e.data["total"] for e in dropped]
    assert totals == [sum(e.data["dropped"] for e in dropped[: i + 1]) for i in range(len(dropped))]
    assert totals[-1] <= drops_total
    # one event per gap: each gap is a run of sequence numbers the sim left out (not one before the first frame)
    gaps = runs(source.dropped_sequences)
    if source.dropped_sequences[0] == 0:
        gaps = gaps[1:]
    assert [e.data["dropped"] for e in dropped] == gaps[: len(dropped)]


def test_camera_error_is_published_where_the_error_is_set(small_settings: Callable[..., Settings]) -> None:
    settings = small_settings(
        resolution_preset=7,
        sim_realtime=True,
        target_fps=100,
        sim_cameras=1,
        sim_fault_camera=0,
        camera_timeout_s=0.3,
        sim_error_after_frames=20,
    )
    with CameraSystem(settings) as system:
        events = ThreadedEventLog(system.events)
        events.wait_for("camera_recovered")
        last_error = system.cameras[0].status().last_error
    (error,) = events.named("camera_error")
    (lost,) = events.named("camera_lost")
    assert events.thread_of(error) == "capture-cam0"
    assert error.data == {"camera_id": 0, "message": lost.data["reason"]}
    assert "simulated camera error after 20 frames" in error.data["message"] and error.data["message"] == last_error
    assert events.events.index(error) < events.events.index(lost)  # before the camera_lost it explains


def test_frames_not_recorded_is_published_at_the_first_frame_without_room_and_when_the_run_ends(
    small_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    gate, stuck = threading.Event(), threading.Event()
    original = SegmentWriter.write

    def held_write(self: SegmentWriter, frame: object) -> None:
        stuck.set()
        gate.wait(30)  # the recording thread is stuck until the test lets it go
        original(self, frame)  # type: ignore[arg-type]

    monkeypatch.setattr(SegmentWriter, "write", held_write)
    settings = small_settings(sim_cameras=1, sim_realtime=True, encoder_queue_frames=4, disable_mp4_conversion=True)
    with CameraSystem(settings) as system:
        try:
            events = ThreadedEventLog(system.events)
            system.start_recording()
            (first, *_) = events.wait_for("frames_not_recorded")
            assert isinstance(first, FramesNotRecorded)
            assert (first.camera_id, first.count, first.total) == (0, 1, 1)  # the first frame without room
            assert events.thread_of(first) == "capture-cam0"  # the thread that found no room, at once
            assert stuck.wait(10)
            cam = system.cameras[0]
            before = len(events.named("frames_not_recorded"))
            overflows = int(cam.recorder.stats()["encoder_overflows"])
            version = 0
            while int(cam.recorder.stats()["encoder_overflows"]) < overflows + 20:
                version, _frame = cam.latest.wait_newer(version, 5.0)
            # the writer is stuck: the slots still free are taken (ending a run under way: its rest),
            # then one run without room to the end (its first frame): two events at most, not 20
            assert len(events.named("frames_not_recorded")) <= before + 2
        finally:
            gate.set()
        wait_for_frames(system, 10)
        (result,) = system.stop_recording()
    reports = events.named("frames_not_recorded")
    assert {events.thread_of(e) for e in reports} == {"capture-cam0"}
    assert max(e.data["count"] for e in reports) >= 19  # the rest of the long run, in one event when it ended
    totals = [e.data["total"] for e in reports]
    assert totals == [sum(e.data["count"] for e in reports[: i + 1]) for i in range(len(reports))]
    assert totals[-1] == result.encoder_overflows


def test_recording_first_frame_comes_from_the_recording_thread_as_the_first_frame_is_written(
    small_settings: Callable[..., Settings],
) -> None:
    with CameraSystem(small_settings(sim_cameras=2)) as system:
        events = ThreadedEventLog(system.events)
        system.start_recording()
        firsts = events.wait_for("recording_first_frame", count=2)
        system.stop_recording()
    by_camera = {e.data["camera_id"]: e for e in firsts}
    assert sorted(by_camera) == [0, 1] and len(firsts) == 2  # one per take
    for camera_id, event in by_camera.items():
        assert events.thread_of(event) == f"recorder-cam{camera_id}"  # not a poller's thread
        assert event.data["frames_recorded"] == 1  # published with the first frame, before a second is written
