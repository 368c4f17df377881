"""Helpers of the unattended-recording tests: event waiting, frame codes across files, tmpfs."""

from __future__ import annotations

import contextlib
import csv
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from camera_core.events import Event, EventBus
from camera_core.tools.verify import decode_frames


class EventLog:
    """Collects events of a bus; `wait_for(name)` blocks until one with that name was published."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        self._cond = threading.Condition()
        self.unsubscribe = bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, name: str, count: int = 1, timeout: float = 20.0) -> list[Event]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.named(name)) >= count, timeout)
            if not ok:
                raise TimeoutError(f"no {name!r} event within {timeout} s; got {[e.name for e in self.events]}")
            return self.named(name)

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]


def rows_of(csv_path: Path) -> list[dict[str, str]]:
    with csv_path.open(newline="") as f:
        return list(csv.DictReader(f))


def codes_of(video: Path) -> list[int]:
    return [f.code for f in decode_frames(video)]


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "3m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` (root only); the test fails, never skips, where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}", pytrace=False)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
