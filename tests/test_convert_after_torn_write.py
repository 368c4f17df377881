"""A recording cut short by a kill (half a frame, a torn row) → recover → convert: the MP4 holds
every whole frame at its row's pts, PyAV decodes all of it, and convert never loads PyAV."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import numpy as np

from camera_core.recording.libx264 import H264Encoder, H264Params
from camera_core.recording.timing_log import COLUMNS, timing_csv_of
from camera_core.tools.recovery.repair import repair_pair

ROOT = Path(__file__).resolve().parent.parent
FRAMES = 64


def torn_recording(folder: Path) -> Path:
    encoder = H264Encoder(H264Params(96, 64, 30.0, keyframe_interval=20))
    video = folder / "cam0_test.h264"
    packets: list[bytes] = []
    for i in range(FRAMES):
        image = np.random.default_rng(i).integers(0, 256, (96, 96), dtype=np.uint8)
        packets += [bytes(p) for p in encoder.encode(image, "I420")]
    packets += [bytes(p) for p in encoder.flush()]
    assert len(packets) == FRAMES
    with video.open("wb") as f:
        f.write(b"".join(packets[:-1]) + packets[-1][: len(packets[-1]) // 2])  # the last frame cut short
    with timing_csv_of(video).open("w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for i in range(FRAMES):
            f.write(f"{i},1.0,{i * 33_333_333},0,0,{i},{500_000 + i * 33_341},33333.333,{i},,,,\n")
        f.write("64,1.0,21")  # a torn row
    return video


def test_recover_then_convert_gives_every_whole_frame_at_its_pts(tmp_path: Path) -> None:
    video = torn_recording(tmp_path)
    report = repair_pair(video, timing_csv_of(video))
    assert report.frames == FRAMES - 1
    code = (
        "import sys; from camera_core.recording.convert import main; rc = main(sys.argv[1:]); "
        "print('av loaded' if 'av' in sys.modules else 'no av'); sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert "no av" in proc.stdout
    mp4 = video.with_suffix(".mp4")
    with av.open(str(mp4)) as c:
        stream = c.streams.video[0]
        pts = [round(f.pts * f.time_base * 1_000_000) for f in c.decode(stream)]
    assert pts == [500_000 + i * 33_341 for i in range(FRAMES - 1)]
    decode = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(mp4), "-f", "null", "-"], capture_output=True, text=True
    )
    assert decode.stderr == ""
