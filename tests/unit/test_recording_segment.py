"""camera_core/recording/segment.py: one segment's .h264 and timing CSV, and its finalization."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from camera_core.recording.frames import EncodedFrame, FrameMeta
from camera_core.recording.segment import SegmentFiles, SegmentWriter, finalize_segment, segment_basename
from camera_core.recording.timing_log import read_timing_csv

PERIOD_NS = 40_000_000  # 25 fps
T0 = 5_000_000_000


def encoded(number: int, sequence: int, payload: bytes, extra: dict[str, object] | None = None) -> EncodedFrame:
    meta = FrameMeta(
        number, T0 + sequence * PERIOD_NS, PERIOD_NS / 1000, 1_700_000_000_000_000_000 + sequence, sequence
    )
    if extra:
        meta.extra = extra
    return EncodedFrame(payload, number == 0, meta)


def files(tmp_path: Path, write_csv: bool = True) -> SegmentFiles:
    return SegmentFiles(tmp_path, "cam0_take", write_csv)


def test_segment_names_are_plain_for_a_single_file_and_numbered_otherwise() -> None:
    assert segment_basename("cam0_x", 1, always_numbered=False) == "cam0_x"
    assert segment_basename("cam0_x", 1, always_numbered=True) == "cam0_x_seg0001"
    assert segment_basename("cam0_x", 12, always_numbered=False) == "cam0_x_seg0012"


def test_frames_and_rows_match_one_to_one_and_a_gap_counts_as_drops(tmp_path: Path) -> None:
    writer = SegmentWriter(files(tmp_path), 1, "start", 25.0)
    for number, sequence in enumerate([0, 1, 4]):  # sequences 2 and 3 were lost
        writer.write(encoded(number, sequence, bytes([number]) * 3, {"ExposureTime": 9000}))
    summary = writer.finish()
    assert (tmp_path / "cam0_take.h264").read_bytes() == b"\x00\x00\x00\x01\x01\x01\x02\x02\x02"
    rows = read_timing_csv(tmp_path / "cam0_take_frame_timing.csv")
    assert [r["frame_number"] for r in rows] == ["0", "1", "2"]
    assert [r["dropped_since_last"] for r in rows] == ["0", "0", "2"]
    assert [r["total_hardware_drops"] for r in rows] == ["0", "0", "2"]
    assert [r["pts_us"] for r in rows] == ["0", "40000", "160000"]
    assert [r["sensor_sequence"] for r in rows] == ["0", "1", "4"]
    assert rows[0]["exposure_us"] == "9000"
    assert (summary.frames, summary.hardware_drops) == (3, 2)
    assert summary.first_sensor_timestamp_ns == T0
    assert summary.last_sensor_timestamp_ns == T0 + 4 * PERIOD_NS


def test_a_segment_after_a_split_counts_the_frames_lost_since_the_previous_one(tmp_path: Path) -> None:
    writer = SegmentWriter(files(tmp_path), 2, "camera_restart", 25.0, previous_sensor_ns=T0)
    writer.write(encoded(0, 10, b"x"))  # 9 frames lost between sequence 0 and 10
    writer.finish()
    assert read_timing_csv(tmp_path / "cam0_take_frame_timing.csv")[0]["dropped_since_last"] == "9"


def test_a_row_that_cannot_be_written_cuts_its_frame_off_the_video(tmp_path: Path) -> None:
    writer = SegmentWriter(files(tmp_path), 1, "start", 25.0)
    writer.write(encoded(0, 0, b"first"))

    def full_disk(row: object) -> None:
        raise OSError(28, "No space left on device")

    writer._timing.write = full_disk  # type: ignore[method-assign]
    with pytest.raises(OSError, match="No space left"):
        writer.write(encoded(1, 1, b"second"))
    summary = writer.abort()
    assert (tmp_path / "cam0_take.h264").read_bytes() == b"first"
    assert summary.frames == 1 and summary.aborted


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "cam0_take.h264").write_bytes(b"older take")
    with pytest.raises(FileExistsError):
        SegmentWriter(files(tmp_path), 1, "start", 25.0)
    assert (tmp_path / "cam0_take.h264").read_bytes() == b"older take"


def test_finalize_describes_the_files_with_sizes_and_checksums(tmp_path: Path) -> None:
    writer = SegmentWriter(files(tmp_path), 1, "start", 25.0)
    for n in range(3):
        writer.write(encoded(n, n, b"abc"))
    result = finalize_segment(writer.finish(), convert_mp4=False)
    assert (result.video, result.timing_csv, result.container) == (
        "cam0_take.h264",
        "cam0_take_frame_timing.csv",
        "h264",
    )
    assert result.frames == 3 and result.errors == []
    assert result.duration_s == pytest.approx(3 / 25)  # two periods between first and last + one frame
    h264 = tmp_path / "cam0_take.h264"
    assert result.files[0].name == "cam0_take.h264"
    assert result.files[0].bytes == 9
    assert result.files[0].sha256 == hashlib.sha256(h264.read_bytes()).hexdigest()
    assert result.files[1].name == "cam0_take_frame_timing.csv"


def test_a_failed_mp4_conversion_keeps_the_h264_and_says_so(tmp_path: Path) -> None:
    writer = SegmentWriter(files(tmp_path), 1, "start", 25.0)
    writer.write(encoded(0, 0, b"not an H.264 stream"))
    result = finalize_segment(writer.finish(), convert_mp4=True)
    assert result.container == "h264"
    assert (tmp_path / "cam0_take.h264").exists()
    assert not (tmp_path / "cam0_take.mp4").exists()
    assert len(result.errors) == 1 and result.errors[0].startswith("MP4 conversion failed, .h264 kept")


def test_without_a_csv_the_pts_are_kept_in_memory_and_no_csv_is_listed(tmp_path: Path) -> None:
    writer = SegmentWriter(files(tmp_path, write_csv=False), 1, "start", 25.0)
    writer.write(encoded(0, 0, b"a"))
    writer.write(encoded(1, 2, b"b"))
    summary = writer.finish()
    assert summary.pts_us is not None and list(summary.pts_us) == [0, 80000]
    assert not (tmp_path / "cam0_take_frame_timing.csv").exists()
    result = finalize_segment(summary, convert_mp4=False)
    assert result.timing_csv is None and [f.name for f in result.files] == ["cam0_take.h264"]
