"""Interactive mode (the default): a preview window per camera with keys r/s/q, or, with
--no-preview or where no window can be opened, one-letter commands + Enter on stdin."""

from __future__ import annotations

import logging
import sys
from functools import partial

import cv2

from camera_core.config.settings import Settings
from camera_core.display import DisplayProbe, PreviewWindows
from camera_core.modes.controls import HELP, Controls
from camera_core.modes.runner import ModeContext, run_mode
from camera_core.modes.terminal import Console, isatty, run_terminal
from camera_core.preview import PreviewEnd

log = logging.getLogger(__name__)


def run(settings: Settings) -> int:
    # The window test runs in a child process while the cameras start.
    probe = DisplayProbe.start() if settings.show_preview else None
    return run_mode(settings, partial(interactive, probe=probe))


def interactive(ctx: ModeContext, probe: DisplayProbe | None) -> int:
    if probe is not None:
        problem = probe.problem()
        if problem is None:
            try:
                return with_windows(ctx)
            except cv2.error as exc:
                problem = f"OpenCV could not show a window ({str(exc).strip().splitlines()[-1]})"
                log.exception("preview windows failed")
        log.warning("no preview windows: %s", problem, extra={"console": False})  # printed below
        print(f"main_camera.py: no preview window: {problem}; using terminal commands instead", file=sys.stderr)
    return with_terminal(ctx)


def _announce(ctx: ModeContext, how: str) -> None:
    session = ctx.system.session.directory if ctx.system.session else "?"
    backend = ctx.system.backend
    print(f"{len(ctx.system.cameras)} {backend} camera(s) ready; {how}. Session: {session}", file=sys.stderr)


def with_windows(ctx: ModeContext) -> int:
    console = Console(sys.stderr, live=False)
    windows = PreviewWindows(ctx.system.cameras)

    def notify(message: str) -> None:
        windows.show_message(message)
        console.say(message)

    controls = Controls(ctx.system, ctx.stop, notify)
    windows.on_key = controls.handle
    _announce(ctx, f"keys in a preview window: {HELP}; closing a window quits")
    try:
        end = windows.run(ctx.stop.is_set)
        if end is PreviewEnd.WINDOW_CLOSED:
            console.say("window closed: quitting")
            ctx.stop.set("preview window closed")
    finally:
        controls.close()
    return 0


def with_terminal(ctx: ModeContext) -> int:
    console = Console(sys.stderr, live=isatty(sys.stderr))
    controls = Controls(ctx.system, ctx.stop, console.say)
    _announce(ctx, f"type a letter and Enter: {HELP}; Ctrl+C quits")
    try:
        run_terminal(controls, console, ctx.stop)
    finally:
        controls.close()
    return 0
