"""Previews: one interface (base.py) for everything that shows a camera's newest frames, the one
renderer that draws them (render.py: scaling, info lines, recording dot, in I420), the feed that
takes the newest frame and counts the ones passed over (feed.py), and the null preview.

Implementations: windows (display/windows.py, OpenCV on the main thread), the slave's stream
(commands/preview.py, JPEG lines), none (NullPreview). Modes pick one (modes/preview_alongside.py)."""

from camera_core.preview.base import LatestFrames, NullPreview, Preview, PreviewCamera, PreviewEnd
from camera_core.preview.feed import FeedCounts, PreviewFeed
from camera_core.preview.render import PreviewRenderer, RenderedPreview, scale_i420

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
