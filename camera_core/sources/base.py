"""The camera source interface every backend implements (sim, picamera2, opencv)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np

from camera_core.errors import InvalidArgumentError
from camera_core.frames.frame import Frame, PixelFormat


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
    """One camera. Lifecycle: open() -> start() -> read()... -> stop() -> close(); the backends
    inherit its checks (read before start, stop/close idempotent) from sources/lifecycle.py.

    `read()` blocks until the next frame (call it off the event loop) and returns None on timeout.
    A source whose camera runs an H.264 encoder of its own (picamera2) says so through
    `encoder_host()`; the recording factory then records through it, else frames from `read()` are
    encoded with PyAV.
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

    def encoder_host(self) -> EncoderHost | None:
        """The camera's own encoder interface, or None (frames are encoded from `read()`)."""
        return None

    def holds_frame(self, frame: Frame) -> bool:
        """True for a frame that must never be recorded (a file source's held first frame)."""
        return False

    def request_full_frame(self) -> None:  # noqa: B027 (optional hook)
        """The next frame `read()` returns must hold the full main image (a snapshot needs it).
        Sources whose frames always hold it do nothing; the picamera2 source copies the main
        stream out of the camera's buffers only when asked, as nothing else needs it (recording
        runs on picamera2's encoder, the preview on the lores stream)."""

    def on_recording_started(self) -> None:  # noqa: B027 (optional hook)
        """A recording of this camera has started (a held file source starts playing)."""

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


class CameraRequest(ABC):
    """A frame still in the camera's buffer, before anything copies or encodes it, as request
    hooks see it (picamera2's pre_callback)."""

    sensor_ns: int
    frame_duration_us: float
    wall_clock_ns: int | None
    sequence: int | None
    #: What the timing row and the start decision need from the camera's metadata: SyncReady,
    #: SyncTimer, ExposureTime (see recording/timing_log.row_extras, sync/start.py).
    extra: dict[str, Any]

    @abstractmethod
    def luma(self) -> AbstractContextManager[np.ndarray]:
        """The frame's Y plane (height, width), writable: drawing on it reaches the encoder."""


#: Called on the camera's own thread for every frame it delivers; must return quickly.
RequestHook = Callable[[CameraRequest], None]


class EncoderHost(ABC):
    """A camera that runs an H.264 encoder of its own on its frames (picamera2's encoders)."""

    @property
    @abstractmethod
    def encoder_label(self) -> str: ...

    @property
    @abstractmethod
    def software_encoder(self) -> bool:
        """True when the encoder is libx264 in software (a Pi 5), False for hardware (V4L2)."""

    @abstractmethod
    def encoder_class(self) -> type:
        """The library's H.264 encoder class."""

    @abstractmethod
    def output_class(self) -> type:
        """The library's base class of encoder outputs."""

    @abstractmethod
    def add_request_hook(self, hook: RequestHook) -> None: ...

    @abstractmethod
    def start_encoder(self, encoder: Any, output: Any) -> None:
        """Run `encoder` on the recording stream, its frames going to `output`."""

    @abstractmethod
    def stop_encoder(self, encoder: Any) -> None:
        """Stop `encoder`; the frames still inside it come out through its output first."""
