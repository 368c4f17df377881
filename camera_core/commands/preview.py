"""The slave's preview stream: the stream implementation of the preview interface (preview/).

For each streamed camera a PreviewFeed thread takes the newest captured frame at up to
`preview_stream_fps`, renders it (in full-range I420) and hands it here, where it becomes a JPEG
straight from the planes (simplejpeg, 4:2:0) and a `preview_frame` line, all on that one thread: a
hand-off to another thread would cost more than the work. The line is written from there too when
nothing else waits and the pipe has room for it (else the writer thread writes it). It renders nothing
while the master has not taken the previous frame (latest-only; the skip is counted), so a slow
master costs neither CPU nor capture."""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING

import simplejpeg

from camera_core.commands.protocol import encode_line, preview_message
from camera_core.commands.writer import ProtocolWriter
from camera_core.preview import Preview, PreviewCamera

if TYPE_CHECKING:
    from camera_core.preview import PreviewFeed, RenderedPreview

log = logging.getLogger(__name__)

_TAIL = b'"jpeg_base64":""}}\n'


def preview_line(preview: RenderedPreview, quality: int) -> bytes:
    """The `preview_frame` line of a rendered preview. The base64 text (often 20 KB) is spliced
    into the line rather than passed through the JSON encoder, which would scan it for escapes."""
    y, u, v = preview.planes()
    jpeg = simplejpeg.encode_jpeg_yuv_planes(y, u, v, quality=quality, fastdct=True)
    message = preview_message(
        preview.camera_id, preview.frame_number, preview.sensor_timestamp_ns, preview.width, preview.height, ""
    )
    line = encode_line(message)
    if not line.endswith(_TAIL):  # jpeg_base64 is the last field of the last object
        raise AssertionError(f"preview_frame line does not end with {_TAIL!r}: {line[-60:]!r}")
    return b"".join((line[: -len(_TAIL)], b'"jpeg_base64":"', base64.b64encode(jpeg), b'"}}\n'))


class StreamPreview(Preview):
    """Previews as `preview_frame` lines through the protocol writer (latest-only per camera)."""

    full_range = True  # JPEG holds full-range Y'CbCr

    def __init__(self, writer: ProtocolWriter, quality: int) -> None:
        self.writer = writer
        self.quality = quality
        self._closed: set[int] = set()

    def ready(self, camera_id: int) -> bool:
        if self.writer.preview_pending(camera_id):  # the master is behind: skip, counted
            self.writer.count_preview_skip(camera_id)
            return False
        return camera_id not in self._closed

    def show(self, preview: RenderedPreview) -> None:
        line = preview_line(preview, self.quality)
        if preview.camera_id not in self._closed and not self.writer.write_preview_now(preview.camera_id, line):
            self.writer.put_preview(preview.camera_id, line)

    def close_camera(self, camera_id: int) -> None:
        """No line of this camera is queued after this (its feed may still be finishing one)."""
        self._closed.add(camera_id)

    def open_camera(self, camera_id: int) -> None:
        self._closed.discard(camera_id)


class PreviewStreams:
    """Which cameras stream previews; enable/disable are called from the command job thread."""

    def __init__(self, writer: ProtocolWriter, *, fps: float, quality: int) -> None:
        self.writer = writer
        self.fps = fps
        self.quality = quality
        self.preview = StreamPreview(writer, quality)
        self._feeds: dict[int, PreviewFeed] = {}

    def is_streaming(self, camera_id: int) -> bool:
        return camera_id in self._feeds

    def enable(self, camera: PreviewCamera) -> None:
        if camera.camera_id not in self._feeds:
            from camera_core.preview.feed import PreviewFeed  # loads OpenCV: only once a stream starts

            self.preview.open_camera(camera.camera_id)
            self._feeds[camera.camera_id] = PreviewFeed(camera, self.preview, fps=self.fps).start()

    def disable(self, camera_id: int) -> None:
        """Stop the stream; no frame of this camera is written after this returns."""
        feed = self._feeds.pop(camera_id, None)
        self.preview.close_camera(camera_id)
        if feed is not None:
            feed.stop()
        self.writer.clear_preview(camera_id)

    def streaming(self) -> list[int]:
        return sorted(self._feeds)

    def stop_all(self) -> None:
        for camera_id in list(self._feeds):
            self.disable(camera_id)
