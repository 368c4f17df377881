"""The preview interface: where a camera's rendered previews go (a window, the slave's stream, or
nowhere), and what a camera offers a preview.

Every preview takes each camera's newest frame only and counts the frames it passes over, so a
slow preview can never hold up capture or recording (feed.py does the taking and counting)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from camera_core.frames.frame import Frame
from camera_core.frames.overlay_style import InfoOverlay, OverlayStyle

if TYPE_CHECKING:
    from camera_core.preview.render import RenderedPreview


class LatestFrames(Protocol):
    """A latest-value slot of frames (pipeline's LatestSlot): producers overwrite, consumers take
    the newest with its version number."""

    @property
    def version(self) -> int: ...

    def get(self) -> tuple[int, Frame | None]: ...

    def wait_newer(self, version: int, timeout: float | None = None) -> tuple[int, Frame | None]: ...


class PreviewCamera(Protocol):
    """What a preview needs of a camera: its newest frames and what to write over them."""

    @property
    def camera_id(self) -> int: ...

    @property
    def target_fps(self) -> float: ...

    @property
    def preview_size(self) -> tuple[int, int]: ...

    @property
    def style(self) -> OverlayStyle: ...

    @property
    def latest(self) -> LatestFrames: ...

    def preview_overlay(self, frame: Frame) -> InfoOverlay:
        """The info lines and recording state to draw over `frame` (any thread)."""
        ...


class PreviewEnd(Enum):
    """Why `Preview.run` returned."""

    NONE = "no preview"  # a preview that runs nothing on the caller's thread
    STOPPED = "stopped"  # the run was told to stop
    CLOSED = "closed"  # close() was called (a q key, the slave's preview toggled off)
    WINDOW_CLOSED = "window closed"  # the user closed a window
    FAILED = "failed"  # the display failed; the run goes on without preview


class Preview(ABC):
    """Where previews go. A camera's frames reach `show` through a PreviewFeed, on the thread the
    implementation says; `ready` False makes the feed skip (and count) a frame without rendering."""

    #: Previews must be in full range (JPEG) rather than video range (OpenCV's BGR conversion).
    full_range: bool = False
    #: Gets each key the user presses in the preview (windows have keys; others never call it).
    on_key: Callable[[str], object] | None = None

    def show_message(self, text: str) -> None:  # noqa: B027 - only previews a user looks at show it
        """Show a short confirmation line to whoever watches the preview (any thread)."""

    def ready(self, camera_id: int) -> bool:
        """Can this preview take a new frame of the camera now?"""
        return True

    @abstractmethod
    def show(self, preview: RenderedPreview) -> None:
        """Take one rendered preview (the newest; older ones are never shown after it)."""

    def run(self, stopped: Callable[[], bool]) -> PreviewEnd:
        """Run whatever must run on the calling (main) thread until `stopped()`, the user closes
        the preview or `close()`; previews running on their own threads return at once."""
        return PreviewEnd.NONE

    def close(self) -> None:  # noqa: B027 - most previews have nothing to close
        """Stop showing previews (any thread)."""


class NullPreview(Preview):
    """No preview (headless, slave without --preview): renders nothing, shows nothing, returns
    at once from `run`. Feeds never render for it."""

    def ready(self, camera_id: int) -> bool:
        return False

    def show(self, preview: RenderedPreview) -> None:
        pass
