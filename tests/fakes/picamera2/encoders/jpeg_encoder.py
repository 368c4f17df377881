"""JpegEncoder (simplejpeg on a thread pool) and MJPEGEncoder (one JPEG per frame, in the camera loop)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..request import encode_jpeg
from .encoder import Encoder, Quality
from .multi_encoder import MultiEncoder

if TYPE_CHECKING:
    from ..request import CompletedRequest

_Q_TABLE = {Quality.VERY_LOW: 25, Quality.LOW: 35, Quality.MEDIUM: 50, Quality.HIGH: 65, Quality.VERY_HIGH: 80}


class JpegEncoder(MultiEncoder):
    def __init__(
        self,
        num_threads: int = 4,
        q: int | None = None,
        colour_space: str | None = None,
        colour_subsampling: str = "420",
    ) -> None:
        super().__init__(num_threads=num_threads)
        self.q = q
        self.colour_space = colour_space
        self.colour_subsampling = colour_subsampling

    def encode_func(self, request: CompletedRequest, name: Any) -> bytes:
        return encode_jpeg(request, name, self.q or 50)

    def _setup(self, quality: Quality | None) -> None:
        if quality is not None or self.q is None:
            self.q = _Q_TABLE[Quality.MEDIUM if quality is None else quality]


class MJPEGEncoder(Encoder):
    """Motion JPEG: every frame a keyframe, timestamps as the H.264 encoders (µs from the first frame)."""

    def __init__(self, bitrate: int | None = None) -> None:
        super().__init__()
        self.bitrate = bitrate
        self.q = 50

    def _setup(self, quality: Quality | None) -> None:
        self.q = _Q_TABLE[Quality.MEDIUM if quality is None else quality]

    def _send_streams(self, output: Any) -> None:
        output._add_stream("video", "mjpeg", rate=self.framerate, width=self.width, height=self.height)

    def _encode(self, stream: Any, request: CompletedRequest) -> None:
        timestamp_us = self._timestamp(request)
        self.outputframe(encode_jpeg(request, stream, self.q), True, timestamp_us)
