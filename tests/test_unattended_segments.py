"""Segments: a take split by time into numbered files, each with its own timing CSV numbered from
0 and pts from 0; together they hold every frame once (frame codes prove it); the manifest lists
them in order."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from camera_core.config import Settings
from camera_core.system import CameraSystem
from camera_core.tools.verify import verify_recording
from tests.conftest import wait_for_frames
from tests.unattended_support import codes_of, rows_of


@pytest.mark.parametrize(
    ("mp4", "encoder_process"), [(False, False), (True, False), (False, True)], ids=["h264", "mp4", "worker_process"]
)
def test_segments_split_by_time_lose_and_repeat_no_frame(
    small_settings: Callable[..., Settings], mp4: bool, encoder_process: bool
) -> None:
    settings = small_settings(
        sim_cameras=1,
        resolution_preset=7,
        segment_seconds=1.0,
        disable_mp4_conversion=not mp4,
        sim_drop_rate=0.06,
        encoder_process=encoder_process,
    )
    system = CameraSystem(settings)
    with system:
        (started,) = system.start_recording()
        wait_for_frames(system, 100)  # 30 fps sensor time: 4 files
        (result,) = system.stop_recording()
    assert system.session is not None
    folder = system.session.directory
    segments = result.segments
    assert len(segments) >= 4
    stem = result.basename
    suffix = ".mp4" if mp4 else ".h264"
    assert [s.video for s in segments] == [f"{stem}_seg{i:04d}{suffix}" for i in range(1, len(segments) + 1)]
    assert started["video"] == f"{stem}_seg0001.h264"
    assert [s.split_reason for s in segments] == ["start"] + ["time"] * (len(segments) - 1)
    all_codes: list[int] = []
    drops = 0
    for seg in segments:
        video = folder / seg.video
        assert not (folder / f"{video.stem}.h264").exists() or not mp4  # converted, .h264 removed
        report = verify_recording(video, folder / seg.timing_csv)  # frames = rows, codes, mp4 pts
        assert report.ok, report.problems
        rows = rows_of(folder / seg.timing_csv)
        assert [int(r["frame_number"]) for r in rows] == list(range(len(rows)))
        assert int(rows[0]["pts_us"]) == 0
        assert int(rows[-1]["total_hardware_drops"]) == sum(int(r["dropped_since_last"]) for r in rows)
        span_s = (int(rows[-1]["sensor_timestamp_ns"]) - int(rows[0]["sensor_timestamp_ns"])) / 1e9
        assert span_s < 1.0
        codes = codes_of(video)
        if all_codes:  # across the boundary: the next sensor frame, or exactly the dropped ones skipped
            assert codes[0] - all_codes[-1] == 1 + int(rows[0]["dropped_since_last"])
        all_codes += codes
        drops += sum(int(r["dropped_since_last"]) for r in rows)
    assert all_codes == sorted(set(all_codes))  # none repeated
    missing = set(range(all_codes[0], all_codes[-1] + 1)) - set(all_codes)
    assert drops > 0 and len(missing) == drops  # only the injected drops are missing, each reported once
    assert result.frames == len(all_codes) == sum(s.frames for s in segments)
    manifest = json.loads((folder / "manifest.json").read_text())
    (entry,) = manifest["recordings"]
    assert [s["video"] for s in entry["segments"]] == [s.video for s in segments]
    assert [s["index"] for s in entry["segments"]] == list(range(1, len(segments) + 1))
    listed = {f["name"] for f in entry["files"]}
    assert listed == {s.video for s in segments} | {s.timing_csv for s in segments}


def test_without_segments_the_file_keeps_the_spec_name(small_settings: Callable[..., Settings]) -> None:
    system = CameraSystem(small_settings(sim_cameras=1, resolution_preset=7))
    with system:
        system.start_recording()
        wait_for_frames(system, 40)
        (result,) = system.stop_recording()
    assert len(result.segments) == 1
    assert result.video == f"{result.basename}.h264"
    assert result.segments[0].video == result.video
