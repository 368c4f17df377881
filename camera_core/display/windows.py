"""Preview windows: the window implementation of the preview interface (preview/), one OpenCV
window per camera, run on the main thread.

The loop polls each camera's PreviewFeed, which renders the newest frame when one is due and
never waits for a frame, so a slow display only skips (and counts) previews and can never slow
capture or recording. Keys are handed to a callback; what a key did comes back through
`show_message` and is drawn in every window for a few seconds."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from camera_core.display.banner import draw_message
from camera_core.preview import Preview, PreviewCamera, PreviewEnd, PreviewFeed, RenderedPreview

log = logging.getLogger(__name__)

WINDOW_FLAGS = cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL
MESSAGE_SECONDS = 3.0
WINDOW_GAP = 24


@dataclass(slots=True)
class _Window:
    feed: PreviewFeed
    name: str
    newest: RenderedPreview | None = None
    image: np.ndarray | None = None  # BGR of `newest`, without the message
    shown: RenderedPreview | None = None
    message: str = ""
    recording: bool = False


class PreviewWindows(Preview):
    """Windows for `cameras`; `run(stopped)` on the main thread until `stopped()` is true, a window
    is closed, or `close()` is called. `on_key` gets each key pressed as a character."""

    full_range = False  # OpenCV's conversion to BGR reads video range

    def __init__(
        self,
        cameras: Sequence[PreviewCamera],
        *,
        on_key: Callable[[str], object] | None = None,
        title: str = "camera_core",
    ) -> None:
        self.cameras = cameras
        self.on_key = on_key
        self.title = title
        self._close = threading.Event()
        self._message = ("", 0.0)
        self._lock = threading.Lock()
        self._windows: dict[int, _Window] = {}

    def show_message(self, text: str, seconds: float = MESSAGE_SECONDS) -> None:
        """Show `text` in every window for `seconds` (thread-safe)."""
        with self._lock:
            self._message = (text, time.monotonic() + seconds)

    def close(self) -> None:
        """End `run` at its next turn (thread-safe)."""
        self._close.set()

    def show(self, preview: RenderedPreview) -> None:
        """Called by a feed on the main thread (from `run`'s poll): keep it for the window."""
        window = self._windows[preview.camera_id]
        window.newest, window.image = preview, preview.bgr()

    def _current_message(self) -> str:
        with self._lock:
            text, until = self._message
        return text if time.monotonic() < until else ""

    def run(self, stopped: Callable[[], bool]) -> PreviewEnd:
        """Show the windows until told to stop; returns why the loop ended."""
        self._windows = {
            cam.camera_id: _Window(PreviewFeed(cam, self), f"{self.title} cam{cam.camera_id}") for cam in self.cameras
        }
        windows = list(self._windows.values())
        try:
            self._open(windows)
            wait_ms = max(5, min(20, round(500 / max(1.0, self._max_fps()))))
            while True:
                if stopped():
                    return PreviewEnd.STOPPED
                if self._close.is_set():
                    return PreviewEnd.CLOSED
                message = self._current_message()
                for w in windows:
                    w.feed.poll()
                    self._refresh(w, message)
                key = cv2.waitKey(wait_ms)
                if key != -1 and self.on_key is not None and 0 < (key & 0xFF) < 128:
                    self.on_key(chr(key & 0xFF))
                if any(_window_gone(w.name) for w in windows):
                    log.info("preview window closed")
                    return PreviewEnd.WINDOW_CLOSED
        finally:
            _destroy_all()
            counts = ", ".join(
                f"cam{w.feed.camera_id} {w.feed.counts.shown} shown / {w.feed.counts.skipped} skipped" for w in windows
            )
            log.info("preview windows closed (%s)", counts)

    def _max_fps(self) -> float:
        return max((cam.target_fps for cam in self.cameras), default=30.0)

    def _open(self, windows: list[_Window]) -> None:
        x = WINDOW_GAP
        for w in windows:
            pw, ph = w.feed.renderer.size
            cv2.namedWindow(w.name, WINDOW_FLAGS)
            blank = np.zeros((ph, pw, 3), np.uint8)
            draw_message(blank, "waiting for frames ...")
            cv2.imshow(w.name, blank)
            # Move only once the window is shown: on X without a window manager, a move before
            # the first map races with Qt's expose handling and can leave the window unpainted.
            cv2.waitKey(1)
            cv2.moveWindow(w.name, x, WINDOW_GAP)
            x += pw + WINDOW_GAP
        log.info("preview windows open: %s", ", ".join(w.name for w in windows))

    def _refresh(self, w: _Window, message: str) -> None:
        preview, image = w.newest, w.image
        if preview is None or image is None or (preview is w.shown and message == w.message):
            return
        if message:
            image = image.copy()
            draw_message(image, message)
        cv2.imshow(w.name, image)
        w.shown, w.message = preview, message
        if preview.recording != w.recording:
            w.recording = preview.recording
            cv2.setWindowTitle(w.name, f"{w.name} - REC" if preview.recording else w.name)


def _window_gone(name: str) -> bool:
    try:
        return cv2.getWindowProperty(name, cv2.WND_PROP_VISIBLE) < 1
    except cv2.error:
        return True


def _destroy_all() -> None:
    cv2.destroyAllWindows()
    for _ in range(3):
        cv2.waitKey(1)
