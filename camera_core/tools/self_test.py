"""The self-test: a short clip per camera into a scratch folder, verified by decoding it (frames =
rows, frame codes on sim cameras), checksummed, then deleted; pass/fail per camera. A camera fails
when it was lost during the clip, when its clip was split, or when it dropped more frames than
self_test_max_drops."""

from __future__ import annotations

import logging
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camera_core.errors import AlreadyRecordingError, CameraCoreError
from camera_core.events import SelfTest
from camera_core.recording.recorder import RecordingResult
from camera_core.tools.verify import verify_recording

if TYPE_CHECKING:
    from camera_core.pipeline.camera_pipeline import CameraPipeline
    from camera_core.system import CameraSystem

log = logging.getLogger(__name__)


def health_problems(cam: CameraPipeline, result: RecordingResult, lost_before: int, max_drops: int) -> list[str]:
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
    cam: CameraPipeline, result: RecordingResult, folder: Path, lost_before: int = 0, max_drops: int = 0
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


def run_self_test(system: CameraSystem, seconds: float | None = None) -> dict[str, Any]:
    """Record `seconds` (default: the self_test_seconds setting) on every camera at once, verify,
    delete; never leaves the clip behind. Returns {"passed": bool, "cameras": [per-camera
    reports], ...} and publishes a `self_test` event."""
    seconds = system.settings.self_test_seconds if seconds is None else seconds
    if system.session is None:
        raise RuntimeError("the camera system is not running; call start() first")
    folder = system.session.directory / f"self_test_{datetime.now().strftime('%Y%m%d_%H%M%S_%f')}"
    max_drops = system.settings.self_test_max_drops
    try:
        clips = system.record_clip(folder, seconds, "selftest")
        reports = [camera_report(c.camera, c.result, folder, c.lost_before, max_drops) for c in clips]
    except AlreadyRecordingError:
        raise
    except CameraCoreError as exc:
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
    system.events.publish(SelfTest(passed, [(r["camera_id"], r["passed"]) for r in reports]))
    return summary
