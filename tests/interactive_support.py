"""Helpers for the interactive-mode tests: a running main_camera.py whose output is read line by
line in the background, waiting on output and files with timeouts (never sleeping)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 30.0


def main_camera(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "main_camera.py"), *args]


def small_run_args(out_dir: Path, *extra: str) -> list[str]:
    """Two simulated 320x240 cameras, preview 320x240, output into `out_dir`."""
    return ["--backend", "sim", "--sim-cameras", "2", "--resolution", "7", "--preview-size", "7",
            "--output-dir", str(out_dir), *extra]  # fmt: skip


class OutputReader:
    """Collects what a stream yields (text, ANSI codes and all) in a background thread."""

    def __init__(self, read: Callable[[], bytes]) -> None:
        self.text = ""
        self.ended = False
        self._changed = threading.Condition()
        self._read = read
        threading.Thread(target=self._pump, daemon=True).start()

    @classmethod
    def of_pipe(cls, pipe: IO[bytes]) -> OutputReader:
        return cls(lambda: pipe.read1(4096))  # type: ignore[attr-defined]

    @classmethod
    def of_fd(cls, fd: int) -> OutputReader:
        def read() -> bytes:
            try:
                return os.read(fd, 4096)
            except OSError:  # a pty's master reads EIO once the child side is closed
                return b""

        return cls(read)

    def _pump(self) -> None:
        while chunk := self._read():
            with self._changed:
                self.text += chunk.decode("utf-8", "replace")
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = TIMEOUT, start: int = 0) -> re.Match[str]:
        """Block until `pattern` (a regex) shows up after offset `start`; fail with what was seen."""
        regex = re.compile(pattern)
        found: list[re.Match[str]] = []

        def seen() -> bool:
            match = regex.search(self.text, start)
            if match:
                found.append(match)
            return bool(match) or self.ended

        with self._changed:
            self._changed.wait_for(seen, timeout)
        if not found:
            why = "the stream ended" if self.ended else f"not within {timeout:g} s"
            raise AssertionError(f"{pattern!r} did not appear ({why}); output:\n{self.text}")
        return found[0]


def wait_until(condition: Callable[[], object], what: str, timeout: float = TIMEOUT, poll: float = 0.05) -> object:
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


def session_dir(out_dir: Path) -> Path:
    return Path(wait_until(lambda: next(iter(out_dir.glob("session_*")), None), "the session folder"))  # type: ignore[arg-type]


def csv_rows(path: Path) -> int:
    try:
        return max(0, len(path.read_text().splitlines()) - 1)
    except OSError:
        return 0


def wait_recorded_rows(session: Path, cameras: int, rows: int) -> list[Path]:
    """Wait until every camera's newest timing CSV holds at least `rows` rows."""

    def ready() -> list[Path] | None:
        csvs = sorted(session.glob("cam*_frame_timing.csv"))
        if len(csvs) >= cameras and all(csv_rows(p) >= rows for p in csvs):
            return csvs
        return None

    return wait_until(ready, f"{rows} timing rows from {cameras} cameras")  # type: ignore[return-value]


def finish(proc: subprocess.Popen[bytes], timeout: float = TIMEOUT) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("main_camera.py did not exit in time") from None
