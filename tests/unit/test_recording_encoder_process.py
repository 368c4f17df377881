"""ProcessStage (recording/encoder_process.py): libx264 in a worker process fed through shared
memory gives the same frames as the frames handed to it, fails cleanly when its worker dies, and
leaves no process or shared-memory file behind."""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path

import av
import numpy as np
import pytest

from camera_core.config.loader import read_config_file
from camera_core.errors import ConfigError
from camera_core.frames.frame import Frame
from camera_core.frames.framecode import draw_code, read_code
from camera_core.recording.encoder_process import EncoderProcessError, ProcessStage
from camera_core.recording.frames import EncodedFrame, FrameMeta
from camera_core.recording.libx264 import H264Params

WIDTH, HEIGHT = 320, 240


def sim_frame(sequence: int) -> Frame:
    image = np.full((HEIGHT * 3 // 2, WIDTH), 128, np.uint8)
    image[:HEIGHT] = (np.arange(WIDTH, dtype=np.uint16)[None, :] * 3 + sequence * 5).astype(np.uint8)
    draw_code(image[:HEIGHT], sequence)
    return Frame(0, image, "I420", sequence * 33_333_000, 33_333.0, sequence=sequence)


def meta(number: int, split: str | None = None) -> FrameMeta:
    return FrameMeta(number, number * 33_333_000, 33_333.0, number * 33_333_000, number, None, split)


def decoded_codes(frames: list[EncodedFrame]) -> list[int]:
    stream = io.BytesIO(b"".join(f.data for f in frames))
    with av.open(stream, format="h264") as container:
        return [read_code(frame.to_ndarray(format="gray")) for frame in container.decode(video=0)]


def children() -> set[int]:
    """Process ids of this process's children (from /proc)."""
    me = str(os.getpid())
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z":
                out.add(int(entry.name))
    return out


@pytest.fixture
def stage() -> ProcessStage:
    made = ProcessStage(H264Params(WIDTH, HEIGHT, 30.0, keyframe_interval=10), nice=5, slots=4)
    yield made
    made.close()


def test_frames_come_back_in_order_with_their_metadata_and_pictures(stage: ProcessStage) -> None:
    out: list[EncodedFrame] = []
    for i in range(40):
        out += stage.encode(sim_frame(i), meta(i, "start" if i == 0 else "time" if i == 25 else None))
    out += stage.flush()
    assert [f.meta.number for f in out] == list(range(40))
    assert out[0].keyframe and out[25].keyframe  # a new file's first frame is forced to a keyframe
    assert decoded_codes(out) == list(range(40))


def test_the_worker_runs_niced_and_survives_a_flush(stage: ProcessStage) -> None:
    out = [*stage.encode(sim_frame(0), meta(0, "start")), *stage.flush()]  # the worker has answered
    pid = stage.pid
    assert pid is not None
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 5)
    out2 = [*stage.encode(sim_frame(1), meta(0, "start")), *stage.flush()]
    assert stage.pid == pid and stage.started == 1
    assert len(out) == 1 and len(out2) == 1 and out2[0].keyframe  # a new codec after the flush


def test_a_killed_worker_is_an_error_and_the_next_frame_starts_a_new_one(stage: ProcessStage) -> None:
    for i in range(5):
        list(stage.encode(sim_frame(i), meta(i)))
    pid = stage.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(EncoderProcessError, match="signal 9"):
        for i in range(5, 30):
            list(stage.encode(sim_frame(i), meta(i)))
        list(stage.flush())
    stage.discard()
    assert pid not in children()
    out = [*stage.encode(sim_frame(0), meta(0, "start")), *stage.flush()]
    assert stage.pid not in (None, pid) and stage.started == 2
    assert decoded_codes(out) == [0]


def test_close_leaves_no_process_and_no_shared_memory_file() -> None:
    shm_before = set(os.listdir("/dev/shm"))
    before = children()
    stage = ProcessStage(H264Params(WIDTH, HEIGHT, 30.0), nice=0, slots=60)
    list(stage.encode(sim_frame(0), meta(0, "start")))
    assert stage.slots == 8  # the ring is small whatever the queue: frames wait in the pipeline's queue
    assert children() - before == {stage.pid}
    stage.close()
    assert children() - before == set()
    assert set(os.listdir("/dev/shm")) - shm_before == set()


@pytest.mark.parametrize(
    ("line", "fragment"),
    [("encoder_process = sometimes", "true or false"), ("encoder_process_nice = 25", "0 to 19")],
)
def test_bad_encoder_process_settings_are_clear_errors(tmp_path: Path, line: str, fragment: str) -> None:
    cfg = tmp_path / "config.txt"
    cfg.write_text(f"{line}\n")
    with pytest.raises(ConfigError) as info:
        read_config_file(cfg)
    assert line.split()[0] in str(info.value) and fragment in str(info.value)
