"""Slave mode: the JSON-lines protocol of SPEC §6 on stdin/stdout. A reader thread parses command
lines and submits them as jobs; the writer thread answers in order; the main thread waits for quit,
end of stdin, SIGINT/SIGTERM or a closed stdout, then everything is finalized and the exit code is 0."""

from __future__ import annotations

import logging
import os
import threading

from camera_core.commands.handler import CommandHandler, HandlerSettings, answered
from camera_core.commands.lines import LineTooLong, read_lines
from camera_core.commands.protocol import (
    INTERNAL_ERROR,
    LINE_TOO_LONG,
    ProtocolError,
    Quit,
    encode_line,
    error_message,
    parse_line,
)
from camera_core.commands.writer import ProtocolWriter, write_all
from camera_core.config.settings import Settings
from camera_core.errors import CameraCoreError
from camera_core.modes.preview_alongside import preview_alongside
from camera_core.modes.runner import ModeContext, StopRequest, run_mode
from camera_core.system import CameraSystem

log = logging.getLogger(__name__)

#: How long shutdown waits for queued replies to reach a master that is not reading.
DRAIN_TIMEOUT_S = 5.0


class SlaveChannel:
    """One protocol channel: command lines from `in_fd`, protocol lines to `out_fd`."""

    def __init__(
        self, system: CameraSystem, stop: StopRequest, in_fd: int, out_fd: int, max_line: int, handler: HandlerSettings
    ) -> None:
        self.stop = stop
        self.in_fd = in_fd
        self.max_line = max_line
        self.writer = ProtocolWriter(out_fd, on_broken=lambda: stop.set("the master closed stdout"))
        self.handler = CommandHandler(system, self.writer, handler)
        self._reader = threading.Thread(target=self._read, name="protocol-reader", daemon=True)

    def run(self) -> int:
        """Serve until stopped; then stop streams, write queued replies and return 0."""
        self.start()
        return self.finish()

    def start(self) -> None:
        """Start answering commands (reader and writer threads)."""
        self.writer.start()
        self._reader.start()

    def finish(self) -> int:
        """Wait for the stop request, then stop streams, write queued replies and return 0."""
        self.stop.wait()
        self.handler.close()
        if not self.writer.drain(DRAIN_TIMEOUT_S):
            log.warning("replies not written: the master is not reading")
        self.writer.close(timeout=1.0)
        return 0

    def _read(self) -> None:
        try:
            for item in read_lines(self.in_fd, self.max_line):
                if self.stop.is_set():
                    return
                try:
                    quit_now = self._answer(item)
                except RuntimeError:  # submitted while shutting down
                    if self.stop.is_set():
                        return
                    raise
                except Exception as exc:  # one line never ends the slave: answer it and read on
                    log.exception("protocol line not handled")
                    text = f"the line could not be handled: {type(exc).__name__}: {exc}"
                    self.writer.put_reply(answered(error_message(INTERNAL_ERROR, text[:500])))
                    continue
                if quit_now:
                    self.writer.drain(DRAIN_TIMEOUT_S)
                    self.stop.set("quit command")
                    return
            self.writer.drain(DRAIN_TIMEOUT_S)
            self.stop.set("end of stdin")
        except Exception:
            log.exception("protocol reader failed")
            self.stop.set("protocol reader failed")

    def _answer(self, item: bytes | LineTooLong) -> bool:
        """Answer one line (exactly one reply, queued in order); True when it was `quit`."""
        if isinstance(item, LineTooLong):
            text = f"line longer than {self.max_line} bytes ({item.length}+ bytes) skipped; send one command per line"
            self.writer.put_reply(answered(error_message(LINE_TOO_LONG, text)))
            return False
        if not item.strip():
            return False
        try:
            request = parse_line(item)
        except ProtocolError as exc:
            has_id = exc.request_id is not None
            self.writer.put_reply(answered(error_message(exc.code, exc.message, exc.request_id, has_id)))
            return False
        future = self.handler.submit(request)
        if not (future.done() and self.writer.write_reply_now(future.result())):
            self.writer.put_reply(future)
        return isinstance(request.command, Quit)


def run(settings: Settings) -> int:
    protocol_fd = os.dup(1)  # the real stdout; fd 1 itself goes to session.log while running

    def serve(ctx: ModeContext) -> int:
        channel = SlaveChannel(
            ctx.system, ctx.stop, 0, protocol_fd, settings.protocol_max_line_bytes, HandlerSettings.of(settings)
        )
        channel.start()
        preview_alongside(ctx, snapshot_key=False)  # only with --preview: windows on the main thread
        return channel.finish()

    def start_failed(exc: CameraCoreError) -> None:
        try:
            write_all(protocol_fd, encode_line(error_message(exc.code, f"cameras could not start: {exc}")))
        except OSError:
            pass

    try:
        return run_mode(settings, serve, protocol_stdout=True, on_start_error=start_failed)
    finally:
        os.close(protocol_fd)
