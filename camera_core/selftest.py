"""The self-test: a short clip per camera into a scratch folder, verified by decoding it (frames =
rows, frame codes on sim cameras), checksummed, then deleted; pass/fail per camera. A camera fails
when it was lost during the clip, when its clip was split, or when it dropped more frames than
self_test_max_drops."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camera_core.errors import AlreadyRecordingError, CameraCoreError
from camera_core.recording.recorder import RecordingResult, RecordingTarget
from camera_core.verify import verify_recording

if TYPE_CHECKING:
    from camera_core.camera import Camera
    from camera_core.system import CameraSystem

log = logging.getLogger(__name__)


def health_problems(cam: Camera, result: RecordingResult, lost_before: int, max_drops: int) -> list[str]:
    """What went wrong with the camera itself during the clip: lost (and restarted), a clip split
    into several files, more drops than allowed."""
    problems: list[str] = []
    lost = cam.lost_count - lost_before
    if lost > 0:
        problems.append(f"camera lost {lost} time(s) during the clip ({cam.last_error})")
    if len(result.segments) > 1:
        reasons = ", ".join(s.split_reason for s in result.segments[1:])
        problems.append(f"clip split into {len(result.segments)} files ({reasons})")
    if result.hardware_drops > max_drops:
        problems.append(f"{result.hardware_drops} dropped frame(s), more than self_test_max_drops {max_drops}")
    return problems


def camera_report(
    cam: Camera, result: RecordingResult, folder: Path, lost_before: int = 0, max_drops: int = 0
) -> dict[str, Any]:
    """Pass when frames were recorded, nothing failed, the camera was never lost, the clip is one
    file with no more drops than allowed, and every file decodes to exactly its rows."""
    report: dict[str, Any] = {
        "camera_id": cam.camera_id,
        "frames": result.frames,
        "rows": 0,
        "drops": result.hardware_drops,
        "files": len(result.segments),
        "bytes": sum(f.bytes for f in result.files),
        "sha256": result.files[0].sha256 if result.files else None,
        "problems": [*result.errors, *health_problems(cam, result, lost_before, max_drops)],
    }
    check_codes = cam.source.info.backend == "sim"
    for seg in result.segments:  # the self-test always writes the timing CSV (write_csv=True)
        verified = verify_recording(folder / seg.video, folder / str(seg.timing_csv), check_codes=check_codes)
        report["rows"] += verified.rows
        report["problems"].extend(verified.problems)
    if result.frames == 0:
        report["problems"].append("no frames recorded")
    report["passed"] = not report["problems"]
    return report


def failed_report(camera_id: int, problem: str) -> dict[str, Any]:
    """A camera's report when the self-test could not record (same keys as camera_report)."""
    return {
        "camera_id": camera_id,
        "frames": 0,
        "rows": 0,
        "drops": 0,
        "files": 0,
        "bytes": 0,
        "sha256": None,
        "problems": [problem],
        "passed": False,
    }


def run_self_test(system: CameraSystem, seconds: float) -> dict[str, Any]:
    """Record `seconds` on every camera at once, verify, delete; never leaves the clip behind."""
    with system._control:
        system._require_running()
        assert system.session is not None
        if system.is_recording:
            raise AlreadyRecordingError("recording is on; stop_recording before the self-test")
        folder = system.session.directory / f"self_test_{datetime.now().strftime('%Y%m%d_%H%M%S_%f')}"
        reports: list[dict[str, Any]] = []
        try:
            system._check_free_space(system.session.directory)
            started: list[Camera] = []
            lost_before = {cam.camera_id: cam.lost_count for cam in system.cameras}
            for cam in system.cameras:
                target = RecordingTarget(
                    directory=folder,
                    basename=f"{system._basename_prefix(cam)}_selftest",
                    write_csv=True,
                    convert_mp4=False,
                    stop_free_bytes=system.stop_free_bytes,
                )
                cam.recorder.start(target)
                started.append(cam)
            threading.Event().wait(seconds)  # the clip's length
            for cam in started:
                result = cam.recorder.stop()
                max_drops = system.settings.self_test_max_drops
                reports.append(camera_report(cam, result, folder, lost_before[cam.camera_id], max_drops))
        except CameraCoreError as exc:
            for cam in system.cameras:
                if cam.recorder.active:
                    cam.recorder.stop()
            reports = [failed_report(cam.camera_id, f"{exc.code}: {exc}") for cam in system.cameras]
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    passed = bool(reports) and all(r["passed"] for r in reports)
    for r in reports:
        log.info(
            "self-test cam%d: %s, %d frames, %d rows%s",
            r["camera_id"],
            "PASS" if r["passed"] else "FAIL",
            r["frames"],
            r["rows"],
            (": " + "; ".join(r["problems"])) if r["problems"] else "",
        )
    summary = {"passed": passed, "seconds": seconds, "time_unix": time.time(), "cameras": reports}
    system.events.publish("self_test", passed=passed, cameras=[(r["camera_id"], r["passed"]) for r in reports])
    return summary
