"""Encoder base class and Quality (picamera2/encoders/encoder.py): outputs, start/stop, timestamps."""

from __future__ import annotations

import threading
from enum import Enum
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .. import formats
from ..outputs import Output
from ..request import _MappedBuffer

if TYPE_CHECKING:
    from ..request import CompletedRequest

_AV_FORMATS = {"YUV420": "yuv420p", "BGR888": "rgb24", "RGB888": "bgr24", "XBGR8888": "rgba", "XRGB8888": "bgra"}


class Quality(Enum):
    VERY_LOW = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    VERY_HIGH = 4


class Encoder:
    """Base encoder: the camera loop calls encode(stream_name, request) for every frame while running."""

    def __init__(self, framerate: float | None = 30) -> None:
        self._width = 0
        self._height = 0
        self._stride = 0
        self._format: str | None = None
        self._output: list[Output] = []
        self._running = False
        self._name: str | None = None
        self._framerate = framerate
        self._lock = threading.Lock()
        self.firsttimestamp: int | None = None
        self.frame_skip_count = 1
        self._skip_count = 0
        self._output_lock = threading.Lock()
        self.audio = False
        self.frames_encoded = 0
        self.sync_enable = False
        self.sync = threading.Event()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def framerate(self) -> float | None:
        return self._framerate

    @framerate.setter
    def framerate(self, value: float | None) -> None:
        self._framerate = value

    @property
    def width(self) -> int:
        return self._width

    @width.setter
    def width(self, value: int) -> None:
        if not isinstance(value, int):
            raise RuntimeError("Width must be integer")
        self._width = value

    @property
    def height(self) -> int:
        return self._height

    @height.setter
    def height(self, value: int) -> None:
        if not isinstance(value, int):
            raise RuntimeError("Height must be integer")
        self._height = value

    @property
    def size(self) -> tuple[int, int]:
        return (self._width, self._height)

    @size.setter
    def size(self, value: tuple[int, int]) -> None:
        if not isinstance(value, tuple) or len(value) != 2:
            raise RuntimeError("Size must be a tuple of two integers")
        self.width, self.height = value

    @property
    def stride(self) -> int:
        return self._stride

    @stride.setter
    def stride(self, value: int) -> None:
        if not isinstance(value, int):
            raise RuntimeError("Stride must be integer")
        self._stride = value

    @property
    def format(self) -> str | None:
        return self._format

    @format.setter
    def format(self, value: str) -> None:
        formats.assert_format_valid(value)
        self._format = value

    @property
    def output(self) -> Output | list[Output]:
        return self._output[0] if len(self._output) == 1 else self._output

    @output.setter
    def output(self, value: Output | list[Output]) -> None:
        if isinstance(value, list):
            if not all(isinstance(out, Output) for out in value):
                raise RuntimeError("Must pass Output")
        elif isinstance(value, Output):
            value = [value]
        else:
            raise RuntimeError("Must pass Output")
        for out in value:
            if self._running and out not in self._output:
                self._send_streams(out)
        self._output = value

    @property
    def name(self) -> str | None:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        if not isinstance(value, str):
            raise RuntimeError("Name must be string")
        self._name = value

    def encode(self, stream: Any, request: CompletedRequest) -> None:
        """Called on the camera loop thread (after post_callback) for every frame of the encode stream."""
        if self.sync_enable:
            if request.get_metadata().get("SyncReady", False):
                self.sync_enable = False
                self.sync.set()
            else:
                return
        if self._skip_count == 0:
            with self._lock:
                if not self._running:
                    return
                self._encode(stream, request)
        self._skip_count = (self._skip_count + 1) % self.frame_skip_count
        self.frames_encoded += 1

    def _encode(self, stream: Any, request: CompletedRequest) -> None:
        timestamp_us = self._timestamp(request)
        with _MappedBuffer(request, stream) as b:
            self.outputframe(b, keyframe=True, timestamp=timestamp_us)

    def send_streams(self, output: Output) -> None:
        self._send_streams(output)

    def _send_streams(self, output: Output) -> None:
        pix_fmt = _AV_FORMATS.get(self._format or "")
        if pix_fmt is None and output.needs_add_stream:
            raise RuntimeError(f"Output does not support {self._format}")
        rate = Fraction(1000000, int(self._framerate or 30))
        output._add_stream("video", "rawvideo", pix_fmt=pix_fmt, rate=rate, width=self.width, height=self.height)

    def start(self, quality: Quality | None = None) -> None:
        with self._lock:
            if self._running:
                raise RuntimeError("Encoder already running")
            if self.audio:
                raise NotImplementedError("the picamera2 fake does not encode audio")
            self.frames_encoded = 0
            self._setup(quality)
            self._running = True
            self.firsttimestamp = None
            for out in self._output:
                out.start()
            self._start()

    def _start(self) -> None:
        for out in self._output:
            self._send_streams(out)

    def stop(self) -> None:
        with self._lock:
            if not self._running:
                raise RuntimeError("Encoder already stopped")
            self._running = False
            self._stop()
            for out in self._output:
                out.stop()

    def _stop(self) -> None:
        pass

    def outputframe(
        self, frame: Any, keyframe: bool = True, timestamp: int | None = None, packet: Any = None, audio: bool = False
    ) -> None:
        with self._output_lock:
            for out in self._output:
                out.outputframe(frame, keyframe, timestamp, packet, audio)

    def _setup(self, quality: Quality | None) -> None:
        pass

    def _timestamp(self, request: CompletedRequest) -> int:
        """µs since this encoder's first frame, from SensorTimestamp (float division, as the real one)."""
        assert request.request is not None
        ts = int(request.request.metadata["SensorTimestamp"] / 1000)
        if self.firsttimestamp is None:
            self.firsttimestamp = ts
            return 0
        return ts - self.firsttimestamp
