"""PyavOutput: mux encoded packets with their real µs timestamps (variable frame rate) via PyAV."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any, TextIO

from .output import Output


class PyavOutput(Output):
    def __init__(
        self,
        output_name: str,
        format: str | None = None,
        pts: str | TextIO | None = None,
        options: dict[str, str] | None = None,
    ) -> None:
        super().__init__(pts=pts)
        self._output_name = output_name
        self._format = format
        self._streams: dict[Any, Any] = {}
        self._container: Any = None
        self._options = options
        self.error_callback: Callable[[Exception], None] | None = None
        self.needs_add_stream = True
        self._seen_keyframe: dict[Any, bool] = {}

    def _add_stream(self, encoder_stream: Any, codec_name: str, **kwargs: Any) -> None:
        if kwargs.get("rate") is not None:
            kwargs["rate"] = Fraction(kwargs["rate"]).limit_denominator(1000000)
        stream = self._container.add_stream(codec_name, **kwargs)
        if codec_name == "mjpeg":
            stream.codec_context.color_range = 2
        self._streams[encoder_stream] = stream

    def start(self) -> None:
        import av

        self._container = av.open(self._output_name, "w", format=self._format, options=self._options)
        super().start()

    def stop(self) -> None:
        super().stop()
        if self._container:
            try:
                self._container.close()
            except Exception:
                pass
            self._container = None
            self._streams = {}
            self._seen_keyframe = {}

    def outputframe(
        self, frame: Any, keyframe: bool = True, timestamp: int | None = None, packet: Any = None, audio: bool = False
    ) -> None:
        import av

        if not (self.recording and self._container):
            return
        if packet is None:
            packet = av.Packet(frame)
            packet.stream = self._streams["video"]
        else:
            if packet.stream not in self._streams:
                raise RuntimeError("Stream not found in PyavOutput")
            stream = self._streams[packet.stream]
            packet = av.Packet(bytes(packet))
            packet.stream = stream
            seen = self._seen_keyframe.get(stream, False) or keyframe
            self._seen_keyframe[stream] = seen
            if not seen:
                return
        packet.dts = packet.pts = timestamp
        packet.time_base = Fraction(1, 1000000)
        packet.is_keyframe = keyframe
        try:
            self._container.mux(packet)
        except Exception as e:
            try:
                self._container.close()
            except Exception:
                pass
            self._container = None
            if self.error_callback:
                self.error_callback(e)
        self.outputtimestamp(timestamp)
