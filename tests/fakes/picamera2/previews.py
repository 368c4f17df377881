"""NullPreview: the thread that runs Picamera2.process_requests whenever frames or jobs arrive."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .picamera2 import Picamera2
    from .request import CompletedRequest

_log = logging.getLogger(__name__)


class NullPreview:
    """The camera event loop without a display (picamera2's default when show_preview=False)."""

    def __init__(
        self,
        x: int | None = None,
        y: int | None = None,
        width: int | None = None,
        height: int | None = None,
        transform: Any = None,
    ) -> None:
        self.size = (width, height)
        self._abort = threading.Event()
        self._started = threading.Event()
        self.picam2: Picamera2 | None = None
        self.thread: threading.Thread | None = None

    def start(self, picam2: Picamera2) -> None:
        self.picam2 = picam2
        picam2.attach_preview(self)
        self._started.clear()
        self._abort.clear()
        self.thread = threading.Thread(
            target=self.thread_func, args=(picam2,), daemon=True, name=f"picamera2-loop-{picam2.camera_idx}"
        )
        self.thread.start()
        self._started.wait()

    def thread_func(self, picam2: Picamera2) -> None:
        self._started.set()
        while not self._abort.is_set():
            if picam2._notify.wait(0.2):
                picam2._notify.clear()
                self.handle_request(picam2)

    def handle_request(self, picam2: Picamera2) -> None:
        try:
            picam2.process_requests(self)
        except Exception as e:
            _log.exception("Exception during process_requests()", exc_info=e)
            raise

    def render_request(self, completed_request: CompletedRequest) -> None:
        """Nothing to draw for the null preview."""

    def set_overlay(self, overlay: Any) -> None:
        """Overlays only exist on real preview windows (never encoded)."""

    def set_title_function(self, function: Any) -> None:
        pass

    def stop(self) -> None:
        self._abort.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join()
        assert self.picam2 is not None
        self.picam2.detach_preview()
        self.picam2 = None
