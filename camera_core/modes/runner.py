"""What every mode shares: signal handling, --duration, the session's capture of native output,
building and always stopping the camera system."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TextIO

from camera_core.config.settings import Settings
from camera_core.errors import CameraCoreError
from camera_core.modes.service import ServiceWatchdog
from camera_core.session import NativeOutputCapture
from camera_core.system import CameraSystem

log = logging.getLogger(__name__)


class StopRequest:
    """Set by a signal, --duration, a quit key or command; says why."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""
        #: Stop signals that came after the first (ignored: the shutdown is under way).
        self.repeated_signals = 0
        self.from_signal = False
        self._announce_lock = threading.Lock()
        self._announced = False
        self._reported = 0

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            log.info("stopping: %s", reason)
        self.event.set()

    def set_from_signal(self, name: str) -> None:
        """From a signal handler: no logging or other I/O there (the interrupted main thread may
        be inside the same logger or stream); `announce_signal_stop` logs it from its own thread."""
        if self.event.is_set():
            self.repeated_signals += 1
            return
        self.reason = name
        self.from_signal = True
        self.event.set()

    def announce(self) -> None:
        """Log a signal's stop request and repeated signals not logged yet (any thread but the
        handler's; idempotent)."""
        with self._announce_lock:
            if self.from_signal and not self._announced:
                self._announced = True
                log.info("stopping: %s", self.reason)
            if self.repeated_signals > self._reported:
                log.warning(
                    "%d more stop signal(s) while stopping: ignored, the files are finalized first",
                    self.repeated_signals - self._reported,
                )
                self._reported = self.repeated_signals

    def is_set(self) -> bool:
        return self.event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.event.wait(timeout)


#: Signals whose default action ends the process: each one requests a clean stop instead, so the
#: files are finalized and the manifest completed (SIGHUP: the terminal or ssh session closed).
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGPWR")
    if hasattr(signal, name)
)


#: Set by the CLI, whose process ends right after the run: a late stop signal then cannot turn a
#: finished, finalized run into a killed process (they stay ignored; `exit_within` makes sure it ends).
hold_signals_after_run = False


#: How long the process may take to exit after its run (every file finalized) before it exits anyway.
EXIT_GRACE_S = 10.0


def exit_within(code: int, seconds: float = EXIT_GRACE_S) -> None:
    """After the run, with every file finalized and stop signals held off: should the process still
    be alive `seconds` from now (a thread that does not end keeps the interpreter waiting), end it
    with the run's own exit code, naming the threads that kept it. Never waits itself."""

    def last_resort() -> None:
        time.sleep(seconds)
        lingering = [t.name for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]
        say(f"exiting: the run ended {seconds:g} s ago but thread(s) {lingering} did not; files are finalized")
        os._exit(code)

    threading.Thread(target=last_resort, name="exit-grace", daemon=True).start()


@contextmanager
def stop_signals(stop: StopRequest) -> Iterator[None]:
    """While the block runs (start, the mode, and the final shutdown), every signal of
    STOP_SIGNALS requests a clean stop; a repeated one is noted and changes nothing: the files
    are being finalized and the process ends when they are."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.set_from_signal(signal.Signals(signum).name)

    done = threading.Event()
    announcer = threading.Thread(target=announce_signal_stop, args=(stop, done), name="stop-signal", daemon=True)
    announcer.start()
    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, signal.SIG_IGN if hold_signals_after_run else h)
        done.set()
        announcer.join(timeout=1)
        stop.announce()  # signals during the last moments: on stderr (session.log is closed)


def announce_signal_stop(stop: StopRequest, done: threading.Event) -> None:
    """Log what the signal handler may not (StopRequest.announce), as soon as it happens."""
    while not done.is_set():
        stop.wait(0.1)
        stop.announce()
        if stop.is_set():
            done.wait(0.1)


def say(text: str) -> None:
    """One line on stderr; a closed terminal (SIGHUP, ssh gone) must not turn into an error."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


class StderrWarnings(logging.StreamHandler):  # type: ignore[type-arg]
    """Warnings and errors of camera_core on stderr too (the journal under systemd), one line each;
    records logged with extra={"console": False} are left out (they are printed otherwise)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.setLevel(logging.WARNING)
        self.setFormatter(logging.Formatter("main_camera.py: %(levelname)s: %(message)s"))
        self.addFilter(lambda record: getattr(record, "console", True))

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.levelname = record.levelname.lower()
        if record.exc_info or record.exc_text:  # one line here; the traceback is in session.log
            record.exc_info, record.exc_text = None, None
            record.msg = f"{record.msg} (traceback in session.log)"
        return super().format(record)

    def handleError(self, record: logging.LogRecord) -> None:
        pass  # a closed stderr loses the copy; session.log has the line


def log_thread_failure(args: threading.ExceptHookArgs) -> None:
    """threading.excepthook: a background thread's failure goes to the log with its traceback."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    log.error("thread %s failed", name, exc_info=args.exc_value)


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


#: Exit code when the recordings are finalized but the session's manifest or log could not be
#: written (the disk stayed full even after the session's reserve was released).
EXIT_BOOKKEEPING_FAILED = 3


def run_mode(
    settings: Settings,
    body: Callable[[ModeContext], int | None],
    *,
    protocol_stdout: bool = False,
    on_start_error: Callable[[CameraCoreError], None] | None = None,
) -> int:
    """Start the system with native output captured into session.log, run `body`, always stop.

    `protocol_stdout`: stdout is reserved for the caller (slave protocol); Python prints go to the
    log. Returns the exit code: body's; 1 when the cameras could not start; 3 when the session's
    own files could not be written at its end."""
    stop = StopRequest()
    capture = NativeOutputCapture(keep_python_stdout=not protocol_stdout)
    capture.start()
    console = sys.stderr if settings.console_output else None
    warnings_handler = None if console is not None else StderrWarnings(sys.stderr)
    core_log = logging.getLogger("camera_core")
    if warnings_handler is not None:
        core_log.addHandler(warnings_handler)
    previous_hook = threading.excepthook
    threading.excepthook = log_thread_failure
    system = CameraSystem(settings, console=console)
    service = ServiceWatchdog(system)
    code = 0
    try:
        with stop_signals(stop):
            try:
                try:
                    system.start()
                except CameraCoreError as exc:
                    if on_start_error is not None:
                        on_start_error(exc)
                    say(f"main_camera.py: error: {exc}")
                    return 1
                # system.warnings (e.g. sim instead of a missing picamera2) were logged: on stderr once
                service.start()
                start_duration_timer(stop, settings.duration)
                assert capture.protocol_stream is not None
                code = body(ModeContext(system, stop, capture.protocol_stream)) or 0
            except Exception:
                log.exception("unexpected error; finalizing files")
                code = 1
            finally:
                try:
                    stop.announce()  # the reason is in session.log before it closes
                    service.stop()
                    system.stop()  # still under stop_signals: a second signal cannot cut it short
                finally:
                    capture.stop()
    finally:
        threading.excepthook = previous_hook
        if warnings_handler is not None:
            core_log.removeHandler(warnings_handler)
    session = system.session
    if session is not None and session.bookkeeping_error is not None and system.cameras:
        say(
            f"main_camera.py: error: {session.bookkeeping_error}; the disk of {session.directory} is full: "
            "free space, then run `python -m camera_core recover` on that folder"
        )
        code = code or EXIT_BOOKKEEPING_FAILED
    return code
