"""End to end on simulated cameras: every recording decoded and checked against its timing rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
import simplejpeg

from camera_core.config import Settings
from camera_core.frames.framecode import code_region, read_code
from camera_core.frames.overlay import OverlayStyle, burn_frame_number, frame_number_box
from camera_core.recording.timing_log import COLUMNS, read_timing_csv
from camera_core.sources.sim import SimSource
from camera_core.system import CameraSystem
from camera_core.tools.verify import decode_frames, verify_recording
from camera_core.util.files import sha256_file
from tests.conftest import wait_for_frames


def record(settings: Settings, frames: int) -> tuple[CameraSystem, list[Path]]:
    """Run a system, record at least `frames` frames per camera, stop; return it and the videos."""
    system = CameraSystem(settings)
    with system:
        system.start_recording()
        wait_for_frames(system, frames)
        results = system.stop_recording()
    assert system.session is not None
    return system, [system.session.directory / r.video for r in results]


def rows_of(video: Path) -> list[dict[str, str]]:
    with video.with_name(video.stem + "_frame_timing.csv").open() as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("encoder_process", [False, True], ids=["in_recorder", "worker_process"])
def test_two_cameras_frames_equal_rows_and_codes_step_by_drops(
    small_settings: Callable[..., Settings], encoder_process: bool
) -> None:
    _, videos = record(small_settings(sim_cameras=2, encoder_process=encoder_process), 90)
    assert len(videos) == 2
    for video in videos:
        assert video.suffix == ".h264" and video.exists()
        report = verify_recording(video)
        assert report.ok, report.problems
        assert report.frames >= 90
        rows = rows_of(video)
        assert list(rows[0])[:5] == list(COLUMNS[:5])
        assert [int(r["frame_number"]) for r in rows] == list(range(len(rows)))
        assert int(rows[0]["pts_us"]) == 0


@pytest.mark.parametrize("encoder_process", [False, True], ids=["in_recorder", "worker_process"])
def test_injected_drops_are_reported_exactly(small_settings: Callable[..., Settings], encoder_process: bool) -> None:
    settings = small_settings(sim_cameras=1, sim_drop_rate=0.05, sim_seed=7, encoder_process=encoder_process)
    system, videos = record(settings, 200)
    source = system.cameras[0].source
    assert isinstance(source, SimSource)
    video = videos[0]
    frames = decode_frames(video)
    rows = rows_of(video)
    assert len(frames) == len(rows)
    codes = [f.code for f in frames]
    first, last = codes[0], codes[-1]
    injected = {s for s in source.dropped_sequences if first < s < last}
    missing_by_code = set(range(first, last + 1)) - set(codes)
    assert injected, "the seed must inject some drops in this range"
    assert missing_by_code == injected  # every injected drop is missing from the video, nothing else
    reported = sum(int(r["dropped_since_last"]) for r in rows)
    assert reported == len(injected)  # every drop reported, none invented
    assert int(rows[-1]["total_hardware_drops"]) == len(injected)
    for prev, cur, row in zip(codes, codes[1:], rows[1:], strict=False):
        assert cur - prev == 1 + int(row["dropped_since_last"])


def test_mp4_pts_equal_timing_rows_and_h264_is_removed(small_settings: Callable[..., Settings]) -> None:
    _, videos = record(
        small_settings(sim_cameras=1, disable_mp4_conversion=False, sim_drop_rate=0.05, sim_jitter_us=300), 120
    )
    video = videos[0]
    assert video.suffix == ".mp4"
    assert not video.with_suffix(".h264").exists()
    rows = rows_of(video)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        pts = [round(f.pts * f.time_base * 1_000_000) for f in container.decode(stream)]
    assert len(pts) == len(rows)
    sensor = [int(r["sensor_timestamp_ns"]) for r in rows]
    for p, row, s in zip(pts, rows, sensor, strict=True):
        assert abs(p - int(row["pts_us"])) <= 1
        assert abs(int(row["pts_us"]) - (s - sensor[0]) / 1000) <= 1
    assert verify_recording(video).ok


def read_burned_number(luma: np.ndarray, candidates: list[int], style: OverlayStyle) -> int:
    """The candidate whose rendering best matches the burned-in box of a decoded frame."""
    x0, y0, x1, y1 = frame_number_box(luma.shape[1], style)
    crop = luma[y0:y1, x0:x1].astype(np.int16)
    scores = []
    for n in candidates:
        canvas = np.full_like(luma, 128)
        burn_frame_number(canvas, n, style)
        scores.append(np.abs(canvas[y0:y1, x0:x1].astype(np.int16) - crop).mean())
    return candidates[int(np.argmin(scores))]


@pytest.mark.parametrize("encoder_process", [False, True], ids=["in_recorder", "worker_process"])
def test_frame_number_is_burned_into_the_frame_its_row_describes(
    small_settings: Callable[..., Settings], encoder_process: bool
) -> None:
    settings = small_settings(sim_cameras=1, encoder_process=encoder_process)
    _, videos = record(settings, 40)
    style = OverlayStyle(settings.font_scale_base, settings.thickness_base, settings.text_color_bgr)
    rows = rows_of(videos[0])
    with av.open(str(videos[0]), format="h264") as container:
        for i, frame in enumerate(container.decode(video=0)):
            luma = frame.to_ndarray(format="gray")
            number = int(rows[i]["frame_number"])
            candidates = [number + d for d in (-11, -10, -1, 0, 1, 10, 11) if number + d >= 0]
            assert read_burned_number(luma, candidates, style) == number
            # the frame code region is never drawn over: it still decodes to the row's sequence
            assert read_code(luma) == int(rows[i]["sensor_sequence"])
    box_x0, _, _, box_y1 = frame_number_box(settings.frame_size[0], style)
    _, code_y0, code_x1, _ = code_region(*settings.frame_size)
    assert box_y1 <= code_y0 or box_x0 >= code_x1


def test_manifest_lists_recordings_with_checksums_and_config(small_settings: Callable[..., Settings]) -> None:
    system, videos = record(small_settings(sim_cameras=2), 30)
    assert system.session is not None
    manifest = json.loads(system.session.manifest_path.read_text())
    assert manifest["complete"] is True
    assert manifest["config"]["sim_cameras"] == 2
    assert {"camera_core", "python", "av", "numpy"} <= set(manifest["software"])
    assert len(manifest["cameras"]) == 2
    recs = manifest["recordings"]
    assert sorted(r["video"] for r in recs) == sorted(v.name for v in videos)
    for rec in recs:
        video = system.session.directory / rec["video"]
        assert rec["frames"] == len(rows_of(video))
        assert rec["first_sensor_timestamp_ns"] < rec["last_sensor_timestamp_ns"]
        assert rec["duration_s"] > 0 and rec["width"] == 640 and rec["height"] == 480 and rec["fps"] == 30
        assert "libx264" in rec["encoder"]
        for entry in rec["files"]:
            path = system.session.directory / entry["name"]
            assert entry["sha256"] == sha256_file(path) and entry["bytes"] == path.stat().st_size


def test_second_recording_in_the_same_second_does_not_overwrite(small_settings: Callable[..., Settings]) -> None:
    with CameraSystem(small_settings(sim_cameras=1)) as system:
        names = []
        for _ in range(3):
            system.start_recording()
            wait_for_frames(system, 5)
            names.append(system.stop_recording()[0].video)
    assert len(set(names)) == 3
    assert system.session is not None
    for name in names:
        assert verify_recording(system.session.directory / name).ok


def test_snapshot_while_recording_is_a_full_size_jpeg(small_settings: Callable[..., Settings]) -> None:
    with CameraSystem(small_settings(sim_cameras=2)) as system:
        system.start_recording()
        wait_for_frames(system, 10)
        paths = system.take_snapshot()
        wait_for_frames(system, 20)
        results = system.stop_recording()
    assert [p.name.split("_")[1] for p in paths] == ["cam0", "cam1"]
    assert system.session is not None
    folder = system.session.directory
    shots = {s["file"]: s for s in json.loads((folder / "manifest.json").read_text())["snapshots"]}
    for path, result in zip(paths, results, strict=True):
        image = simplejpeg.decode_jpeg(path.read_bytes(), colorspace="GRAY")
        assert image.shape[:2] == (480, 640)
        # the snapshot shows the very frame the manifest names: its code is that frame's CSV row's
        rows = read_timing_csv(folder / str(result.timing_csv))
        (row,) = [r for r in rows if int(r["sensor_timestamp_ns"]) == shots[path.name]["sensor_timestamp_ns"]]
        assert read_code(image[:, :, 0] if image.ndim == 3 else image) == int(row["sensor_sequence"])
    assert all(r.frames >= 20 for r in results)


def test_status_reports_per_camera_figures(small_settings: Callable[..., Settings]) -> None:
    with CameraSystem(small_settings(sim_cameras=2, sim_drop_rate=0.1)) as system:
        system.start_recording()
        wait_for_frames(system, 40)
        status = system.status()
        system.stop_recording()
    assert status["recording"] is True and status["backend"] == "sim"
    for cam in status["cameras"]:
        assert cam["frames_captured"] >= cam["frames_recorded"] >= 40
        assert cam["hardware_drops"] > 0
        # from sensor timestamps over the last 31 frames: 30 fps, lowered (never raised) by the drops in that window
        assert 20 < cam["hardware_fps"] <= 30.001
        assert cam["encoder_overflows"] == 0


def test_bad_requests_are_clear_errors(small_settings: Callable[..., Settings]) -> None:
    from camera_core.errors import AlreadyRecordingError, CameraNotFoundError, NotRecordingError

    with CameraSystem(small_settings(sim_cameras=1)) as system:
        with pytest.raises(NotRecordingError):
            system.stop_recording()
        with pytest.raises(CameraNotFoundError, match="cameras: 0"):
            system.start_recording(camera_id=5)
        system.start_recording()
        with pytest.raises(AlreadyRecordingError):
            system.start_recording()
    # leaving the block finalized the recording that was still running
    assert system.recordings and verify_recording(system.session.directory / system.recordings[0].video).ok


def test_takes_of_all_cameras_end_on_the_same_instant_with_mp4(small_settings: Callable[..., Settings]) -> None:
    """stop_recording ends every camera's take before any of them spends time on MP4 conversion."""
    settings = small_settings(sim_cameras=3, resolution_preset=0, sim_realtime=True, disable_mp4_conversion=False)
    with CameraSystem(settings) as system:
        system.start_recording()
        wait_for_frames(system, 30)
        results = system.stop_recording()
    assert system.session is not None
    last_wall = [int(rows_of(system.session.directory / r.video)[-1]["wall_clock_ns"]) for r in results]
    period_ns = 1e9 / settings.target_fps
    assert max(last_wall) - min(last_wall) <= 1.5 * period_ns  # within one frame of each other
