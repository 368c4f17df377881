"""Recording through a Pi camera's own H.264 encoder (picamera2's `H264Encoder`: the V4L2 hardware
encoder on a Pi 4 and earlier, libx264 through PyAV on a Pi 5), as a stage of the recording pipeline.

How rows and video frames stay one to one:
- the pipeline's request hook (picamera2's pre_callback, through the source's public hook
  interface) admits a frame: it gets its number, burned into the main stream's Y plane before
  anything copies or encodes it, and its metadata is kept here under its encoder timestamp
  (int(SensorTimestamp / 1000), as picamera2's encoders compute it);
- a new file begins at a keyframe. The V4L2 encoder makes the frame that begins it one
  (`force_key_frame()`, applied to the next frame it encodes: this one). picamera2's
  LibavH264Encoder cannot (its `force_key_frame` sets `pict_type = "I"`, which PyAV 13 and later
  refuse with a TypeError), so there the file begins at the encoder's next keyframe, which comes
  every `keyframe_interval` frames and is predicted here from the keyframes seen coming out;
- the encoder is a thin subclass whose `encode` takes only the frames admitted that way, so every
  admitted frame reaches the encoder and nothing else does (picamera2's own `sync_enable` gates
  frames in `encode` the same way);
- an `Output` in the encoder's list receives each encoded frame with its timestamp, finds the
  frame's metadata and queues the pair to the pipeline's recording thread, so neither disk writes
  nor fsyncs ever hold up the camera loop (libx264 calls outputs from that loop).
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import replace
from fractions import Fraction
from typing import Any

from camera_core.recording.encoders import EncoderStage
from camera_core.recording.frames import EncodedFrame, EncodedFrameSink, FrameMeta
from camera_core.recording.libx264 import MAX_ENCODER_DELAY_S, H264Params, frame_thread_delay_s
from camera_core.sources.base import CameraRequest, EncoderHost
from camera_core.sources.picamera2_source import request_metadata

log = logging.getLogger(__name__)


def encoder_key(sensor_timestamp: float) -> int:
    """The µs key picamera2's encoders derive from SensorTimestamp (before subtracting the first)."""
    return int(sensor_timestamp / 1000)


def encoder_framerate(fps: float) -> Fraction:
    """The frame rate as PyAV's add_stream(rate=...) takes it (an int or a Fraction, never a float):
    picamera2's LibavH264Encoder (a Pi 5's H264Encoder) passes it there unchanged."""
    return Fraction(fps).limit_denominator(1001)


