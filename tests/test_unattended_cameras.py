"""Camera failures: a camera that stalls (no frames) or raises is restarted with backoff while the
other camera carries on; its recording continues in a new file; status, log and events tell it.
Warm-up frames are skipped after every (re)start."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import pytest

from camera_core.config import Settings
from camera_core.frames.framecode import read_code
from camera_core.pipeline.restart import RestartBackoff
from camera_core.recording.recorder import RecordingResult
from camera_core.system import CameraSystem
from camera_core.tools.verify import verify_recording
from tests.conftest import wait_for_frames
from tests.unattended_support import EventLog, codes_of, rows_of

WARMUP = 3


def run_with_fault(settings: Settings) -> tuple[CameraSystem, EventLog, dict[str, object], list[RecordingResult]]:
    """Record while camera 0 fails once; returns after it recovered and recorded 10 more frames."""
    system = CameraSystem(settings)
    with system:
        events = EventLog(system.events)
        system.start_recording()
        events.wait_for("camera_lost")
        events.wait_for("camera_recovered")
        cam0 = system.cameras[0]
        recorded = int(cam0.recorder.stats()["frames_recorded"])
        version = 0
        while int(cam0.recorder.stats()["frames_recorded"]) < recorded + 10:
            version, _ = cam0.latest.wait_newer(version, 10.0)
        status = system.status()
        results = system.stop_recording()
    return system, events, status, results


@pytest.mark.parametrize(
    "fault",
    [{"sim_stall_after_frames": 40}, {"sim_error_after_frames": 40}],
    ids=["stall", "error"],
)
def test_lost_camera_restarts_and_records_on_in_a_new_file(
    small_settings: Callable[..., Settings], fault: dict[str, int]
) -> None:
    settings = small_settings(
        resolution_preset=7,
        sim_realtime=True,
        target_fps=100,
        sim_cameras=2,
        sim_fault_camera=0,
        camera_timeout_s=0.3,
        warmup_frames=WARMUP,
        **fault,
    )
    system, events, status, results = run_with_fault(settings)
    assert system.session is not None
    folder = system.session.directory
    lost, recovered = events.named("camera_lost"), events.named("camera_recovered")
    assert [e.data["camera_id"] for e in lost] == [0] and [e.data["camera_id"] for e in recovered] == [0]
    expected = "no frame" if "sim_stall_after_frames" in fault else "simulated camera error"
    assert expected in str(lost[0].data["reason"])
    downtime = float(recovered[0].data["downtime_s"])  # last frame before the outage to the first after
    if "sim_stall_after_frames" in fault:
        assert 0.3 <= downtime < 5.0, downtime  # the stall lasted camera_timeout_s before it was noticed
    else:
        assert 0.0 < downtime < 5.0, downtime
    cam0_status, cam1_status = status["cameras"]  # type: ignore[misc]
    assert (cam0_status["restarts"], cam0_status["lost_count"], cam0_status["state"]) == (1, 1, "running")
    assert (cam1_status["restarts"], cam1_status["lost_count"]) == (0, 0)
    assert cam0_status["warmup_skipped"] == 2 * WARMUP  # at the start and after the restart
    cam0, cam1 = results
    # camera 0: the take goes on in a second file after the restart, each file whole
    assert [s.split_reason for s in cam0.segments] == ["start", "camera_restart"]
    # a take in several files numbers every one of them (the first is renamed when the second begins)
    assert [s.video for s in cam0.segments] == [f"{cam0.basename}_seg0001.h264", f"{cam0.basename}_seg0002.h264"]
    assert not (folder / f"{cam0.basename}.h264").exists()
    for seg in cam0.segments:
        report = verify_recording(folder / seg.video, folder / seg.timing_csv)
        assert report.ok, report.problems
    first, second = (codes_of(folder / s.video) for s in cam0.segments)
    assert first[-1] == 39  # every frame delivered before the fault is in the first file
    assert second[0] == WARMUP  # the restarted sensor counts from 0; warm-up frames skipped
    assert cam0.segments[1].frames >= 10
    # the frames the camera missed while it was down are drops: the first row after the restart
    # counts the gap since the last frame before it (outage / period - 1)
    rows0, rows1 = (rows_of(folder / str(s.timing_csv)) for s in cam0.segments)
    gap_ns = int(rows1[0]["sensor_timestamp_ns"]) - int(rows0[-1]["sensor_timestamp_ns"])
    missed = round(gap_ns / (float(rows1[0]["frame_duration_us"]) * 1000)) - 1
    assert missed >= 1 and int(rows1[0]["dropped_since_last"]) == missed
    assert cam0.hardware_drops == missed == cam0.segments[1].hardware_drops
    assert cam0_status["hardware_drops"] >= missed  # status counts them as well
    # camera 1 carried on: one file, no frame missing
    assert len(cam1.segments) == 1
    report = verify_recording(folder / cam1.video)
    assert report.ok and report.drops_reported == 0, report.problems
    assert cam1.frames > cam0.segments[0].frames
    log_text = (folder / "session.log").read_text()
    assert "cam0: camera lost" in log_text and "cam0: camera recovered" in log_text


def test_restart_waits_double_up_to_the_limit() -> None:
    backoff = RestartBackoff(first_s=0.5, max_s=3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_warmup_frames_are_never_snapshotted_or_recorded(small_settings: Callable[..., Settings]) -> None:
    warmup = 7
    system = CameraSystem(small_settings(resolution_preset=7, sim_cameras=1, sim_realtime=True, warmup_frames=warmup))
    with system:
        (snapshot,) = system.take_snapshot()  # the first frame the system has is already past warm-up
        system.start_recording()
        wait_for_frames(system, 5)
        (result,) = system.stop_recording()
        status = system.status()["cameras"][0]
    gray = cv2.imread(str(snapshot), cv2.IMREAD_GRAYSCALE)
    assert read_code(gray) >= warmup
    assert status["warmup_skipped"] == warmup
    assert system.session is not None
    assert codes_of(system.session.directory / result.video)[0] >= warmup
