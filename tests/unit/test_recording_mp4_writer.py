"""The MP4 writer: what PyAV, ffprobe and ffmpeg read back from its files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from camera_core.recording.annexb import ByteSource, index_file
from camera_core.recording.libx264 import H264Encoder, H264Params
from camera_core.recording.mp4_reader import mp4_pts_us
from camera_core.recording.mp4_writer import Mp4WriteError, write_mp4

FRAMES = 75  # three groups of pictures at the encoder's keyframe interval or fewer


@pytest.fixture()
def h264(tmp_path: Path) -> Path:
    encoder = H264Encoder(H264Params(100, 60, 30.0))  # 100x60: cropped from 112x64 macroblocks
    path = tmp_path / "clip.h264"
    rng = np.random.default_rng(0)
    with path.open("wb") as f:
        for _ in range(FRAMES):
            image = rng.integers(0, 256, (60 * 3 // 2, 100), dtype=np.uint8)
            for packet in encoder.encode(image, "I420"):
                f.write(packet)
        for packet in encoder.flush():
            f.write(packet)
    return path


def pts_rows(n: int) -> np.ndarray:
    return np.array([1_234_567 + i * 33_333 + (i % 4) * 11 + (40_000 if i > 30 else 0) for i in range(n)])


def test_pyav_reads_every_frame_at_its_pts_with_its_keyframe_flag(h264: Path, tmp_path: Path) -> None:
    mp4 = tmp_path / "out.mp4"
    pts = pts_rows(FRAMES)
    write_mp4(mp4, ByteSource(h264), index_file(h264), pts)
    with av.open(str(h264), format="h264") as src:
        src_keys = [p.is_keyframe for p in src.demux(video=0) if p.size]
    with av.open(str(mp4)) as c:
        stream = c.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (100, 60)
        packets = [(p.pts, p.is_keyframe) for p in c.demux(stream) if p.size]
        tb = stream.time_base
    assert [round(p * tb * 1_000_000) for p, _ in packets] == pts.tolist()
    assert [k for _, k in packets] == src_keys
    assert sum(src_keys) >= 1
    with av.open(str(mp4)) as c:
        assert sum(1 for _ in c.decode(video=0)) == FRAMES
    assert mp4_pts_us(mp4).tolist() == pts.tolist()


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffprobe")
def test_ffprobe_and_ffmpeg_accept_the_file(h264: Path, tmp_path: Path) -> None:
    mp4 = tmp_path / "out.mp4"
    pts = pts_rows(FRAMES)
    write_mp4(mp4, ByteSource(h264), index_file(h264), pts)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time", "-of", "json", str(mp4)],
        capture_output=True,
        text=True,
        check=True,
    )
    times = [float(p["pts_time"]) for p in json.loads(out.stdout)["packets"]]
    assert np.allclose(times, pts / 1e6, atol=1e-6)
    decode = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(mp4), "-f", "null", "-"], capture_output=True, text=True
    )
    assert decode.returncode == 0 and decode.stderr == ""


def test_refuses_times_that_do_not_increase(h264: Path, tmp_path: Path) -> None:
    pts = pts_rows(FRAMES)
    pts[10] = pts[9]
    with pytest.raises(Mp4WriteError, match="do not increase at frame 10"):
        write_mp4(tmp_path / "out.mp4", ByteSource(h264), index_file(h264), pts)
