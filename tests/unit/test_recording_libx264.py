"""libx264's worker threads run at h264_worker_nice while the Python threads keep their priority
(recording/libx264.py opens the codec from a short-lived niced thread)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from camera_core.frames.frame import Frame
from camera_core.recording.encoders import PyAVStage
from camera_core.recording.frames import FrameMeta
from camera_core.recording.libx264 import H264Params


def nice_of_threads() -> dict[int, int]:
    """Thread id -> nice value of every thread of this process (Linux /proc)."""
    out = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        out[int(task.name)] = int(fields[16])  # field 19 of stat: nice (after pid and comm)
    return out


@pytest.mark.parametrize("nice", [10, 0])
def test_only_the_encoders_own_threads_are_niced(nice: int) -> None:
    before = nice_of_threads()
    encoder = PyAVStage(H264Params(320, 240, 30.0, threads=4, worker_nice=nice))  # what recordings use
    packets = []
    for i in range(12):
        image = np.full((240 * 3 // 2, 320), i * 10, dtype=np.uint8)
        frame = Frame(0, image, "I420", i * 33_333_333, 33_333.3)
        packets += list(encoder.encode(frame, FrameMeta(i, frame.sensor_timestamp_ns, 33_333.3, 0, i)))
    after = nice_of_threads()  # before the flush, which closes the codec and ends its threads
    packets += list(encoder.flush())
    workers = {tid: n for tid, n in after.items() if tid not in before}
    assert len(packets) == 12
    mine = before[threading.get_native_id()]
    assert workers and set(workers.values()) == {max(nice, mine)}, workers  # libx264 started its threads
    assert after[threading.get_native_id()] == mine  # the calling thread keeps its priority
    del encoder
