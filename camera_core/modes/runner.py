"""What every mode shares: signal handling, --duration, the session's capture of native output,
building and always stopping the camera system."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TextIO

from camera_core.config.settings import Settings
from camera_core.errors import CameraCoreError
from camera_core.session import NativeOutputCapture
from camera_core.system import CameraSystem

log = logging.getLogger(__name__)


class StopRequest:
    """Set by SIGINT/SIGTERM, --duration, a quit key or command; says why."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            log.info("stopping: %s", reason)
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.event.wait(timeout)


@contextmanager
def stop_signals(stop: StopRequest) -> Iterator[None]:
    """SIGINT and SIGTERM request a clean stop (files finalized) instead of killing the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.set(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def start_duration_timer(stop: StopRequest, seconds: float) -> None:
    if seconds > 0:
        timer = threading.Timer(seconds, stop.set, args=(f"--duration {seconds:g} s elapsed",))
        timer.daemon = True
        timer.start()


@dataclass(slots=True)
class ModeContext:
    """What a mode's body gets: the running system, the stop request, and the real stdout
    (the only way to it when `protocol_stdout` is set)."""

    system: CameraSystem
    stop: StopRequest
    stdout: TextIO


def run_mode(
    settings: Settings,
    body: Callable[[ModeContext], int | None],
    *,
    protocol_stdout: bool = False,
    on_start_error: Callable[[CameraCoreError], None] | None = None,
) -> int:
    """Start the system with native output captured into session.log, run `body`, always stop.

    `protocol_stdout`: stdout is reserved for the caller (slave protocol); Python prints go to the
    log. Returns the exit code: body's, 1 when the cameras could not start."""
    stop = StopRequest()
    capture = NativeOutputCapture(keep_python_stdout=not protocol_stdout)
    capture.start()
    console = sys.stderr if settings.console_output else None
    system = CameraSystem(settings, console=console)
    code = 0
    try:
        with stop_signals(stop):
            try:
                system.start()
            except CameraCoreError as exc:
                log.error("could not start: %s", exc)
                if on_start_error is not None:
                    on_start_error(exc)
                print(f"main_camera.py: error: {exc}", file=sys.stderr)
                return 1
            for warning in system.warnings:  # e.g. simulated cameras because picamera2 is missing
                print(f"main_camera.py: warning: {warning}", file=sys.stderr)
            start_duration_timer(stop, settings.duration)
            assert capture.protocol_stream is not None
            code = body(ModeContext(system, stop, capture.protocol_stream)) or 0
    except Exception:
        log.exception("unexpected error; finalizing files")
        code = 1
    finally:
        try:
            system.stop()
        finally:
            capture.stop()
    return code
