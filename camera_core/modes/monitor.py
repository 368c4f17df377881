"""Preview windows alongside a mode that runs on its own (headless, slave): `--preview` opens them.

Call `preview_alongside(ctx)` on the main thread; it returns when the run is told to stop or the
user closes the preview. Closing a window or pressing q closes only the preview (recording and the
master's control go on); s takes a snapshot of every camera where `snapshot_key` is true."""

from __future__ import annotations

import logging
import sys

import cv2

from camera_core.display import PreviewWindows, display_problem
from camera_core.modes.controls import Controls
from camera_core.modes.runner import ModeContext

log = logging.getLogger(__name__)


def preview_alongside(ctx: ModeContext, *, snapshot_key: bool = True) -> bool:
    """Show preview windows until stop or the user closes them, when settings.show_preview is set
    and a window can be opened. Returns whether windows were shown."""
    if not ctx.system.settings.show_preview:
        return False
    problem = display_problem()
    if problem is not None:
        log.warning("--preview: no window: %s", problem, extra={"console": False})  # printed below
        print(f"main_camera.py: --preview: no window: {problem}; running without preview", file=sys.stderr)
        return False
    windows = PreviewWindows(ctx.system.cameras)

    def notify(message: str) -> None:
        windows.show_message(message)
        print(message, file=sys.stderr)

    controls = Controls(ctx.system, ctx.stop, notify)

    def on_key(key: str) -> None:
        key = key.lower()
        if key == "q":
            windows.close()
        elif key == "s" and snapshot_key:
            controls.handle("s")

    windows.on_key = on_key
    try:
        reason = windows.run(ctx.stop.is_set)
    except cv2.error:
        log.exception("preview windows failed; running without preview")
        reason = "failed"
    finally:
        controls.close(stop_recording=False)
    if reason != "stopped":
        print("preview closed; the run goes on (Ctrl+C or SIGTERM stops it)", file=sys.stderr)
    return True
