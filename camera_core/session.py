"""A session: its folder, its log (Python logging and what C libraries print), its manifest."""

from __future__ import annotations

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

from camera_core.util.files import write_json_atomic

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
MANIFEST_NAME = "manifest.json"
LOG_NAME = "session.log"
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
    from camera_core import __version__

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
        self.settings = settings
        self.started_at = time.time()
        self.ended_at: float | None = None
        self.cameras: list[dict[str, Any]] = []
        self.recordings: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        self._handler: logging.Handler | None = None

    @classmethod
    def create(cls, output_dir: Path, prefix: str, settings: dict[str, Any]) -> Session:
        return cls(make_session_dir(output_dir, prefix), settings)

    def open_log(self, level: str, console: TextIO | None = None) -> None:
        """Attach the session log (and optionally a console stream) to the camera_core logger."""
        root = logging.getLogger("camera_core")
        root.setLevel(level.upper())
        handler = logging.FileHandler(self.log_path, encoding="utf-8")
        handler.setFormatter(AnsiStrippingFormatter(LOG_FORMAT, LOG_DATEFMT))
        root.addHandler(handler)
        self._handler = handler
        if console is not None:
            stream = logging.StreamHandler(console)
            stream.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATEFMT))
            stream.setLevel(level.upper())
            root.addHandler(stream)
            self._console_handler: logging.Handler | None = stream
        else:
            self._console_handler = None
        log.info("session %s started (camera_core %s)", self.directory, software_versions()["camera_core"])

    def restore_directory(self) -> bool:
        """The session folder was deleted while running: make it again and reopen session.log in
        it, so the rest of the run's log and the manifest are written. True when it was missing."""
        if self.directory.is_dir():
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        old = self._handler
        if old is not None:
            root = logging.getLogger("camera_core")
            handler = logging.FileHandler(self.log_path, encoding="utf-8")
            handler.setFormatter(old.formatter)
            root.addHandler(handler)
            root.removeHandler(old)
            old.close()
            self._handler = handler
        return True

    def close_log(self) -> None:
        root = logging.getLogger("camera_core")
        for h in (self._handler, getattr(self, "_console_handler", None)):
            if h is not None:
                root.removeHandler(h)
                h.close()
        self._handler = None

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
                "warnings": list(self.warnings),
                "config": self.settings,
                "cameras": list(self.cameras),
                "recordings": list(self.recordings),
                "snapshots": list(self.snapshots),
            }

    def write_manifest(self) -> None:
        write_json_atomic(self.manifest_path, self.manifest())

    def finish(self) -> None:
        self.ended_at = time.time()
        self.write_manifest()
