"""Output base class (picamera2/outputs/output.py): recording flag and the optional pts file."""

from __future__ import annotations

from typing import Any, TextIO


class Output:
    """Encoders call outputframe(frame, keyframe, timestamp_us, packet, audio) for every encoded frame."""

    def __init__(self, pts: str | TextIO | None = None) -> None:
        self.recording = False
        self.ptsoutput = pts
        self.needs_pacing = False
        self.needs_add_stream = False

    def start(self) -> None:
        self.recording = True

    def stop(self) -> None:
        self.recording = False

    def outputframe(
        self, frame: Any, keyframe: bool = True, timestamp: int | None = None, packet: Any = None, audio: bool = False
    ) -> None:
        """Override to consume encoded frames. timestamp is µs from the encoder's first frame."""

    def outputtimestamp(self, timestamp: int | None) -> None:
        """One 'ms.µs' line per frame (e.g. 33.333), no header; flushed at once."""
        if self.ptsoutput is not None and timestamp is not None:
            print(f"{timestamp // 1000}.{timestamp % 1000:03}", file=self.ptsoutput, flush=True)

    @property
    def ptsoutput(self) -> TextIO | None:
        return self._ptsoutput

    @ptsoutput.setter
    def ptsoutput(self, file: str | TextIO | None) -> None:
        if file is None:
            self._ptsoutput = None
        elif isinstance(file, str):
            self._ptsoutput = open(file, "w")  # noqa: SIM115 - lives as long as the output
        else:
            self._ptsoutput = file

    def _add_stream(self, encoder_stream: Any, *args: Any, **kwargs: Any) -> None:
        """Outputs that mux (PyavOutput) learn about the encoder's stream here."""