@functools.cache
def gated_encoder_class(base: type) -> type:
    """`base` (picamera2's H264Encoder) taking only the frames `gate(request)` accepts."""

    class GatedEncoder(base):  # type: ignore[misc, valid-type]
        def __init__(self, gate: Any, failed: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.camera_core_gate = gate
            self.camera_core_failed = failed

        def encode(self, stream: Any, request: Any) -> None:
            try:
                if self.camera_core_gate(request):
                    super().encode(stream, request)
            except Exception as exc:  # never into picamera2's camera loop: it would end
                self.camera_core_failed(exc)

    GatedEncoder.__name__ = GatedEncoder.__qualname__ = f"Gated{base.__name__}"
    return GatedEncoder


@functools.cache
def sink_output_class(base: type) -> type:
    """An `Output` (picamera2.outputs.Output) passing each encoded video frame to `sink`."""

    class SinkOutput(base):  # type: ignore[misc, valid-type]
        def __init__(self, sink: Any) -> None:
            super().__init__()
            self.camera_core_sink = sink

        def outputframe(
            self,
            frame: Any,
            keyframe: bool = True,
            timestamp: int | None = None,
            packet: Any = None,
            audio: bool = False,
        ) -> None:
            if audio or frame is None:
                return
            self.camera_core_sink(bytes(frame), keyframe, timestamp)

    return SinkOutput


class Picamera2Stage(EncoderStage):
    """picamera2's H264Encoder on the camera's main stream, started and stopped by the pipeline."""

    feeds_frames = False

    def __init__(
        self,
        host: EncoderHost,
        camera_id: int,
        *,
        fps: float,
        bitrate_kbps: int,
        keyframe_interval: int,
        preset: str,
        threads: int,
    ) -> None:
        self.host = host
        self.camera_id = camera_id
        self.fps = fps
        self.bitrate_kbps = bitrate_kbps
        self.keyframe_interval = keyframe_interval
        self.preset = preset
        self.threads = threads
        self._pipeline: EncodedFrameSink | None = None
        self._encoder: Any = None
        self._pending: dict[int, tuple[FrameMeta, int]] = {}
        self._pending_lock = threading.Lock()
        self._last_meta: FrameMeta | None = None
        self.unmatched = 0
        self.failures = 0
        #: The V4L2 encoder forces keyframes; picamera2's libx264 encoder cannot (see above).
        self.can_force_keyframe = not host.software_encoder
        self._count = 0  # frames given to the current encoder
        self._last_key = 0  # the index of the newest keyframe that came out of it

    @property
    def label(self) -> str:
        return self.host.encoder_label

    def attach(self, pipeline: EncodedFrameSink) -> None:
        self._pipeline = pipeline
        self.host.add_request_hook(pipeline.on_request)

    def _make_encoder(self) -> Any:
        cls = gated_encoder_class(self.host.encoder_class())
        encoder = cls(
            self._accepts,
            self._failed,
            bitrate=self.bitrate_kbps * 1000 or None,
            repeat=True,
            iperiod=self.keyframe_interval,
            framerate=encoder_framerate(self.fps),
        )
        if self.host.software_encoder:
            encoder.preset = self.preset
            # picamera2 uses frame threads, each holding a frame: at low rates one thread, so a crash
            # never loses more than half a second of encoded frames
            delay = frame_thread_delay_s(H264Params(0, 0, self.fps, threads=self.threads))
            encoder.threads = 1 if delay > MAX_ENCODER_DELAY_S else self.threads
        return encoder

    def start(self) -> None:
        assert self._pipeline is not None
        encoder = self._make_encoder()
        output = sink_output_class(self.host.output_class())(self._on_encoded)
        with self._pending_lock:
            # empty already: stop() hands back every pending frame's slot, and the pipeline admits
            # nothing between stop() and start() (admission checks it is armed under its lock)
            self._pending.clear()
            self._count = self._last_key = 0
        self.host.start_encoder(encoder, output)
        self._encoder = encoder

    def stop(self) -> int:
        encoder = self._encoder
        try:
            if encoder is not None:
                self.host.stop_encoder(encoder)  # encoded frames still inside come out through the output
        finally:
            self._encoder = None
            with self._pending_lock:
                never_out = len(self._pending)
                self._pending.clear()
        return never_out

    def keyframe_next(self) -> bool:
        if self.can_force_keyframe:
            return True
        with self._pending_lock:
            return (self._count - self._last_key) % max(1, self.keyframe_interval) == 0

    def expect(self, meta: FrameMeta, request: CameraRequest) -> None:
        """Admission: remember the frame's metadata; a new file begins with a keyframe."""
        with self._pending_lock:
            self._pending[encoder_key(request.sensor_ns)] = (meta, self._count)
            self._count += 1
        if meta.split is not None and self.can_force_keyframe and self._encoder is not None:
            self._encoder.force_key_frame()

    def _failed(self, exc: Exception) -> None:
        """The encoder raised in the camera loop: the take fails (the camera carries on)."""
        self.failures += 1
        if self.failures == 1:
            log.error("cam%d: picamera2's encoder failed: %s: %s", self.camera_id, type(exc).__name__, exc)
        assert self._pipeline is not None
        self._pipeline.put_failure(exc)

    def _accepts(self, request: Any) -> bool:
        """The encoder's gate: only admitted frames are encoded."""
        key = encoder_key(request_metadata(request)["SensorTimestamp"])
        with self._pending_lock:
            return key in self._pending

    def _on_encoded(self, data: bytes, keyframe: bool, timestamp_us: int | None) -> None:
        """The encoder's output (its own thread, or the camera loop for libx264)."""
        encoder = self._encoder
        first = getattr(encoder, "firsttimestamp", None) or 0
        key = (timestamp_us or 0) + first
        with self._pending_lock:
            found = self._pending.pop(key, None)
            if found is not None and keyframe:
                self._last_key = found[1]
        meta = found[0] if found is not None else None
        if meta is None:  # cannot happen while the gate admits only frames with metadata
            self.unmatched += 1
            if self.unmatched == 1:
                log.error("cam%d: an encoded frame (t=%s µs) has no metadata", self.camera_id, timestamp_us)
            last = self._last_meta
            if last is None:
                return
            meta = replace(last, number=-1, sensor_ns=key * 1000, split=None)
        self._last_meta = meta
        assert self._pipeline is not None
        self._pipeline.put_encoded(EncodedFrame(data, keyframe, meta))
