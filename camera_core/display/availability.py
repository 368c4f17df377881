"""Can this process open an OpenCV window? Answered before any window is tried, so that a missing
display never ends in a Qt abort or a traceback: the caller falls back to the terminal instead."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Run in a child process: Qt aborts the whole process when it cannot reach a display.
_PROBE = """
import cv2, numpy as np
cv2.namedWindow("camera_core probe", cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
cv2.imshow("camera_core probe", np.zeros((8, 8, 3), np.uint8))
cv2.waitKey(1)
cv2.destroyAllWindows()
cv2.waitKey(1)
print("window ok")
"""
PROBE_TIMEOUT_S = 20.0


def environment_problem(environ: dict[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why no window can be opened, judged from the environment and the OpenCV build alone; None if
    nothing speaks against it."""
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    if plat.startswith(("linux", "freebsd", "openbsd", "netbsd")) and not (
        env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
    ):
        return "no display (DISPLAY and WAYLAND_DISPLAY are not set)"
    gui = opencv_gui_backend()
    if gui is None:
        return "this OpenCV build has no window support (opencv-python-headless?)"
    return None


def opencv_gui_backend() -> str | None:
    """The GUI backend OpenCV was built with ("QT5", "GTK3", "WIN32UI", ...), None for none."""
    import cv2

    for line in cv2.getBuildInformation().splitlines():
        name, _, value = line.strip().partition(":")
        if name.strip() == "GUI":
            value = value.strip()
            return None if value.upper() in ("", "NONE") else value
    return "unknown"


@dataclass(slots=True)
class DisplayProbe:
    """A test window opened in a child process; start it early, ask `problem()` when needed."""

    process: subprocess.Popen[str] | None
    early_problem: str | None

    @classmethod
    def start(cls) -> DisplayProbe:
        problem = environment_problem()
        if problem is not None:
            return cls(None, problem)
        process = subprocess.Popen(
            [sys.executable, "-c", _PROBE],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return cls(process, None)

    def problem(self) -> str | None:
        """None when a window can be opened, else one line saying why not (details in the log)."""
        if self.process is None:
            return self.early_problem
        try:
            out, err = self.process.communicate(timeout=PROBE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            return f"a test window did not open within {PROBE_TIMEOUT_S:g} s"
        if self.process.returncode == 0 and "window ok" in out:
            return None
        details = [line for line in err.splitlines() if line.strip()]
        for line in details:
            log.info("window test: %s", line)
        reason = _first_meaningful(details) or f"exit status {self.process.returncode}"
        return f"a test window could not be opened ({reason})"


def _first_meaningful(lines: list[str]) -> str | None:
    """The line of a failed window test that says the most, skipping Qt's font chatter."""
    for line in lines:
        low = line.lower()
        if "font" in low or "dejavu" in low:
            continue
        return line.strip()[:160]
    return None


def display_problem() -> str | None:
    """Why no preview window can be opened here, or None when one can (opens a test window)."""
    return DisplayProbe.start().problem()
