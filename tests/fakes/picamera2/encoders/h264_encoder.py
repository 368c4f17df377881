"""H264Encoder as on VC4 (Pi 4): a V4L2-style codec fed from the camera loop, output from its own thread.

The fake encodes with libx264 instead of /dev/video11, but keeps the V4L2 encoder's shape: the request is
held until the codec is done with it, at most 16 frames are in flight (then encode() blocks the camera
loop), and outputs are called from the encoder thread with outputframe(bytes, keyframe, timestamp_us).
"""

from __future__ import annotations

import logging
import queue
import threading
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..request import MappedArray
from ._x264 import X264Session
from .encoder import Encoder, Quality

if TYPE_CHECKING:
    from ..outputs import Output
    from ..request import CompletedRequest

_log = logging.getLogger(__name__)
_V4L2_MBPS = {Quality.VERY_LOW: 2, Quality.LOW: 4, Quality.MEDIUM: 6, Quality.HIGH: 9, Quality.VERY_HIGH: 15}
NUM_OUTPUT_BUFFERS = 16
DEFAULT_IPERIOD = 60  # the bcm2835 codec's default when iperiod is None


class H264Encoder(Encoder):
    def __init__(
        self,
        bitrate: int | None = None,
        repeat: bool = True,
        iperiod: int | None = None,
        framerate: float | None = None,
        enable_sps_framerate: bool = False,
        qp: int | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__()
        self.bitrate = bitrate
        self.iperiod = iperiod
        self.repeat = repeat
        self.qp = qp
        self.profile = profile
        self.framerate = framerate
        self._enable_framerate = enable_sps_framerate
        self._key_frames_requested = 0
        self._key_frames_generated = 0
        self._session: X264Session | None = None
        self._queue: queue.Queue[tuple[CompletedRequest, Any, int, bool] | None] = queue.Queue()
        self._slots = threading.Semaphore(NUM_OUTPUT_BUFFERS)
        self._thread: threading.Thread | None = None

    def _setup(self, quality: Quality | None) -> None:
        if quality is not None or (self.bitrate is None and self.qp is None):
            quality = Quality.MEDIUM if quality is None else quality
            actual = self.width * self.height * (self.framerate or 30)
            self.bitrate = int(_V4L2_MBPS[quality] * 1000000 * actual / (1920 * 1080 * 30))

    def _send_streams(self, output: Output) -> None:
        output._add_stream("video", "h264", width=self._width, height=self._height)

    def _start(self) -> None:
        if self.profile and (
            not isinstance(self.profile, str)
            or self.profile.lower() not in ("baseline", "constrained baseline", "main", "high")
        ):
            raise RuntimeError(f"Profile {self.profile} not recognised")
        for out in self._output:
            self._send_streams(out)
        assert self._format is not None
        profile = None if not self.profile else self.profile.title()
        self._session = X264Session(
            self.width,
            self.height,
            self._format,
            Fraction(self.framerate or 30).limit_denominator(1000),  # V4L2 takes any number
            self.bitrate,
            self.iperiod or DEFAULT_IPERIOD,
            self.qp,
            profile,
            self.repeat,
            None,
            0,
        )
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self.thread_poll, daemon=True, name="fake-v4l2-h264")
        self._thread.start()

    def _encode(self, stream: Any, request: CompletedRequest) -> None:
        if self._session is None:
            return
        force_key = self._key_frames_requested > self._key_frames_generated
        if force_key:
            self._key_frames_generated += 1
        request.acquire()
        timestamp_us = self._timestamp(request)
        self._slots.acquire()  # blocks the camera loop when the codec has 16 frames queued
        self._queue.put((request, stream, timestamp_us, force_key))

    def thread_poll(self) -> None:
        """The encoder thread: encode, give the frame back to the camera, write the output."""
        assert self._session is not None
        while True:
            item = self._queue.get()
            if item is None:
                return
            request, stream, timestamp_us, force_key = item
            try:
                with MappedArray(request, stream) as m:
                    assert m.array is not None
                    packets = self._session.encode(m.array, timestamp_us, force_key)
            except Exception:
                _log.exception("fake H264Encoder failed to encode a frame")
                packets = []
            finally:
                request.release()
                self._slots.release()
            for packet in packets:
                self.outputframe(bytes(packet), packet.is_keyframe, timestamp_us)

    def _stop(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join()
        self._thread = None
        if self._session is not None:
            self._session.close()
        self._session = None

    def force_key_frame(self) -> None:
        self._key_frames_requested += 1
