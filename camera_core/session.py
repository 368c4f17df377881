"""A session: its folder, its log (Python logging and what C libraries print), its manifest."""

from __future__ import annotations

import errno
import logging
import os
import platform
import re
import socket
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from camera_core.util.files import write_json_atomic, write_json_in_place

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
MANIFEST_NAME = "manifest.json"
LOG_NAME = "session.log"
#: Space set aside for the session's own manifest and log (session_reserve_mb), released at its end.
RESERVE_NAME = ".bookkeeping_reserve.tmp"  # a crashed run's is removed by `recover` (*.tmp)
#: The files a session writes about itself; a folder holding only these has no recording in it.
OWN_FILES = (LOG_NAME, MANIFEST_NAME, MANIFEST_NAME + ".tmp", RESERVE_NAME)
LOG_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s"
LOG_DATEFMT = "%Y-%m-%d %H:%M:%S"

log = logging.getLogger(__name__)


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


class AnsiStrippingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return strip_ansi(super().format(record))


def make_session_dir(output_dir: Path, prefix: str, now: datetime | None = None) -> Path:
    """`{output_dir}/{prefix}_YYYYMMDD_HHMMSS`, with a suffix when that folder already exists."""
    stamp = (now or datetime.now()).strftime("%Y%m%d_%H%M%S")
    output_dir.mkdir(parents=True, exist_ok=True)
    candidate, n = output_dir / f"{prefix}_{stamp}", 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = output_dir / f"{prefix}_{stamp}_{n}"


