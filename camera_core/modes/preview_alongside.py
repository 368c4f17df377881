"""The preview beside a mode that runs on its own (headless, slave): windows with `--preview`
where a window can be opened, otherwise the null preview. The mode only runs what is chosen.

`preview_alongside(ctx)` runs on the main thread; it returns when the run is told to stop or the
user closes the preview (at once for the null preview). Closing a window or pressing q closes
only the preview (recording and the master's control go on); s takes a snapshot of every camera
where `snapshot_key` is true."""

from __future__ import annotations

import logging
import sys

from camera_core.modes.controls import Controls
from camera_core.modes.runner import ModeContext
from camera_core.preview import NullPreview, Preview, PreviewEnd

log = logging.getLogger(__name__)


def choose_preview(ctx: ModeContext) -> Preview:
    """Windows when settings.show_preview is set and a window can be opened; else none (said why)."""
    if not ctx.system.settings.show_preview:
        return NullPreview()
    from camera_core.display import PreviewWindows, display_problem  # OpenCV: only for windows

    problem = display_problem()
    if problem is not None:
        log.warning("--preview: no window: %s", problem, extra={"console": False})  # printed below
        print(f"main_camera.py: --preview: no window: {problem}; running without preview", file=sys.stderr)
        return NullPreview()
    return PreviewWindows(ctx.system.cameras)


def run_alongside(ctx: ModeContext, preview: Preview, *, snapshot_key: bool = True) -> PreviewEnd:
    """Run `preview` on this (main) thread until stop or the user closes it; keys q and s."""

    def notify(message: str) -> None:
        preview.show_message(message)
        print(message, file=sys.stderr)

    controls = Controls(ctx.system, ctx.stop, notify)

    def on_key(key: str) -> None:
        key = key.lower()
        if key == "q":
            preview.close()
        elif key == "s" and snapshot_key:
            controls.handle("s")

    preview.on_key = on_key
    cv2 = sys.modules.get("cv2")  # OpenCV's errors can only come from windows that loaded it
    window_errors: tuple[type[BaseException], ...] = (cv2.error,) if cv2 is not None else ()
    try:
        end = preview.run(ctx.stop.is_set)
    except window_errors:
        log.exception("preview windows failed; running without preview")
        end = PreviewEnd.FAILED
    finally:
        controls.close(stop_recording=False)
    if end not in (PreviewEnd.STOPPED, PreviewEnd.NONE):
        print("preview closed; the run goes on (Ctrl+C or SIGTERM stops it)", file=sys.stderr)
    return end


def preview_alongside(ctx: ModeContext, *, snapshot_key: bool = True) -> PreviewEnd:
    """Choose the preview and run it (see the module docstring)."""
    return run_alongside(ctx, choose_preview(ctx), snapshot_key=snapshot_key)
