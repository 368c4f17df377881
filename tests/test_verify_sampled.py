"""verify on long recordings: frames counted without decoding, frame codes checked on a sample
(spread keyframes plus the last group of pictures); `--full` decodes every frame. The sample is
forced here on short clips (full=False) so a test stays quick."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camera_core.frames.framecode import draw_code
from camera_core.recording.convert import convert_file
from camera_core.recording.libx264 import H264Encoder, H264Params
from camera_core.recording.timing_log import COLUMNS, timing_csv_of
from camera_core.tools.verify import main, verify_recording

W, H, FRAMES = 256, 64, 150


def record(folder: Path, codes: list[int], drops: list[int]) -> Path:
    """A .h264 whose frames carry `codes` and a timing CSV (13 fields a row) with `drops`."""
    encoder = H264Encoder(H264Params(W, H, 30.0, keyframe_interval=30))
    video = folder / "cam0_test.h264"
    with video.open("wb") as f:
        for code in codes:
            image = np.full((H * 3 // 2, W), 90, dtype=np.uint8)
            draw_code(image[:H], code)
            for packet in encoder.encode(image, "I420"):
                f.write(packet)
        for packet in encoder.flush():
            f.write(packet)
    with timing_csv_of(video).open("w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for i, d in enumerate(drops):
            f.write(f"{i},1.0,{i * 33_333_333},{d},0,{i},{i * 33_333},33333.333,{i},,,,\n")
    return video


def steady(n: int) -> tuple[list[int], list[int]]:
    drops = [0] * n
    drops[77] = 2
    codes = list(np.cumsum([1 + d for d in drops]) - 1)
    return [int(c) for c in codes], drops


def test_sampled_verify_counts_every_frame_and_passes_a_good_recording(tmp_path: Path) -> None:
    codes, drops = steady(FRAMES)
    video = record(tmp_path, codes, drops)
    report = verify_recording(video, check_codes=True, full=False)
    assert report.ok, report.problems
    assert report.frames == report.rows == FRAMES
    assert report.drops_reported == 2
    assert report.codes_sampled is not None and 1 < report.codes_sampled < FRAMES


def test_sampled_verify_catches_a_drop_the_rows_do_not_report(tmp_path: Path) -> None:
    codes, drops = steady(FRAMES)
    drops[77] = 0  # the video skipped 2 codes the rows do not account for
    video = record(tmp_path, codes, drops)
    report = verify_recording(video, check_codes=True, full=False)
    assert not report.ok
    assert any("frame code" in p for p in report.problems)
    assert not verify_recording(video, check_codes=True, full=True).ok


def test_sampled_verify_of_an_mp4_checks_every_pts(tmp_path: Path) -> None:
    codes, drops = steady(FRAMES)
    video = record(tmp_path, codes, drops)
    mp4 = convert_file(video)
    report = verify_recording(mp4, check_codes=True, full=False)
    assert report.ok, report.problems
    assert report.frames == FRAMES and report.codes_sampled
    # a row whose pts differs from the MP4's frame is named
    csv_path = timing_csv_of(mp4)
    lines = csv_path.read_text().splitlines()
    fields = lines[101].split(",")
    fields[6] = str(int(fields[6]) + 500)
    lines[101] = ",".join(fields)
    csv_path.write_text("\n".join(lines) + "\n")
    bad = verify_recording(mp4, check_codes=True, full=False)
    assert any(p.startswith("frame 100: pts") for p in bad.problems)


def test_verify_tool_says_how_many_codes_it_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import camera_core.tools.verify as verify

    codes, drops = steady(FRAMES)
    video = record(tmp_path, codes, drops)
    monkeypatch.setattr(verify, "FULL_DECODE_FRAMES", 100)  # as if it were a long recording
    assert main(["--codes", str(video)]) == 0
    out = capsys.readouterr().out
    assert f"of {FRAMES:,} (sampled; --full decodes every frame)" in out
    assert main(["--codes", "--full", str(video)]) == 0
    assert "sampled" not in capsys.readouterr().out
