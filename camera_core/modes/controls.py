"""The interactive commands (r record on/off, s snapshot, q quit), shared by the preview windows
and the terminal: each key is run in order on one worker thread, so the window loop or stdin reader
never waits for a recording to finalize, and each outcome is confirmed in one short line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from camera_core.errors import CameraCoreError
from camera_core.modes.runner import StopRequest
from camera_core.system import CameraSystem

log = logging.getLogger(__name__)

HELP = "r = record on/off, s = snapshot, q = quit"


class Controls:
    """Turns command letters into actions on the system; `notify` gets every confirmation line
    (called from the worker thread, or from the caller's thread for 'q' and unknown keys)."""

    def __init__(self, system: CameraSystem, stop: StopRequest, notify: Callable[[str], None]) -> None:
        self.system = system
        self.stop = stop
        self._notify = notify
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="controls")
        self._actions: dict[str, Callable[[], str]] = {"r": self._toggle_recording, "s": self._snapshot}

    def handle(self, key: str) -> Future[None] | None:
        """Act on one command letter; returns the pending action's future (None for q/unknown)."""
        key = key.strip().lower()
        if key == "q":
            self.say("quitting: finishing files")
            self.stop.set("q pressed")
            return None
        action = self._actions.get(key)
        if action is None:
            self.say(f"unknown command {key!r}: {HELP}")
            return None
        return self._worker.submit(self._run, key, action)

    def say(self, message: str) -> None:
        log.info("%s", message)
        try:
            self._notify(message)
        except Exception:
            log.exception("could not show %r", message)

    def _run(self, key: str, action: Callable[[], str]) -> None:
        try:
            message = action()
        except CameraCoreError as exc:
            message = f"{key}: {exc}"
        except Exception as exc:
            log.exception("command %r failed", key)
            message = f"{key} failed: {type(exc).__name__}: {exc}"
        self.say(message)

    def _toggle_recording(self) -> str:
        if self.system.is_recording:
            self.say("stopping recording ...")
            results = self.system.stop_recording()
            parts = [f"cam{r.camera_id} {r.frames} frames" for r in results]
            problems = [e for r in results for e in r.errors]
            text = "recording stopped: " + ", ".join(parts)
            return text + (f" - problem: {problems[0]}" if problems else "")
        started = self.system.start_recording()
        return f"recording started ({len(started)} camera{'s' if len(started) != 1 else ''})"

    def _snapshot(self) -> str:
        paths = self.system.take_snapshot()
        if not paths:
            return "snapshot: no frame yet"
        return f"snapshot saved ({len(paths)} camera{'s' if len(paths) != 1 else ''})"

    def close(self, *, stop_recording: bool = True) -> None:
        """Finish every command already given (in order) and stop the worker; then stop a recording
        still running (unless told not to), so that quitting confirms what was written."""
        self._worker.shutdown(wait=True)
        if stop_recording and self.system.is_recording:
            self._run("r", self._toggle_recording)