class QuietFileHandler(logging.FileHandler):
    """A log file handler that counts failed writes (a full disk) instead of printing a traceback
    for each; `failures` and `last_error` tell what was lost."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8")
        self.failures = 0
        self.last_error = ""

    def handleError(self, record: logging.LogRecord) -> None:
        self.failures += 1
        error = sys.exc_info()[1]
        self.last_error = str(error) if error is not None else "unknown error"

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            self.failures += 1
            self.last_error = str(exc)

    def close(self) -> None:
        try:
            super().close()
        except OSError as exc:
            self.failures += 1
            self.last_error = str(exc)


class NativeOutputCapture:
    """Routes what C libraries write to file descriptors 1 and 2 into the session log.

    Python's own sys.stdout/sys.stderr are re-pointed at the original terminal (or, for slave
    mode, sys.stdout goes to the log too and `protocol_stream` is the only way to the real stdout).
    """

    def __init__(self, *, keep_python_stdout: bool) -> None:
        self.keep_python_stdout = keep_python_stdout
        self.protocol_stream: TextIO | None = None
        self._saved: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None
        self._logger = logging.getLogger("camera_core.native")

    def start(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        saved_out, saved_err = os.dup(1), os.dup(2)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._saved = (saved_out, saved_err)
        self.protocol_stream = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8")
        real_err = os.fdopen(os.dup(saved_err), "w", buffering=1, encoding="utf-8")
        sys.stderr = real_err
        sys.stdout = self.protocol_stream if self.keep_python_stdout else os.fdopen(os.dup(1), "w", buffering=1)
        self._thread = threading.Thread(target=self._pump, args=(read_fd,), name="native-output", daemon=True)
        self._thread.start()

    def _pump(self, read_fd: int) -> None:
        with os.fdopen(read_fd, "rb") as pipe:
            for raw in pipe:
                text = strip_ansi(raw.decode("utf-8", "replace")).rstrip()
                if text:
                    self._logger.info("%s", text)

    def stop(self) -> None:
        if self._saved is None:
            return
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        saved_out, saved_err = self._saved
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        if sys.stdout is not self.protocol_stream:
            sys.stdout.close()
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._saved = None


def software_versions() -> dict[str, str]:
    from camera_core.version import __version__

    versions = {
        "camera_core": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for module in ("numpy", "av", "cv2", "simplejpeg", "picamera2"):
        mod = sys.modules.get(module)
        if mod is not None:
            versions[module] = str(getattr(mod, "__version__", "?"))
    return versions


class Session:
    """One run's folder, log handler and manifest."""

    def __init__(self, directory: Path, settings: dict[str, Any]) -> None:
        self.directory = directory
        self.log_path = directory / LOG_NAME
        self.manifest_path = directory / MANIFEST_NAME
        self.reserve_path = directory / RESERVE_NAME
        self.settings = settings
        self.started_at = time.time()
        self.ended_at: float | None = None
        self.cameras: list[dict[str, Any]] = []
        self.recordings: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []
        #: This host's wall clock at the start and the stop of the session (sync/clocks.py).
        self.clocks: dict[str, dict[str, Any]] = {}
        self.warnings: list[str] = []
        #: Why the session's own files could not be written at its end (a full disk), else None.
        self.bookkeeping_error: str | None = None
        #: Why the run could not start (then no camera recorded), else None.
        self.start_error: str | None = None
        self._lock = threading.Lock()
        self._handler: QuietFileHandler | None = None
        self._console_handler: logging.Handler | None = None

    @classmethod
    def create(cls, output_dir: Path, prefix: str, settings: dict[str, Any], reserve_bytes: int = 0) -> Session:
        session = cls(make_session_dir(output_dir, prefix), settings)
        if reserve_bytes > 0:
            session.make_reserve(reserve_bytes)
        return session

    def make_reserve(self, size: int) -> bool:
        """Set `size` bytes aside (a preallocated file) that only the session's end may use."""
        try:
            fd = os.open(self.reserve_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.posix_fallocate(fd, 0, size)
            finally:
                os.close(fd)
            return True
        except OSError as exc:
            self.reserve_path.unlink(missing_ok=True)
            log.warning("no space set aside for the session's manifest and log (%s)", exc.strerror or exc)
            return False

    def release_reserve(self) -> None:
        try:
            self.reserve_path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not release %s: %s", self.reserve_path.name, exc)

    def open_log(self, level: str, console: TextIO | None = None) -> None:
        """Attach the session log (and optionally a console stream) to the camera_core logger."""
        root = logging.getLogger("camera_core")
        root.setLevel(level.upper())
        handler = QuietFileHandler(self.log_path)
        handler.setFormatter(AnsiStrippingFormatter(LOG_FORMAT, LOG_DATEFMT))
        root.addHandler(handler)
        self._handler = handler
        if console is not None:
            stream = logging.StreamHandler(console)
            stream.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATEFMT))
            stream.setLevel(level.upper())
            root.addHandler(stream)
            self._console_handler = stream
        log.info("session %s started (camera_core %s)", self.directory, software_versions()["camera_core"])

    def restore_directory(self) -> bool:
        """The session folder was deleted while running: make it again and reopen session.log in
        it, so the rest of the run's log and the manifest are written. True when it was missing."""
        if self.directory.is_dir():
            return False
        if not self.directory.parent.is_dir():
            # the output folder itself is gone (an unmounted disk?): never recreate it on another disk
            log.error("the output folder %s is gone: the session's log and manifest stop here", self.directory.parent)
            return False
        self.directory.mkdir(exist_ok=True)
        old = self._handler
        if old is not None:
            root = logging.getLogger("camera_core")
            handler = QuietFileHandler(self.log_path)
            handler.setFormatter(old.formatter)
            handler.failures, handler.last_error = old.failures, old.last_error
            root.addHandler(handler)
            root.removeHandler(old)
            old.close()
            self._handler = handler
        return True

    def close_log(self) -> None:
        root = logging.getLogger("camera_core")
        handler = self._handler
        for h in (handler, self._console_handler):
            if h is not None:
                root.removeHandler(h)
                h.close()
        self._handler = self._console_handler = None
        if handler is not None and handler.failures:
            lost = f"{handler.failures} line(s) of {self.log_path} could not be written ({handler.last_error})"
            # both can fail on a full disk: the one line the user gets names both
            self.bookkeeping_error = lost if self.bookkeeping_error is None else f"{self.bookkeeping_error}; {lost}"

    def add_recording(self, result: dict[str, Any]) -> None:
        with self._lock:
            self.recordings.append(result)
        self.write_manifest()

    def add_snapshot(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.snapshots.append(entry)

    def manifest(self) -> dict[str, Any]:
        with self._lock:
            return {
                "schema": "camera_core.session/1",
                "session": self.directory.name,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "software": software_versions(),
                "started_at_unix": self.started_at,
                "ended_at_unix": self.ended_at,
                "complete": self.ended_at is not None,
                "start_error": self.start_error,
                "warnings": list(self.warnings),
                "config": self.settings,
                "cameras": list(self.cameras),
                "recordings": list(self.recordings),
                "snapshots": list(self.snapshots),
                "clocks": dict(self.clocks),
            }

    def write_manifest(self) -> None:
        write_json_atomic(self.manifest_path, self.manifest())

    def finish(self) -> bool:
        """Release the reserve and write the final manifest; never raises. False (and
        `bookkeeping_error` says why) when the manifest could not be written."""
        self.ended_at = time.time()
        self.release_reserve()
        try:
            try:
                self.write_manifest()
            except OSError as exc:
                if exc.errno != errno.ENOSPC or not self.manifest_path.exists():
                    raise
                # no room for a second copy: rewrite the old one in place (its space is reused)
                log.warning("disk full: manifest.json rewritten in place")
                write_json_in_place(self.manifest_path, self.manifest())
        except OSError as exc:
            self.bookkeeping_error = f"{self.manifest_path} could not be written ({exc.strerror or exc})"
            # the run's one line on stderr comes from modes/runner.py; here only session.log
            log.error("%s; the recordings themselves are finalized", self.bookkeeping_error, extra={"console": False})
            return False
        return True

    def abandon(self) -> None:
        """The run could not start: close the log and remove the folder when it holds nothing but
        the session's own files (no empty session folders are left behind)."""
        self.close_log()
        self.release_reserve()
        try:
            leftovers = [p for p in self.directory.iterdir() if p.name not in OWN_FILES]
            if not leftovers:
                for name in OWN_FILES:
                    (self.directory / name).unlink(missing_ok=True)
                self.directory.rmdir()
        except OSError as exc:
            log.debug("session folder %s kept: %s", self.directory, exc)
