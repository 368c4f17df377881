"""One camera's frames for one preview: the newest frame, at most `fps` times a second, rendered
and handed to the preview; every captured frame it passes over is counted, never queued."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from camera_core.frames.frame import Frame
from camera_core.preview.base import Preview, PreviewCamera
from camera_core.preview.render import PreviewRenderer, RenderedPreview

log = logging.getLogger(__name__)


@dataclass(slots=True)
class FeedCounts:
    """Frames of one camera a preview showed, and those it passed over (not rendered: newer ones
    came first, the rate cap, or the preview was busy)."""

    shown: int = 0
    skipped: int = 0


class PreviewFeed:
    """Takes `camera`'s newest frames for `preview`. `poll()` (non-blocking, e.g. a window loop on
    the main thread) or `start()` (its own thread, e.g. the slave's stream: rendering and
    encoding there in one go costs less than any hand-off between threads)."""

    def __init__(self, camera: PreviewCamera, preview: Preview, *, fps: float | None = None) -> None:
        self.camera = camera
        self.preview = preview
        self.renderer = PreviewRenderer(camera.preview_size, camera.style, full_range=preview.full_range)
        self.period = 1.0 / (fps or camera.target_fps)
        self.counts = FeedCounts()
        self._version = camera.latest.version
        self._next_due = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def camera_id(self) -> int:
        return self.camera.camera_id

    def poll(self) -> RenderedPreview | None:
        """Render and show the newest frame if there is a newer one and it is due; else None."""
        version, frame = self.camera.latest.get()
        if frame is None or version == self._version:
            return None
        return self._take(version, frame)

    def _take(self, version: int, frame: Frame) -> RenderedPreview | None:
        """Look at the frame of `version`: show it if due and the preview is ready, else count it."""
        self.counts.skipped += max(0, version - self._version - 1)  # never even looked at
        self._version = version
        now = time.monotonic()
        camera_id = self.camera.camera_id
        if now < self._next_due or not self.preview.ready(camera_id):
            self.counts.skipped += 1
            return None
        # Allow half a period of slack so a 30 fps source is not thinned by timer jitter.
        self._next_due = max(self._next_due + self.period, now - self.period / 2)
        rendered = self.renderer.render(frame, version - 1, self.camera.preview_overlay(frame))
        del frame  # the capture buffer goes back to its pool
        self.preview.show(rendered)
        self.counts.shown += 1
        return rendered

    # -- on its own thread -----------------------------------------------------------------------

    def start(self) -> PreviewFeed:
        self._thread = threading.Thread(target=self._run, name=f"preview-cam{self.camera_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread; nothing is shown after this returns (unless the join timed out, logged)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("cam%d: preview thread did not end within %g s", self.camera_id, timeout)

    def _run(self) -> None:
        latest = self.camera.latest
        try:
            while not self._stopping.is_set():
                version, frame = latest.wait_newer(self._version, timeout=0.25)
                if frame is None or version == self._version or self._stopping.is_set():
                    continue
                self._take(version, frame)
                del frame
        except Exception:
            log.exception("cam%d: preview failed; this camera's preview stops", self.camera_id)
