"""Shared PyAV/libx264 session used by the fake H264Encoder and LibavH264Encoder."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import numpy as np

from .encoder import _AV_FORMATS


class X264Session:
    """One libx264 stream (ultrafast, zerolatency: one packet out per frame in, no reordering).

    `rate` goes to PyAV's add_stream unchanged, as picamera2's LibavH264Encoder passes it: PyAV 13 and
    later take only an int or a Fraction, and a float raises AttributeError there, as on a Pi 5."""

    def __init__(
        self,
        width: int,
        height: int,
        fmt: str,
        rate: Any,
        bitrate: int | None,
        gop: int,
        qp: int | None,
        profile: str | None,
        repeat: bool,
        preset: str | None,
        threads: int,
    ) -> None:
        self.input_format = _AV_FORMATS[fmt]
        self.width = width
        self.container = av.open("/dev/null", "w", format="null")
        self.stream: Any = self.container.add_stream("libx264", rate=rate)
        ctx = self.stream.codec_context
        ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
        ctx.thread_count = threads
        chosen_preset = "ultrafast"
        if profile is not None:
            if not isinstance(profile, str):
                raise RuntimeError("Profile should be a string value")
            match = next((p for p in self.stream.profiles if p.lower() == profile.lower()), None)
            if match is None:
                raise RuntimeError("Profile " + profile + " not recognised")
            self.stream.profile = match
            if "baseline" not in match.lower():
                chosen_preset = "superfast"
        if bitrate is not None:
            ctx.bit_rate = bitrate
        ctx.gop_size = gop
        if not repeat:
            ctx.flags |= av.codec.context.Flags.global_header
        if qp is not None:
            ctx.qmin = ctx.qmax = qp
        ctx.time_base = Fraction(1, 1000000)
        ctx.options = {"preset": preset or chosen_preset, "tune": "zerolatency", "deblock": "1"}

    def encode(self, image: np.ndarray, pts_us: int, force_key: bool | str = False) -> list[Any]:
        """`force_key` True forces an I picture (the V4L2 control); a string is assigned to
        `pict_type` as given, as picamera2's LibavH264Encoder does ("I": PyAV 13+ raise TypeError)."""
        frame = av.VideoFrame.from_numpy_buffer(image, format=self.input_format, width=self.width)
        frame.pts = pts_us
        frame.time_base = Fraction(1, 1000000)
        if isinstance(force_key, str):
            frame.pict_type = force_key
        elif force_key:
            frame.pict_type = av.video.frame.PictureType.I
        return list(self.stream.encode(frame))

    def flush(self) -> list[Any]:
        return list(self.stream.encode(None))

    def close(self) -> None:
        self.container.close()
