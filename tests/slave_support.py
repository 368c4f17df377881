"""Helpers for the slave/client/rig tests: a raw slave process driven line by line with timeouts,
schema validation of everything it writes, and checks of the files it recorded."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema

from camera_core.commands.schema import schema_for
from camera_core.recording.timing_log import read_timing_csv
from camera_core.tools.verify import verify_recording

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--backend", "sim", "--resolution", "7", "--no-mp4", "--log-level", "debug"]


def slave_cmd(out_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "main_camera.py"),
        "--mode",
        "slave",
        *FAST,
        "--output-dir",
        str(out_dir),
        *extra,
    ]


def validate(message: dict[str, Any]) -> dict[str, Any]:
    """Every line the slave writes must satisfy its schema in camera_core/commands/schema.json."""
    jsonschema.validate(message, schema_for(message))
    return message


class RawSlave:
    """A slave process with its stdout read into a queue, so every wait has a timeout."""

    def __init__(self, argv: list[str], **popen: Any) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen
        )
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.reading = threading.Event()
        self.reading.set()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.reading.wait()
            self.lines.put(line)
        self.lines.put(None)

    def send(self, data: bytes | dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        if isinstance(data, dict):
            data = json.dumps(data).encode() + b"\n"
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def next_message(self, timeout: float = 30.0) -> dict[str, Any]:
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise EOFError(f"slave ended; stderr: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
        return validate(json.loads(line))

    def next_reply(self, timeout: float = 30.0) -> dict[str, Any]:
        """The next reply, skipping preview frames and events (returned in `self.skipped`)."""
        while True:
            message = self.next_message(timeout)
            if message["type"] == "status" and message["status"] != "preview_frame":
                return message

    def request(self, command: str, timeout: float = 30.0, **args: Any) -> dict[str, Any]:
        self.send({"command": command, **args})
        return self.next_reply(timeout)

    def wait_recorded(self, frames: int = 1, timeout: float = 30.0) -> dict[str, Any]:
        """Ask get_status, as a master would, until every camera has recorded `frames` frames;
        returns that status reply."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.request("get_status", timeout=timeout)
            if all(cam["frames_recorded"] >= frames for cam in status["data"]["cameras"]):
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"cameras did not record {frames} frame(s) in {timeout} s: {status['data']}")

    def close(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()

    def __enter__(self) -> RawSlave:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def session_dir(out_dir: Path) -> Path:
    (directory,) = [p for p in out_dir.iterdir() if p.is_dir()]
    return directory


def assert_recordings_intact(directory: Path, expected_videos: int) -> list[int]:
    """Every video decodes to exactly one frame per timing row with consecutive frame codes;
    returns the frame counts."""
    videos = sorted(directory.glob("cam*.h264")) + sorted(directory.glob("cam*.mp4"))
    assert len(videos) == expected_videos, [v.name for v in directory.iterdir()]
    counts = []
    for video in videos:
        report = verify_recording(video)
        assert report.ok, report.as_dict()
        assert report.frames > 0
        counts.append(report.frames)
    return counts


def csv_rows(directory: Path) -> int:
    total = 0
    for path in directory.glob("*_frame_timing.csv"):
        total += len(read_timing_csv(path))
    return total


def wait_until(condition: Any, timeout: float, what: str) -> None:
    """Poll an observable condition (files growing) with a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)
