"""Headless mode: record at once without preview until signalled or --duration, then finalize.
`--preview` opens the preview windows alongside (modes/preview_alongside.py). After recording stopped for low
disk space, it resumes on its own once space is back (disk_resume_check_s)."""

from __future__ import annotations

import logging
import sys

from camera_core.config.settings import Settings
from camera_core.errors import CameraCoreError
from camera_core.modes.preview_alongside import preview_alongside
from camera_core.modes.runner import ModeContext, run_mode, say
from camera_core.system import CameraSystem

log = logging.getLogger(__name__)

DISK_STOPS = ("disk_low", "disk_full")


def resume_after_disk_stop(system: CameraSystem) -> bool:
    """Start recording again when it stopped for low disk space and enough is free now."""
    last = system.last_stop
    if system.is_recording or last is None or last.get("reason") not in DISK_STOPS or not system.has_room_to_record():
        return False
    try:
        system.start_recording()
    except CameraCoreError as exc:
        log.warning("disk space is back but recording could not resume: %s", exc)
        return False
    log.info("disk space is back: recording resumed")
    say("main_camera.py: disk space is back: recording resumed")
    return True


def record_until_stopped(ctx: ModeContext) -> int:
    system = ctx.system
    if not system.is_recording:
        try:
            system.start_recording()
        except CameraCoreError as exc:  # LOW_DISK_SPACE: say so plainly, exit 1
            print(f"main_camera.py: error: {exc}", file=sys.stderr)
            return 1
    preview_alongside(ctx)  # only with --preview; returns at stop or when the preview is closed
    check_s = system.settings.disk_resume_check_s
    while not ctx.stop.wait(check_s if check_s > 0 else None):
        resume_after_disk_stop(system)
    if system.is_recording:
        system.stop_recording()
    results = list(system.recordings)  # also those that stopped on their own (disk low or full)
    for r in results:
        files = ", ".join(s.video for s in r.segments) or r.video  # every file of the take
        say(f"cam{r.camera_id}: {r.frames} frames, {r.hardware_drops} drops -> {files}")
    if system.session is not None:
        say(f"session: {system.session.directory}")
    failed = [cam for cam in system.cameras if cam.failure]
    for cam in failed:
        say(f"main_camera.py: error: cam{cam.camera_id} failed during the run: {cam.failure}")
    return 0 if all(not r.errors for r in results) and not failed else 1


def run(settings: Settings) -> int:
    return run_mode(settings, record_until_stopped)
