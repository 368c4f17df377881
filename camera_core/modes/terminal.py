"""The terminal side of interactive mode: one-letter commands + Enter on stdin, short confirmations
and (when stderr is a terminal) a live status line on stderr, redrawn in place."""

from __future__ import annotations

import logging
import shutil
import sys
import threading
from typing import Any, TextIO

from camera_core.modes.controls import HELP, Controls
from camera_core.modes.runner import StopRequest

log = logging.getLogger(__name__)

CLEAR_LINE = "\r\x1b[2K"
PROMPT = "r/s/q + Enter: "


class Console:
    """Writes to stderr (thread-safe); with `live`, keeps a status line at the bottom."""

    def __init__(self, stream: TextIO, *, live: bool) -> None:
        self.stream = stream
        self.live = live
        self._status = ""
        self._lock = threading.Lock()

    def say(self, text: str) -> None:
        with self._lock:
            prefix = CLEAR_LINE if self.live and self._status else ""
            self.stream.write(f"{prefix}{text}\n")
            if self.live and self._status:
                self.stream.write(self._status)
            self.stream.flush()

    def status(self, text: str) -> None:
        if not self.live:
            return
        width = shutil.get_terminal_size((100, 24)).columns - 1
        if len(text) > width:
            text = text[: max(0, width - 3)] + "..."
        with self._lock:
            self._status = text
            self.stream.write(CLEAR_LINE + text)
            self.stream.flush()

    def end_status(self) -> None:
        with self._lock:
            if self.live and self._status:
                self.stream.write(CLEAR_LINE)
                self.stream.flush()
            self._status = ""


def format_status(status: dict[str, Any]) -> str:
    """One line: recording or not, fps and drops per camera, free disk."""
    cams = status.get("cameras", [])
    if status.get("recording"):
        frames = max((int(c.get("frames_recorded", 0)) for c in cams), default=0)
        head = f"REC {frames} frames"
    else:
        head = "not recording"
    parts = [head]
    for c in cams:
        parts.append(
            f"cam{c['camera_id']} {float(c.get('hardware_fps', 0.0)):.1f} fps {c.get('hardware_drops', 0)} drops"
        )
    parts.append(f"free {int(status.get('free_disk_bytes', 0)) / 1e9:.1f} GB")
    return " | ".join(parts) + " | " + PROMPT


def read_commands(stdin: TextIO, controls: Controls, stop: StopRequest, *, quit_on_eof: bool) -> None:
    """Reader thread: each line is one command letter. End of input quits when stdin is a terminal
    (Ctrl+D); from a pipe or /dev/null the run goes on until a signal or --duration."""
    while not stop.is_set():
        try:
            line = stdin.readline()
        except (OSError, ValueError):
            line = ""
        if not line:
            if quit_on_eof:
                controls.say("end of input: quitting")
                stop.set("end of input")
            else:
                log.info("stdin closed; running until a signal or --duration")
            return
        text = line.strip()
        if not text:
            continue
        if len(text) != 1:
            controls.say(f"type one letter and Enter: {HELP}")
            continue
        controls.handle(text)


def start_reader(stdin: TextIO, controls: Controls, stop: StopRequest) -> threading.Thread:
    is_tty = isatty(stdin)
    thread = threading.Thread(
        target=read_commands, args=(stdin, controls, stop), kwargs={"quit_on_eof": is_tty}, name="stdin", daemon=True
    )
    thread.start()
    return thread


def isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def run_terminal(controls: Controls, console: Console, stop: StopRequest, stdin: TextIO | None = None) -> None:
    """Read commands from stdin until stop, redrawing the status line about once a second."""
    start_reader(stdin or sys.stdin, controls, stop)
    try:
        while not stop.is_set():
            try:
                console.status(format_status(controls.system.status()))
            except Exception:
                log.exception("status line failed")
            stop.wait(1.0)
    finally:
        console.end_status()
