"""FileOutput: the raw encoded stream to a file or binary stream, starting at the first keyframe."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .output import Output


class FileOutput(Output):
    def __init__(
        self,
        file: str | Path | io.BufferedIOBase | None = None,
        pts: str | TextIO | None = None,
        split: int | None = None,
    ) -> None:
        super().__init__(pts=pts)
        self.dead = False
        self.fileoutput = file
        self._firstframe = True
        self._connectiondead: Callable[[Exception], None] | None = None
        self._splitsize = split

    @property
    def fileoutput(self) -> Any:
        return self._fileoutput

    @fileoutput.setter
    def fileoutput(self, file: str | Path | io.BufferedIOBase | None) -> None:
        self._split = False
        self._firstframe = True
        self._needs_close = False
        if file is None:
            self._fileoutput = None
            return
        if isinstance(file, str | Path):
            self._fileoutput = open(file, "wb")  # noqa: SIM115 - closed in stop()
            self._needs_close = True
        elif isinstance(file, io.BufferedIOBase):
            self._fileoutput = file
        else:
            raise RuntimeError("Must pass io.BufferedIOBase")
        raw = getattr(self._fileoutput, "raw", None)
        if isinstance(raw, socket.SocketIO) and raw._sock.type == socket.SocketKind.SOCK_DGRAM:  # type: ignore[attr-defined]
            self._split = True

    @property
    def connectiondead(self) -> Callable[[Exception], None] | None:
        return self._connectiondead

    @connectiondead.setter
    def connectiondead(self, callback: Callable[[Exception], None] | None) -> None:
        if callback is not None and not callable(callback):
            raise RuntimeError("Must pass callback function or None")
        self._connectiondead = callback

    def outputframe(
        self, frame: Any, keyframe: bool = True, timestamp: int | None = None, packet: Any = None, audio: bool = False
    ) -> None:
        if audio:
            raise RuntimeError("Fileoutput does not support audio")
        if self._fileoutput is not None and self.recording:
            if self._firstframe:
                if not keyframe:
                    return
                self._firstframe = False
            self._write(frame, timestamp)

    def stop(self) -> None:
        super().stop()
        self.close()

    def close(self) -> None:
        try:
            if self._needs_close:
                self._fileoutput.close()
        except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError) as e:
            self._died(e)

    def _died(self, e: Exception) -> None:
        self.dead = True
        if self._connectiondead is not None:
            self._connectiondead(e)

    def _write(self, frame: Any, timestamp: int | None = None) -> None:
        try:
            if self._split:
                maxsize = 65507 if self._splitsize is None else self._splitsize
                view = memoryview(frame)
                for off in range(0, len(view), maxsize):
                    self._fileoutput.write(view[off : off + maxsize])
                    self._fileoutput.flush()
            else:
                self._fileoutput.write(frame)
                self._fileoutput.flush()
            self.outputtimestamp(timestamp)
        except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError, ValueError) as e:
            self._died(e)
