"""The encoders of the recording pipeline. Every encoder takes admitted frames (with their
`FrameMeta`) and hands out `EncodedFrame`s in order, one per frame (no B-frames):

- `PyAVStage`: libx264 through PyAV, run in the pipeline's own recording thread;
- `ProcessStage` (recording/encoder_process.py): the same in a niced worker process
  (`encoder_process = true`), frames handed over through shared memory;
- picamera2's `H264Encoder` (recording/picamera2_encoder.py): V4L2 hardware on a Pi 4, libx264
  on a Pi 5, run by picamera2, frames gated and paired with their metadata there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

import av

from camera_core.frames.frame import Frame
from camera_core.recording.frames import EncodedFrame, EncodedFrameSink, FrameMeta
from camera_core.recording.libx264 import H264Params, make_codec_context, to_video_frame
from camera_core.sources.base import CameraRequest

if TYPE_CHECKING:
    from av.video.codeccontext import VideoCodecContext


class EncoderStage(ABC):
    """How a pipeline's frames are encoded."""

    #: True: frames come through `submit` and are encoded in the recording thread (`encode`);
    #: False: the camera encodes them itself and the stage queues the output (`start`/`stop`).
    feeds_frames: bool = True

    @property
    @abstractmethod
    def label(self) -> str: ...

    def attach(self, pipeline: EncodedFrameSink) -> None:  # noqa: B027 (optional hook)
        """Connect to the pipeline once, when it is made."""

    def prepare(self) -> None:  # noqa: B027 (optional hook)
        """Control thread, before frames are admitted to a feeding stage: get ready (start a worker)."""

    def start(self) -> None:  # noqa: B027 (optional hook)
        """Control thread: begin encoding (the camera's own encoder)."""

    def stop(self) -> int:
        """Control thread: stop encoding; every frame inside comes out first. Returns how many
        admitted frames never came out."""
        return 0

    def expect(self, meta: FrameMeta, request: CameraRequest) -> None:  # noqa: B027 (optional hook)
        """Admission (pipeline lock): `request` is to be encoded with `meta`."""

    def keyframe_next(self) -> bool:
        """Admission: True when the next admitted frame will be a keyframe if asked (`meta.split`):
        always for encoders that can force one; only at the predicted ones for those that cannot."""
        return True

    def encode(self, frame: Frame, meta: FrameMeta) -> Iterator[EncodedFrame]:
        """Recording thread: encode one frame (feeding stages only)."""
        raise NotImplementedError

    def flush(self) -> Iterator[EncodedFrame]:
        """Recording thread: every frame still inside the encoder (feeding stages only)."""
        return iter(())

    def discard(self) -> None:  # noqa: B027 (optional hook)
        """Recording thread: drop the encoder after a failure."""

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Once the recording thread has ended: release what the stage holds (a worker process)."""


class PyAVStage(EncoderStage):
    """libx264 through PyAV in the recording thread. A codec context is made on the first frame
    after a flush, so it starts with a keyframe; a frame that begins a new file is forced to one."""

    def __init__(self, params: H264Params) -> None:
        self.params = params
        self._ctx: VideoCodecContext | None = None
        self._metas: deque[FrameMeta] = deque()
        self._pts = 0

    @property
    def label(self) -> str:
        return self.params.label

    def encode(self, frame: Frame, meta: FrameMeta) -> Iterator[EncodedFrame]:
        if self._ctx is None:
            self._ctx = make_codec_context(self.params)
            self._pts = 0
        video = to_video_frame(frame.image, frame.pixel_format)
        video.pts = self._pts
        self._pts += 1
        if meta.split is not None:  # a new file begins with this frame
            video.pict_type = av.video.frame.PictureType.I
        self._metas.append(meta)
        for packet in self._ctx.encode(video):
            yield EncodedFrame(bytes(packet), bool(packet.is_keyframe), self._metas.popleft())

    def flush(self) -> Iterator[EncodedFrame]:
        """Every frame still inside the codec; the next frame starts a new context (a keyframe)."""
        ctx, self._ctx = self._ctx, None
        if ctx is None:
            return
        for packet in ctx.encode(None):
            yield EncodedFrame(bytes(packet), bool(packet.is_keyframe), self._metas.popleft())
        self._metas.clear()

    def discard(self) -> None:
        """Drop the codec and the frames inside it (after a failure)."""
        self._ctx = None
        self._metas.clear()
