"""The camera source interface every backend implements (sim, picamera2, opencv)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from camera_core.errors import InvalidArgumentError
from camera_core.sources.frame import Frame, PixelFormat

if TYPE_CHECKING:
    from camera_core.config.settings import Settings
    from camera_core.recording.recorder import Recorder


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """What a source says about its camera once opened."""

    camera_id: int
    backend: str
    model: str
    width: int
    height: int
    fps: float
    pixel_format: PixelFormat
    location: str = ""
    encoder: str = "libx264 (PyAV)"


class CameraSource(ABC):
    """One camera. Lifecycle: open() -> start() -> read()... -> stop() -> close().

    `read()` blocks until the next frame (call it off the event loop) and returns None on timeout.
    A source whose camera records on its own thread (picamera2) supplies its own recorder through
    `create_recorder`; the others get the PyAV recorder fed from the capture path.
    """

    camera_id: int
    #: False when frames come as fast as they are read (unpaced simulation, file replay for tests):
    #: the recording path then waits for the encoder instead of dropping frames.
    paced: bool = True

    @property
    @abstractmethod
    def info(self) -> CameraInfo: ...

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def read(self, timeout: float = 1.0) -> Frame | None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def create_recorder(self, settings: Settings) -> Recorder | None:
        """A recorder of the source's own, or None for the default PyAV recorder."""
        return None

    def status(self) -> dict[str, object]:
        """Backend-specific status fields for get_status."""
        return {}

    def set_controls(self, **changes: Any) -> None:
        """Change exposure, gain, white balance or their lock while running (sources/controls.py
        `ControlState.change`). Sources without adjustable controls refuse."""
        raise InvalidArgumentError(f"camera {self.camera_id} ({self.info.backend}) has no adjustable controls")

    def restart(self, attempt: int) -> None:
        """Bring a lost camera back (called from the capture thread, `attempt` counts from 1):
        stop and start; from the second attempt on, close and open it as well."""
        self.stop()
        if attempt > 1:
            self.close()
            self.open()
        self.start()

    def ended(self) -> bool:
        """True for a finite source (a replayed file) that has delivered its last frame: no more
        frames is then not a failure and the camera is not restarted."""
        return bool(getattr(self, "finished", False))
