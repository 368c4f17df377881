"""Previews: one interface (base.py) for everything that shows a camera's newest frames, the one
renderer that draws them (render.py: scaling, info lines, recording dot, in I420), the feed that
takes the newest frame and counts the ones passed over (feed.py), and the null preview.

Implementations: windows (display/windows.py, OpenCV on the main thread), the slave's stream
(commands/preview.py, JPEG lines), none (NullPreview). Modes pick one (modes/preview_alongside.py).

The interface is imported at once; the feed and the renderer (which need OpenCV, about 40 MB of
shared pages) only when first used, so a run without any preview never loads OpenCV."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from camera_core.preview.base import LatestFrames, NullPreview, Preview, PreviewCamera, PreviewEnd

if TYPE_CHECKING:
    from camera_core.preview.feed import FeedCounts, PreviewFeed
    from camera_core.preview.render import PreviewRenderer, RenderedPreview, scale_i420

_LAZY = {
    "FeedCounts": "camera_core.preview.feed",
    "PreviewFeed": "camera_core.preview.feed",
    "PreviewRenderer": "camera_core.preview.render",
    "RenderedPreview": "camera_core.preview.render",
    "scale_i420": "camera_core.preview.render",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FeedCounts",
    "LatestFrames",
    "NullPreview",
    "Preview",
    "PreviewCamera",
    "PreviewEnd",
    "PreviewFeed",
    "PreviewRenderer",
    "RenderedPreview",
    "scale_i420",
]
