"""The streaming timing-CSV reader: the columns asked for, every whole row, a torn last line (kill -9,
power loss) or a stray line skipped and counted, block boundaries invisible, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from camera_core.recording.timing_log import COLUMNS, TimingRow, format_row
from camera_core.util import timing_csv
from camera_core.util.timing_csv import Column, TimingCsvError, count_rows, read_columns, read_int_column

HEADER = ",".join(COLUMNS) + "\n"
WANTED = [Column("frame_number"), Column("sensor_timestamp_ns"), Column("frame_duration_us", "float64")]


def rows_text(n: int) -> str:
    return "".join(
        format_row(TimingRow(i, 1_000_000 + 33_333_333 * i, 0, 0, 5 + i, 33_333 * i, 33333.333, i + 1), 1.5)
        for i in range(n)
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cam0_frame_timing.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(params=["one block", "tiny blocks"])
def blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with whole-file blocks and with blocks of a few bytes (lines cut across reads)."""
    if request.param == "tiny blocks":
        monkeypatch.setattr(timing_csv, "BLOCK_BYTES", 37)
        monkeypatch.setattr(timing_csv, "SMALL_FILE_BYTES", 0)


@pytest.mark.usefixtures("blocks")
def test_reads_only_the_columns_asked_for_with_their_values(tmp_path: Path) -> None:
    table = read_columns(write(tmp_path, HEADER + rows_text(500)), WANTED)
    assert sorted(table.values) == sorted(c.name for c in WANTED)
    assert table.rows == 500 and table.skipped_rows == 0
    assert table["frame_number"].tolist() == list(range(500))
    assert table["sensor_timestamp_ns"][-1] == 1_000_000 + 33_333_333 * 499
    assert table["sensor_timestamp_ns"].dtype == np.int64
    assert table["frame_duration_us"][0] == pytest.approx(33333.333)


@pytest.mark.usefixtures("blocks")
def test_empty_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(TimingCsvError, match=r"cam0_frame_timing\.csv: empty file"):
        read_columns(write(tmp_path, ""), WANTED)


@pytest.mark.usefixtures("blocks")
def test_header_only_gives_empty_columns(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER)
    table = read_columns(path, WANTED)
    assert table.rows == 0 and table.skipped_rows == 0
    assert table["frame_number"].size == 0 and table["frame_duration_us"].dtype == np.float64
    assert count_rows(path) == 0
    assert len(read_int_column(path, "pts_us")) == 0


@pytest.mark.usefixtures("blocks")
def test_a_torn_last_line_from_kill_9_is_skipped_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + rows_text(40) + "40,1.5,13333")  # cut inside the third field
    table = read_columns(path, WANTED)
    assert table.rows == 40 and table.skipped_rows == 1
    assert table["frame_number"][-1] == 39
    assert count_rows(path) == 41
    assert list(read_int_column(path, "pts_us")) == [33_333 * i for i in range(40)]  # the torn line has none


@pytest.mark.usefixtures("blocks")
def test_a_last_line_without_newline_that_parses_is_a_row(tmp_path: Path) -> None:
    text = HEADER + rows_text(3)
    table = read_columns(write(tmp_path, text.rstrip("\n")), WANTED)
    assert table.rows == 3 and table.skipped_rows == 0


@pytest.mark.usefixtures("blocks")
def test_a_bad_line_inside_loses_only_that_line(tmp_path: Path) -> None:
    lines = rows_text(30).splitlines(keepends=True)
    lines[12] = "garbage,\xff\n"
    table = read_columns(write(tmp_path, HEADER + "".join(lines)), WANTED)
    assert table.skipped_rows == 1
    assert table["frame_number"].tolist() == [i for i in range(30) if i != 12]


@pytest.mark.usefixtures("blocks")
def test_missing_and_empty_optional_columns_take_their_default(tmp_path: Path) -> None:
    path = write(tmp_path, "frame_number,sensor_timestamp_ns,wall_clock_ns\n0,10,\n1,20,25\n")
    table = read_columns(path, [Column("frame_number"), Column("wall_clock_ns", default=-1), Column("x", default=7)])
    assert table["wall_clock_ns"].tolist() == [-1, 25]
    assert table["x"].tolist() == [7, 7]


def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(TimingCsvError, match=r"missing columns: sensor_timestamp_ns"):
        read_columns(write(tmp_path, "frame_number\n0\n"), WANTED)


@pytest.mark.usefixtures("blocks")
def test_a_value_too_big_for_a_narrow_column_loses_its_row(tmp_path: Path) -> None:
    path = write(tmp_path, "frame_number,dropped_since_last\n0,0\n1,99999999999\n2,1\n")
    table = read_columns(path, [Column("frame_number"), Column("dropped_since_last", "int32")])
    assert table["frame_number"].tolist() == [0, 2] and table.skipped_rows == 1


def test_import_camera_core_loads_neither_opencv_nor_pyav() -> None:
    code = (
        "import sys, camera_core\n"
        "heavy = [m for m in ('cv2', 'av', 'numpy', 'camera_core.system') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "from camera_core import CameraSystem, Settings, load_settings\n"
        "assert CameraSystem.__name__ == 'CameraSystem' and callable(load_settings) and Settings().target_fps > 0\n"
        "print('ok', camera_core.__version__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")


def write_clip(path: Path, frames: int) -> None:
    from camera_core.recording.libx264 import H264Encoder, H264Params

    encoder = H264Encoder(H264Params(64, 48, 30.0, keyframe_interval=10, threads=1))
    image = np.full((72, 64), 128, np.uint8)
    with path.open("wb") as f:
        for _ in range(frames):
            f.writelines(encoder.encode(image, "I420"))
        f.writelines(encoder.flush())


def test_verify_and_recover_name_an_empty_timing_csv_instead_of_failing(tmp_path: Path) -> None:
    from camera_core.tools.recovery.tool import recover_session
    from camera_core.tools.verify import verify_recording

    video = tmp_path / "cam0_64x48_30.0fps_20261201_050115.h264"
    write_clip(video, 5)
    csv_path = tmp_path / "cam0_64x48_30.0fps_20261201_050115_frame_timing.csv"
    csv_path.write_bytes(b"")  # killed before the header was written
    report = verify_recording(video, check_codes=False)
    assert not report.ok
    assert report.problems == [
        "timing CSV unreadable: cam0_64x48_30.0fps_20261201_050115_frame_timing.csv: empty file (no header line)"
    ]
    recovered = recover_session(tmp_path, mp4=False)
    assert recovered["failures"] == []
    # no row, so no frame can be kept: the empty recording is removed and never listed
    assert recovered["files"] == []
    assert not video.exists() and not csv_path.exists()
