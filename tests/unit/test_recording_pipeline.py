"""camera_core/recording/pipeline.py: admission, the recording thread and its queue, with a stage
that needs no codec (each frame "encodes" to its number), so every file can be read byte for byte."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from camera_core.errors import CameraBusyError
from camera_core.frames.frame import Frame
from camera_core.recording import pipeline as pipeline_module
from camera_core.recording.encoders import EncoderStage
from camera_core.recording.frames import EncodedFrame, FrameMeta
from camera_core.recording.pipeline import RecordingPipeline
from camera_core.recording.take import RecordingTarget
from camera_core.timing import BootToWallClock

PERIOD_NS = 40_000_000  # 25 fps


class NumberStage(EncoderStage):
    """Every frame a keyframe whose bytes are its burned number; `encode` waits while `gate` is
    clear (a disk or encoder that stops answering), and says when it is waiting."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    @property
    def label(self) -> str:
        return "numbers"

    def encode(self, frame: Frame, meta: FrameMeta) -> Iterator[EncodedFrame]:
        if not self.gate.is_set():
            self.waiting.set()
            assert self.gate.wait(30), "the test never opened the gate"
        yield EncodedFrame(f"<{meta.number}>".encode(), True, meta)


def frame(n: int) -> Frame:
    image = np.zeros((48 * 3 // 2, 64), dtype=np.uint8)
    return Frame(0, image, "I420", 5_000_000_000 + n * PERIOD_NS, PERIOD_NS / 1000, sequence=n)


def new_pipeline(stage: EncoderStage, queue_frames: int = 8) -> RecordingPipeline:
    return RecordingPipeline(
        0,
        stage,
        BootToWallClock(),
        width=64,
        height=48,
        fps=25.0,
        style=None,
        queue_frames=queue_frames,
        block_when_full=False,
    )


def target(directory: Path, name: str) -> RecordingTarget:
    return RecordingTarget(directory, name, convert_mp4=False)


def test_every_submitted_frame_is_written_in_order_with_its_row(tmp_path: Path) -> None:
    pipe = new_pipeline(NumberStage())
    pipe.start(target(tmp_path, "cam0_a"))
    for n in range(6):
        pipe.submit(frame(n))
    result = pipe.stop()
    pipe.close()
    assert (result.frames, result.errors) == (6, [])
    assert (tmp_path / "cam0_a.h264").read_bytes() == b"<0><1><2><3><4><5>"
    assert len((tmp_path / "cam0_a_frame_timing.csv").read_text().splitlines()) == 1 + 6


def test_a_full_queue_counts_frames_not_recorded_instead_of_waiting(tmp_path: Path) -> None:
    stage = NumberStage()
    stage.gate.clear()
    pipe = new_pipeline(stage, queue_frames=2)
    pipe.start(target(tmp_path, "cam0_a"))
    pipe.submit(frame(0))
    assert stage.waiting.wait(10)  # the recording thread holds frame 0
    for n in range(1, 6):
        pipe.submit(frame(n))  # frame 1 takes the last slot; 2..5 find none
    assert pipe.stats()["encoder_overflows"] == 4
    stage.gate.set()
    result = pipe.stop()
    pipe.close()
    assert (result.frames, result.encoder_overflows) == (2, 4)


def test_a_recording_thread_that_never_ends_keeps_its_queue_and_refuses_a_new_take(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that never returns (a hung disk): stop and close give up after the timeout, and no
    second recording thread may share the stuck one's queue: a new take is refused with a clear
    error until the stuck thread has ended, and then records every frame."""
    monkeypatch.setattr(pipeline_module, "STOP_TIMEOUT_S", 0.3)
    stage = NumberStage()
    stage.gate.clear()
    pipe = new_pipeline(stage)
    pipe.start(target(tmp_path, "cam0_a"))
    pipe.submit(frame(0))
    assert stage.waiting.wait(10)
    first = pipe.stop()
    assert any("did not finish the take" in e for e in first.errors)
    pipe.close()  # gives up on the thread too

    with pytest.raises(CameraBusyError, match="recording thread is still writing"):
        pipe.start(target(tmp_path, "cam0_b"))
    assert not (tmp_path / "cam0_b.h264").exists()  # refused before any file was made

    stuck = next(t for t in threading.enumerate() if t.name == "recorder-cam0")
    stage.gate.set()
    stuck.join(10)
    assert not stuck.is_alive()

    monkeypatch.setattr(pipeline_module, "STOP_TIMEOUT_S", 30.0)
    pipe.start(target(tmp_path, "cam0_c"))
    for n in range(4):
        pipe.submit(frame(n))
    second = pipe.stop()
    pipe.close()
    assert (second.frames, second.errors) == (4, [])
    assert (tmp_path / "cam0_c.h264").read_bytes() == b"<0><1><2><3>"


def test_a_frame_caught_by_the_encoder_stopping_is_not_queued(tmp_path: Path) -> None:
    """The encoder stops (close) between a frame's quick unlocked check and its admission: the
    frame must be refused under the lock, not queued for a recording thread that has ended."""
    calls: list[int] = []

    def stop_midway(_frame: Frame) -> bool:
        if not calls:
            calls.append(1)
            pipe.close()  # what another thread may do at this instant
        return False

    pipe = RecordingPipeline(
        0,
        NumberStage(),
        BootToWallClock(),
        width=64,
        height=48,
        fps=25.0,
        style=None,
        queue_frames=4,
        block_when_full=False,
        pretrigger_seconds=1.0,  # frames are admitted between takes too, into the buffer
        holds_frame=stop_midway,
    )
    pipe.prepare()
    pipe.submit(frame(0))
    assert calls == [1]
    assert pipe.stats()["encoder_queue"] == 0
