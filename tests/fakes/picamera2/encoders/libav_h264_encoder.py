"""LibavH264Encoder: libx264 through PyAV, encoding inside the camera loop (Pi 5's H264Encoder)."""

from __future__ import annotations

import collections
from math import sqrt
from typing import TYPE_CHECKING, Any

from ..request import MappedArray
from ._x264 import X264Session
from .encoder import Encoder, Quality

if TYPE_CHECKING:
    from ..outputs import Output
    from ..request import CompletedRequest

_LIBAV_MBPS = {Quality.VERY_LOW: 3, Quality.LOW: 4, Quality.MEDIUM: 7, Quality.HIGH: 10, Quality.VERY_HIGH: 14}


class LibavH264Encoder(Encoder):
    """Outputs get each packet from the camera loop thread: outputframe(bytes, keyframe, pts_us, packet)."""

    def __init__(
        self,
        bitrate: int | None = None,
        repeat: bool = True,
        iperiod: int | None = 30,
        framerate: float | None = 30,
        qp: int | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__()
        self._codec = "h264"
        self.repeat = repeat
        self.bitrate = bitrate
        self.iperiod = iperiod
        self.framerate = framerate
        self.qp = qp
        self.profile = profile
        self.preset: str | None = None
        self.drop_final_frames = False
        self.threads = 0
        self._request_release_delay = 1
        self._request_release_queue: collections.deque[CompletedRequest] = collections.deque()
        self._key_frames_requested = 0
        self._key_frames_generated = 0
        self._session: X264Session | None = None

    @property
    def use_hw(self) -> bool:
        return False

    @use_hw.setter
    def use_hw(self, value: bool) -> None:
        if value:
            print("Warning: use_hw has no effect on non-VC4 platforms")

    def _setup(self, quality: Quality | None) -> None:
        if quality is not None or (self.bitrate is None and self.qp is None):
            quality = Quality.MEDIUM if quality is None else quality
            actual = self.width * self.height * (self.framerate or 30)
            self.bitrate = int(_LIBAV_MBPS[quality] * 1000000 * sqrt(actual / (1920 * 1080 * 30)))

    def _send_streams(self, output: Output) -> None:
        assert self._session is not None
        output._add_stream(self._session.stream, self._codec, rate=self.framerate, width=self.width, height=self.height)

    def _start(self) -> None:
        assert self._format is not None
        self._session = X264Session(
            self.width,
            self.height,
            self._format,
            self.framerate,  # unchanged, as the real encoder passes it to add_stream
            self.bitrate,
            self.iperiod or (1 << 31) - 1,
            self.qp,
            self.profile,
            self.repeat,
            self.preset,
            self.threads,
        )
        for out in self._output:
            self._send_streams(out)
        self._request_release_queue = collections.deque()

    def _emit(self, packets: list[Any]) -> None:
        for packet in packets:
            self.outputframe(bytes(packet), packet.is_keyframe, timestamp=packet.pts, packet=packet)

    def _encode(self, stream: Any, request: CompletedRequest) -> None:
        assert self._session is not None
        request.acquire()
        self._request_release_queue.append(request)
        timestamp_us = self._timestamp(request)
        force_key = self._key_frames_requested > self._key_frames_generated
        if force_key:
            self._key_frames_generated += 1
        with MappedArray(request, stream) as m:
            assert m.array is not None
            # as picamera2 0.3.38: `frame.pict_type = "I"` (which PyAV 13 and later refuse)
            self._emit(self._session.encode(m.array, timestamp_us, "I" if force_key else False))
        while len(self._request_release_queue) > self._request_release_delay:
            self._request_release_queue.popleft().release()

    def _stop(self) -> None:
        assert self._session is not None
        if not self.drop_final_frames:
            self._emit(self._session.flush())
        while self._request_release_queue:
            self._request_release_queue.popleft().release()
        self._session.close()
        self._session = None

    def force_key_frame(self) -> None:
        self._key_frames_requested += 1
