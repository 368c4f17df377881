"""camera_core/recording/take.py: one camera's take, from its first keyframe to its finalized result."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from camera_core.events import Event, RecordingFirstFrame
from camera_core.recording import segment as segment_module
from camera_core.recording.frames import EncodedFrame, FrameMeta
from camera_core.recording.results import RecordingResult
from camera_core.recording.take import RecordingTarget, Take
from camera_core.recording.timing_log import read_timing_csv

PERIOD_NS = 40_000_000  # 25 fps
T0 = 7_000_000_000


def frame(number: int, keyframe: bool = False, split: str | None = None, sequence: int | None = None) -> EncodedFrame:
    seq = number if sequence is None else sequence
    meta = FrameMeta(number, T0 + seq * PERIOD_NS, PERIOD_NS / 1000, 1_700_000_000_000_000_000, seq, split=split)
    return EncodedFrame(f"<{number}>".encode(), keyframe, meta)


def new_take(directory: Path, **target: object) -> Take:
    return Take(0, RecordingTarget(directory, "cam0_take", **target), RecordingResult(0, "cam0_take"), 25.0)  # type: ignore[arg-type]


def end(take: Take) -> RecordingResult:
    take.finish()
    return take.close()


def test_a_take_in_one_file_records_every_frame_and_its_row(tmp_path: Path) -> None:
    take = new_take(tmp_path)
    for n in range(5):
        take.write(frame(n, keyframe=n == 0))
    result = end(take)
    assert (result.video, result.frames, result.stop_reason, result.errors) == ("cam0_take.h264", 5, "requested", [])
    assert (tmp_path / "cam0_take.h264").read_bytes() == b"<0><1><2><3><4>"
    assert len(read_timing_csv(tmp_path / "cam0_take_frame_timing.csv")) == 5


def test_frames_before_the_first_keyframe_are_left_out_and_reported(tmp_path: Path) -> None:
    take = new_take(tmp_path)
    take.write(frame(0))
    take.write(frame(1))
    take.write(frame(0, keyframe=True, sequence=2))
    result = end(take)
    assert result.frames == 1
    assert "2 frames were not recorded while waiting for a keyframe" in result.errors


def test_a_split_begins_a_new_file_at_the_next_keyframe_and_numbers_both(tmp_path: Path) -> None:
    take = new_take(tmp_path)
    take.write(frame(0, keyframe=True))
    take.write(frame(1, split="time"))  # due, but not a keyframe: stays in the first file
    take.write(frame(0, keyframe=True, sequence=2))
    take.write(frame(1, sequence=3))
    result = end(take)
    assert sorted(p.name for p in tmp_path.glob("*.h264")) == ["cam0_take_seg0001.h264", "cam0_take_seg0002.h264"]
    assert [(s.video, s.split_reason, s.frames) for s in result.segments] == [
        ("cam0_take_seg0001.h264", "start", 2),
        ("cam0_take_seg0002.h264", "time", 2),
    ]
    assert (tmp_path / "cam0_take_seg0002.h264").read_bytes() == b"<0><1>"


def test_after_a_camera_restart_the_next_file_counts_the_frames_lost_between(tmp_path: Path) -> None:
    take = new_take(tmp_path)
    take.write(frame(0, keyframe=True))
    take.end_segment("camera_restart")
    take.write(frame(0, keyframe=True, sequence=6))  # sequences 1..5 lost while the camera was away
    result = end(take)
    assert [s.split_reason for s in result.segments] == ["start", "camera_restart"]
    rows = read_timing_csv(tmp_path / "cam0_take_seg0002_frame_timing.csv")
    assert rows[0]["dropped_since_last"] == "5"


def test_a_frame_whose_burned_number_is_not_its_position_is_reported(tmp_path: Path) -> None:
    take = new_take(tmp_path)
    take.write(frame(0, keyframe=True))
    take.write(frame(2))
    result = end(take)
    assert "1 frames carry a burned-in number that differs from their row" in result.errors


def test_pre_trigger_frames_open_the_take_and_keep_their_running_numbers(tmp_path: Path) -> None:
    take = new_take(tmp_path)
    take.running_numbers = True
    buffered = [frame(100, keyframe=True, sequence=0), frame(101, sequence=1)]
    take.begin(buffered, start_ns=T0 + 2 * PERIOD_NS)
    take.write(frame(102, sequence=2))
    result = end(take)
    assert (result.frames, result.pretrigger_s, take.pretrigger_frames) == (3, 0.08, 2)
    assert result.errors == []
    assert result.segments[0].burned_number_first == 100


def test_a_name_already_taken_fails_at_start(tmp_path: Path) -> None:
    (tmp_path / "cam0_take.h264").write_bytes(b"another take")
    with pytest.raises(FileExistsError):
        new_take(tmp_path)


def test_a_deleted_output_folder_halts_the_take_and_tells_the_listener(tmp_path: Path) -> None:
    folder = tmp_path / "rec"
    take = new_take(folder)
    told: list[tuple[str, str]] = []
    take.listener = lambda reason, detail: told.append((reason, detail))
    shutil.rmtree(folder)
    take.write(frame(0, keyframe=True))
    take.write(frame(1))
    result = end(take)
    assert told == [("output_missing", f"the output folder {folder} was deleted or moved")]
    assert result.stop_reason == "output_missing"
    assert f"recording stopped early (output_missing): the output folder {folder} was deleted or moved" in result.errors


def test_free_space_below_the_floor_stops_the_take_cleanly(tmp_path: Path) -> None:
    take = new_take(tmp_path, stop_free_bytes=10**18)  # more than any disk has
    take.write(frame(0, keyframe=True))
    take.write(frame(1))
    result = end(take)
    assert result.stop_reason == "disk_low"
    assert result.frames == 1  # the frame that found the disk low is the last one
    assert any("below the floor of" in e and "(stop_free_space_mb)" in e for e in result.errors)


def test_a_full_disk_keeps_every_whole_frame_and_takes_no_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    take = new_take(tmp_path)
    take.write(frame(0, keyframe=True))
    real_write = segment_module.TimingLog.write

    def full(self: object, row: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(segment_module.TimingLog, "write", full)
    take.write(frame(1))
    monkeypatch.setattr(segment_module.TimingLog, "write", real_write)
    take.write(frame(2))  # halted: not written
    result = end(take)
    assert result.stop_reason == "disk_full"
    assert (tmp_path / "cam0_take.h264").read_bytes() == b"<0>"
    assert result.frames == 1
    assert "OSError: [Errno 28] No space left on device" in result.errors


def test_the_take_announces_its_first_frame_once_right_after_writing_it(tmp_path: Path) -> None:
    take = new_take(tmp_path)
    seen: list[tuple[Event, int]] = []
    take.publish = lambda event: seen.append((event, take.written))
    take.write(frame(0))  # not a keyframe: left out, nothing written yet
    assert seen == []
    take.write(frame(0, keyframe=True, sequence=1))
    assert [(e, written) for e, written in seen] == [(RecordingFirstFrame(0, 1, time_unix=seen[0][0].time_unix), 1)]
    take.write(frame(1, sequence=2))
    end(take)
    assert len(seen) == 1


def test_with_pre_trigger_frames_the_first_frame_of_the_take_itself_is_announced(tmp_path: Path) -> None:
    take = new_take(tmp_path)
    seen: list[Event] = []
    take.publish = seen.append
    take.begin([frame(0, keyframe=True), frame(1)], start_ns=T0 + 2 * PERIOD_NS)
    assert seen == []  # the pre-trigger frames are not the recording's start
    take.write(frame(2))
    assert [(e.name, e.data) for e in seen] == [("recording_first_frame", {"camera_id": 0, "frames_recorded": 3})]
    end(take)
