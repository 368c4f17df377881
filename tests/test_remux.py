"""The .h264 → .mp4 remux: every frame at its timing row's pts, and the verification that refuses
an MP4 whose frames or times differ from the rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camera_core.recording.libx264 import H264Encoder, H264Params
from camera_core.recording.remux import RemuxError, iter_mp4_pts_us, remux_to_mp4, verify_mp4

FRAMES = 12


@pytest.fixture()
def h264(tmp_path: Path) -> Path:
    encoder = H264Encoder(H264Params(64, 48, 30.0))
    path = tmp_path / "clip.h264"
    with path.open("wb") as f:
        for i in range(FRAMES):
            image = np.full((48 * 3 // 2, 64), 16 + 8 * i, dtype=np.uint8)
            for packet in encoder.encode(image, "I420"):
                f.write(packet)
        for packet in encoder.flush():
            f.write(packet)
    return path


def jittered_pts(n: int) -> list[int]:
    return [1_000_000 + i * 33_333 + (i % 3) * 7 for i in range(n)]


def test_remux_keeps_every_rows_pts_to_the_microsecond(h264: Path, tmp_path: Path) -> None:
    pts = jittered_pts(FRAMES)
    mp4 = tmp_path / "clip.mp4"
    assert remux_to_mp4(h264, pts, mp4) == FRAMES
    assert list(iter_mp4_pts_us(mp4)) == pts
    assert not mp4.with_name(mp4.name + ".part").exists()


def test_verify_names_the_first_frame_whose_time_differs(h264: Path, tmp_path: Path) -> None:
    pts = jittered_pts(FRAMES)
    mp4 = tmp_path / "clip.mp4"
    remux_to_mp4(h264, pts, mp4)
    wrong = list(pts)
    wrong[5] += 2
    with pytest.raises(RemuxError, match=r"frame 5 has pts 1166\d+ µs, expected"):
        verify_mp4(mp4, wrong)
    verify_mp4(mp4, [p + 1 for p in pts])  # within ±1 µs


@pytest.mark.parametrize(("rows", "message"), [(FRAMES - 1, "more than 11 frames"), (FRAMES + 1, "holds 12 frames")])
def test_verify_refuses_a_frame_count_other_than_the_rows(h264: Path, tmp_path: Path, rows: int, message: str) -> None:
    mp4 = tmp_path / "clip.mp4"
    remux_to_mp4(h264, jittered_pts(FRAMES), mp4)
    with pytest.raises(RemuxError, match=message):
        verify_mp4(mp4, jittered_pts(rows))


def test_remux_refuses_rows_that_do_not_match_the_frames_and_leaves_no_mp4(h264: Path, tmp_path: Path) -> None:
    mp4 = tmp_path / "clip.mp4"
    with pytest.raises(RemuxError, match="more frames than its 11 timing rows"):
        remux_to_mp4(h264, jittered_pts(FRAMES - 1), mp4)
    assert not mp4.exists() and not mp4.with_name(mp4.name + ".part").exists()
