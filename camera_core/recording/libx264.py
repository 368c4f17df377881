"""H.264 encoding with libx264 through PyAV, writing a raw Annex-B .h264 stream."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.video.codeccontext import VideoCodecContext


@dataclass(frozen=True, slots=True)
class H264Params:
    width: int
    height: int
    fps: float
    preset: str = "ultrafast"
    crf: int = 23
    bitrate_kbps: int = 0
    keyframe_interval: int = 30
    threads: int = 0
    #: Nice value of libx264's own worker threads (0: as the process); Python threads keep theirs.
    worker_nice: int = 0

    @property
    def label(self) -> str:
        return f"libx264 (PyAV {av.__version__}, preset {self.preset})"


def make_codec_context(p: H264Params) -> VideoCodecContext:
    """The libx264 encoder: yuv420p in, Annex-B out, SPS/PPS repeated at every keyframe so any
    keyframe can start a decode (segments, recovery after a crash)."""
    ctx = av.CodecContext.create("libx264", "w")
    assert isinstance(ctx, VideoCodecContext)
    ctx.width, ctx.height, ctx.pix_fmt = p.width, p.height, "yuv420p"
    rate = Fraction(p.fps).limit_denominator(1001)
    ctx.framerate = rate
    ctx.time_base = 1 / rate
    ctx.gop_size = p.keyframe_interval
    options = {"preset": p.preset, "tune": "zerolatency", "x264-params": "repeat-headers=1"}
    if p.bitrate_kbps:
        ctx.bit_rate = p.bitrate_kbps * 1000
    else:
        options["crf"] = str(p.crf)
    ctx.options = options
    # Frame threads hold one frame each inside the encoder; slice threads hold none. Where the frames
    # held would be more than half a second (low frame rates), slices are used, so a crash never
    # loses more than that of encoded frames (and their rows).
    ctx.thread_type = "FRAME" if frame_thread_delay_s(p) <= MAX_ENCODER_DELAY_S else "SLICE"
    ctx.thread_count = p.threads
    if p.worker_nice > 0:  # opened now, so libx264's workers start niced (else PyAV opens it lazily)
        open_with_niced_workers(ctx, p.worker_nice)
    return ctx


#: The longest time frames may wait inside libx264 (see `make_codec_context`).
MAX_ENCODER_DELAY_S = 0.5


def frame_thread_delay_s(p: H264Params) -> float:
    """Seconds of frames libx264's frame threads hold (one frame per thread; 0 threads = 1.5 per core)."""
    threads = p.threads or max(1, (os.cpu_count() or 1) * 3 // 2)
    return threads / p.fps if threads > 1 else 0.0


def to_video_frame(image: np.ndarray, pixel_format: str) -> av.VideoFrame:
    """An encoder input frame; I420 goes in as is, BGR is converted once with OpenCV.

    A contiguous I420 array is wrapped, not copied (from_numpy_buffer: 0.005 ms against 0.75 ms for
    from_ndarray's two copies at 1456x1088, held under the GIL); the frame keeps the array alive, and
    libx264 copies the picture when it is encoded."""
    image = to_i420(image, pixel_format)
    if image.flags.c_contiguous:
        return av.VideoFrame.from_numpy_buffer(image, format="yuv420p")
    return av.VideoFrame.from_ndarray(image, format="yuv420p")


def to_i420(image: np.ndarray, pixel_format: str) -> np.ndarray:
    """The picture as I420 planes (h*3//2, w): as it is, or converted once from BGR with OpenCV
    (imported only then: the encoder worker process never loads it)."""
    if pixel_format == "I420":
        return image
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420)


def open_with_niced_workers(ctx: av.CodecContext, nice: int) -> None:
    """Open the codec from a short-lived thread that first lowers its own priority by `nice`, so the
    worker threads libx264 starts then inherit it (Linux: a new thread takes its creator's nice
    value) while every Python thread keeps its own. Under CPU contention the encoder's workers then
    yield to the threads that answer commands; a niced Python thread would instead be descheduled
    while holding the GIL. Raises what opening raised."""
    failure: list[BaseException] = []

    def open_niced() -> None:
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, max(nice, os.getpriority(os.PRIO_PROCESS, tid)))
            ctx.open()
        except BaseException as exc:  # re-raised on the caller's thread
            failure.append(exc)

    opener = threading.Thread(target=open_niced, name="x264-open", daemon=True)
    opener.start()
    opener.join()
    if failure:
        raise failure[0]


class H264Encoder:
    """Feeds frames, yields the encoded packets' bytes in order (no B-frames: one packet per frame)."""

    def __init__(self, params: H264Params) -> None:
        self.params = params
        self._ctx = make_codec_context(params)
        self._pts = 0

    def encode(self, image: np.ndarray, pixel_format: str) -> Iterator[bytes]:
        frame = to_video_frame(image, pixel_format)
        frame.pts = self._pts
        self._pts += 1
        for packet in self._ctx.encode(frame):
            yield bytes(packet)

    def flush(self) -> Iterator[bytes]:
        for packet in self._ctx.encode(None):
            yield bytes(packet)
