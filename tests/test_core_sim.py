"""The sim source: frame codes, sensor-style timestamps, seeded drops and jitter, pacing."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import av
import numpy as np
import pytest

from camera_core.frames.framecode import cell_size, draw_code, read_code
from camera_core.recording.libx264 import H264Encoder, H264Params
from camera_core.sources.sim import SimParams, SimSource, boottime_ns
from camera_core.timing import drops_between


def frames(source: SimSource, n: int) -> list:
    out = [source.read() for _ in range(n)]
    assert all(f is not None for f in out)
    return out


def open_sim(**kw: object) -> SimSource:
    params = {"width": 320, "height": 240, "fps": 30.0, "realtime": False, **kw}
    source = SimSource(0, SimParams(**params))  # type: ignore[arg-type]
    source.open()
    source.start()
    return source


@pytest.mark.parametrize(("width", "value"), [(320, 0), (320, 1), (640, 123456789), (1456, 2**32 - 1), (64, 77)])
def test_frame_code_round_trip(width: int, value: int) -> None:
    plane = np.full((100, width), 90, dtype=np.uint8)
    draw_code(plane, value)
    assert read_code(plane) == value
    c = cell_size(width)
    assert (plane[: 100 - c] == 90).all()  # only the bottom c rows are touched


def test_frame_codes_survive_h264(tmp_path: Path) -> None:
    source = open_sim()
    encoder = H264Encoder(H264Params(320, 240, 30.0))
    data = b"".join(b for f in frames(source, 30) for b in encoder.encode(f.image, "I420"))
    data += b"".join(encoder.flush())
    (tmp_path / "v.h264").write_bytes(data)
    with av.open(str(tmp_path / "v.h264"), format="h264") as container:
        codes = [read_code(f.to_ndarray(format="gray")) for f in container.decode(video=0)]
    assert codes == list(range(30))


def test_timestamps_are_one_frame_duration_apart_on_boottime() -> None:
    before = boottime_ns()
    source = open_sim(fps=25.0)
    got = frames(source, 50)
    period = 1e9 / 25
    assert before <= got[0].sensor_timestamp_ns <= boottime_ns()
    gaps = np.diff([f.sensor_timestamp_ns for f in got])
    assert np.all(np.abs(gaps - period) <= 1)
    assert [f.sequence for f in got] == list(range(50))
    assert got[0].frame_duration_us == pytest.approx(40000)
    assert got[0].image.shape == (360, 320)


def test_drops_are_seeded_and_show_as_timestamp_gaps() -> None:
    a = open_sim(drop_rate=0.1, seed=3)
    b = open_sim(drop_rate=0.1, seed=3)
    fa, fb = frames(a, 300), frames(b, 300)
    assert [f.sequence for f in fa] == [f.sequence for f in fb]
    assert a.dropped_sequences and a.dropped_sequences == b.dropped_sequences
    delivered = {f.sequence for f in fa}
    assert not delivered & set(a.dropped_sequences)
    period = 1e9 / 30
    counted = sum(
        drops_between(y.sensor_timestamp_ns - x.sensor_timestamp_ns, period) for x, y in itertools.pairwise(fa)
    )
    assert counted == len([s for s in a.dropped_sequences if s < fa[-1].sequence])
    assert 0.05 < len(a.dropped_sequences) / fa[-1].sequence < 0.15


def test_jitter_stays_within_bounds_and_never_looks_like_a_drop() -> None:
    source = open_sim(jitter_us=2000, seed=1)
    got = frames(source, 300)
    period = 1e9 / 30
    offsets = [f.sensor_timestamp_ns - got[0].sensor_timestamp_ns - f.sequence * period for f in got]
    assert max(abs(o) for o in offsets) <= 4_000_000 + 2
    assert max(abs(o) for o in offsets) > 500_000  # jitter really happens
    gaps = [y.sensor_timestamp_ns - x.sensor_timestamp_ns for x, y in itertools.pairwise(got)]
    assert all(drops_between(g, period) == 0 for g in gaps)


def test_explicit_drop_sequences() -> None:
    source = open_sim(drop_sequences=frozenset({3, 4, 10}))
    assert [f.sequence for f in frames(source, 10)] == [0, 1, 2, 5, 6, 7, 8, 9, 11, 12]


def test_realtime_source_is_paced_by_the_clock() -> None:
    source = open_sim(fps=50.0, realtime=True)
    start = time.monotonic()
    got = frames(source, 11)
    elapsed = time.monotonic() - start
    assert elapsed >= 0.19  # 10 frame periods of 20 ms after the first frame
    lag_ms = (boottime_ns() - got[-1].sensor_timestamp_ns) / 1e6
    assert 0 <= lag_ms < 100  # delivered when due, not ahead of the sensor clock


def test_buffer_pool_reuses_only_buffers_nobody_holds() -> None:
    from camera_core.frames.pool import BufferPool

    pool = BufferPool((6, 4), max_buffers=3)
    a = pool.acquire()
    b = pool.acquire()
    assert a is not b and len(pool) == 2  # both held: a second buffer was made
    view = a[:2]  # a view keeps its base alive, like Frame.luma()
    del a
    c = pool.acquire()
    assert c is not view.base and c is not b  # the buffer behind the view is not handed out again
    del view, b, c
    for _ in range(10):
        pool.acquire()
    assert len(pool) == 3 and pool.allocated == 3  # released buffers are reused, nothing new made


def test_sim_frames_come_from_a_bounded_pool() -> None:
    source = open_sim()
    held = [source.read() for _ in range(5)]  # five frames in flight
    for _ in range(50):
        frame = source.read()
        assert frame is not None and read_code(frame.luma()) == frame.sequence
    assert source._texture is not None and source._texture.pool.allocated <= 7
    assert [read_code(f.luma()) for f in held] == [f.sequence for f in held]  # held frames untouched


def test_drop_counter_keeps_its_total_across_a_camera_restart() -> None:
    from camera_core.timing import DropCounter

    period = 1e9 / 30
    counter = DropCounter()
    stamps = [0, 1, 2, 5, 6]  # sequences: 2 frames lost before the restart
    assert [counter.observe(round(s * period), period) for s in stamps] == [0, 0, 0, 2, 0]
    counter.new_timeline()  # restarted sensor: a new timeline far from the old one
    after = [counter.observe(round((1000 + s) * period), period) for s in (0, 1, 3)]
    assert after == [0, 0, 1]  # the jump to the new timeline is no drop; a later gap is
    assert counter.total == 3
