"""camera_core/sources/lifecycle.py: the checked open/start/read/stop/close every source shares."""

from __future__ import annotations

import importlib
import threading

import pytest

from camera_core.frames.frame import Frame
from camera_core.sources.base import CameraInfo
from camera_core.sources.lifecycle import LifecycleSource, SourceState, SourceStateError
from camera_core.sources.sim import SimParams, SimSource


class Recorder(LifecycleSource):
    """A backend that records which hooks ran; `_read` waits on the stop event like a paced camera."""

    def __init__(self, fail_open: bool = False) -> None:
        super().__init__(camera_id=3)
        self.calls: list[str] = []
        self.fail_open = fail_open
        self.reading = threading.Event()

    @property
    def info(self) -> CameraInfo:
        return CameraInfo(3, "test", "recorder", 2, 2, 1.0, "I420")

    def _open(self) -> None:
        self.calls.append("open")
        if self.fail_open:
            raise RuntimeError("no device")

    def _start(self) -> None:
        self.calls.append("start")

    def _read(self, timeout: float) -> Frame | None:
        self.reading.set()
        self._stop_event.wait(timeout)
        return None

    def _stop(self) -> None:
        self.calls.append("stop")

    def _close(self) -> None:
        self.calls.append("close")


def test_read_before_start_names_the_camera_and_the_missing_call() -> None:
    source = Recorder()
    with pytest.raises(SourceStateError, match=r"cam3: read\(\) while the source is new: start\(\) it first"):
        source.read()
    source.open()
    with pytest.raises(SourceStateError, match="while the source is open"):
        source.read()


def test_start_before_open_is_an_error_and_calls_no_hook() -> None:
    source = Recorder()
    with pytest.raises(SourceStateError, match=r"cam3: start\(\) while the source is new: open\(\) it first"):
        source.start()
    assert source.calls == []


def test_full_cycle_calls_each_hook_once_and_repeats_are_no_ops() -> None:
    source = Recorder()
    source.open()
    source.open()
    source.start()
    source.start()
    assert source.state is SourceState.RUNNING
    source.stop()
    source.stop()
    assert source.read(timeout=0) is None  # stopped: a racing read gets nothing, no error
    source.close()
    source.close()
    assert source.read(timeout=0) is None
    assert source.calls == ["open", "start", "stop", "close"]
    assert source.state is SourceState.CLOSED


def test_close_of_a_running_source_stops_it_first_and_reopen_works() -> None:
    source = Recorder()
    source.open()
    source.start()
    source.close()
    assert source.calls == ["open", "start", "stop", "close"]
    with pytest.raises(SourceStateError, match="while the source is closed"):
        source.start()
    source.open()
    source.start()
    assert source.state is SourceState.RUNNING


def test_a_failed_open_releases_what_it_took_and_leaves_the_source_unopened() -> None:
    source = Recorder(fail_open=True)
    with pytest.raises(RuntimeError, match="no device"):
        source.open()
    assert source.calls == ["open", "close"]
    with pytest.raises(SourceStateError):
        source.start()


def test_stop_from_another_thread_wakes_a_waiting_read() -> None:
    source = Recorder()
    source.open()
    source.start()
    result: list[Frame | None] = []
    reader = threading.Thread(target=lambda: result.append(source.read(timeout=30)))
    reader.start()
    assert source.reading.wait(5)
    source.stop()
    reader.join(5)
    assert not reader.is_alive() and result == [None]


@pytest.mark.parametrize(
    "backend",
    [
        "camera_core.sources.sim:SimSource",
        "camera_core.sources.opencv_source:USBCameraSource",
        "camera_core.sources.opencv_source:VideoFileSource",
        "camera_core.sources.picamera2_source:Picamera2Source",
    ],
)
def test_every_backend_shares_the_checked_lifecycle(backend: str) -> None:
    module, name = backend.split(":")
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, LifecycleSource)
    for method in ("open", "start", "read", "stop", "close"):
        if backend.endswith("Picamera2Source") and method == "close":
            continue  # stops a running encoder first, then LifecycleSource.close
        assert getattr(cls, method) is getattr(LifecycleSource, method), f"{name}.{method} bypasses the checks"


def test_restart_cycles_the_sim_and_its_frames_begin_again_at_sequence_zero() -> None:
    sim = SimSource(0, SimParams(64, 48, 30.0, realtime=False))
    sim.open()
    sim.start()
    first = [sim.read() for _ in range(3)]
    assert [f.sequence for f in first if f is not None] == [0, 1, 2]
    sim.restart(attempt=2)  # stop, close, open, start
    frame = sim.read()
    assert frame is not None and frame.sequence == 0
    sim.close()
    assert sim.read() is None and sim.state is SourceState.CLOSED
