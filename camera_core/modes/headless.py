"""Headless mode: record at once without preview until signalled or --duration, then finalize.
`--preview` opens the preview windows alongside (modes/monitor.py)."""

from __future__ import annotations

import sys

from camera_core.config.settings import Settings
from camera_core.errors import CameraCoreError
from camera_core.modes.monitor import preview_alongside
from camera_core.modes.runner import ModeContext, run_mode


def record_until_stopped(ctx: ModeContext) -> int:
    system = ctx.system
    if not system.is_recording:
        try:
            system.start_recording()
        except CameraCoreError as exc:  # LOW_DISK_SPACE: say so plainly, exit 1
            print(f"main_camera.py: error: {exc}", file=sys.stderr)
            return 1
    preview_alongside(ctx)  # only with --preview; returns at stop or when the preview is closed
    ctx.stop.wait()
    if system.is_recording:
        system.stop_recording()
    results = list(system.recordings)  # also those that stopped on their own (disk low or full)
    for r in results:
        files = ", ".join(s.video for s in r.segments) or r.video  # every file of the take
        print(f"cam{r.camera_id}: {r.frames} frames, {r.hardware_drops} drops -> {files}", file=sys.stderr)
    if system.session is not None:
        print(f"session: {system.session.directory}", file=sys.stderr)
    return 0 if all(not r.errors for r in results) else 1


def run(settings: Settings) -> int:
    return run_mode(settings, record_until_stopped)
