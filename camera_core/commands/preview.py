"""Preview streaming: one thread per streamed camera renders the newest captured frame (preview
size, overlays) and turns it into a `preview_frame` line (simplejpeg, base64) at up to
`preview_stream_fps`. It renders and encodes only when the master has taken the previous frame, so a
slow master costs neither CPU nor capture."""

from __future__ import annotations

import base64
import logging
import threading
import time

from camera_core.commands.protocol import encode_line, preview_message
from camera_core.commands.writer import ProtocolWriter
from camera_core.pipeline.camera_pipeline import CameraPipeline
from camera_core.snapshot import encode_jpeg

log = logging.getLogger(__name__)


class PreviewStream:
    """Streams one camera's preview frames to the writer until `stop()`."""

    def __init__(self, camera: CameraPipeline, writer: ProtocolWriter, *, fps: float, quality: int) -> None:
        self.camera = camera
        self.writer = writer
        self.period = 1.0 / fps
        self.quality = quality
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"preview-cam{camera.camera_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        """Takes the newest captured frame and renders, encodes and queues it in this one thread:
        a hop through the processor loop and its render thread would cost more CPU (thread
        wake-ups, GIL hand-offs) than the rendering itself (benchmarks/bench_preview.py)."""
        camera = self.camera
        cam_id = camera.camera_id
        try:
            version = camera.latest.version
            next_due = 0.0
            while not self._stopping.is_set():
                version, frame = camera.latest.wait_newer(version, timeout=0.25)
                if frame is None or self._stopping.is_set():
                    continue
                now = time.monotonic()
                if now < next_due:
                    continue
                # Allow half a period of slack so a 30 fps source is not thinned by timer jitter.
                next_due = max(next_due + self.period, now - self.period / 2)
                if self.writer.preview_pending(cam_id):
                    self.writer.count_preview_skip(cam_id)
                    continue
                preview = camera.render_preview(frame, version - 1)
                del frame  # the capture buffer goes back to its pool
                jpeg = encode_jpeg(preview.image, "BGR", self.quality)
                height, width = preview.image.shape[:2]
                message = preview_message(
                    cam_id,
                    preview.frame_number,
                    preview.sensor_timestamp_ns,
                    width,
                    height,
                    base64.b64encode(jpeg).decode("ascii"),
                )
                if not self._stopping.is_set():
                    self.writer.put_preview(cam_id, encode_line(message))
        except Exception:
            log.exception("cam%d: preview streaming failed", cam_id)


class PreviewStreams:
    """Which cameras stream previews; enable/disable are called from the command job thread."""

    def __init__(self, writer: ProtocolWriter, *, fps: float, quality: int) -> None:
        self.writer = writer
        self.fps = fps
        self.quality = quality
        self._streams: dict[int, PreviewStream] = {}

    def is_streaming(self, camera_id: int) -> bool:
        return camera_id in self._streams

    def enable(self, camera: CameraPipeline) -> None:
        if camera.camera_id not in self._streams:
            stream = PreviewStream(camera, self.writer, fps=self.fps, quality=self.quality)
            self._streams[camera.camera_id] = stream
            stream.start()

    def disable(self, camera_id: int) -> None:
        """Stop the stream; no frame of this camera is written after this returns."""
        stream = self._streams.pop(camera_id, None)
        if stream is not None:
            stream.stop()
        self.writer.clear_preview(camera_id)

    def streaming(self) -> list[int]:
        return sorted(self._streams)

    def stop_all(self) -> None:
        for camera_id in list(self._streams):
            self.disable(camera_id)
