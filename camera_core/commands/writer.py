"""The one thread that writes protocol lines. Replies leave in command order and are never dropped;
events wait in a bounded queue (overflow counted); preview frames are latest-only per camera (frames
replaced before they were written are counted as skipped). A master that stops reading blocks only
this thread, never capture, recording or the command reader."""

from __future__ import annotations

import array
import fcntl
import logging
import os
import select
import termios
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from camera_core.commands.protocol import INTERNAL_ERROR, encode_line, error_message

log = logging.getLogger(__name__)

#: A reply: its message, or its line already encoded (a get_status spliced from the snapshot).
Reply = dict[str, Any] | bytes
ReplyFuture = Future  # Future[Reply]: resolves to the reply


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _pipe_size(fd: int) -> int | None:
    """The capacity of the pipe `fd` writes to, or None when it is not a pipe."""
    try:
        return int(fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ))
    except (OSError, AttributeError):
        return None


def _unread(fd: int) -> int:
    """Bytes written to the pipe `fd` and not yet read by the other end."""
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]


class ProtocolWriter:
    """Queues for the three kinds of line and the thread that writes them to `fd`.

    `on_broken` is called (once, from the writer thread) when the master closed its end."""

    def __init__(
        self,
        fd: int,
        *,
        max_pending_replies: int = 1024,
        max_events: int = 256,
        on_broken: Callable[[], None] | None = None,
    ) -> None:
        self._fd = fd
        self._cond = threading.Condition()
        self._replies: deque[ReplyFuture] = deque()
        self._events: deque[bytes] = deque()
        self._previews: dict[int, bytes] = {}
        self._max_pending = max_pending_replies
        self._max_events = max_events
        self._on_broken = on_broken
        self._closed = False
        self._writing_reply = False
        #: Held while a line is being written, so a caller's direct write never overtakes a queued line.
        self._out_lock = threading.Lock()
        self._poll = select.poll()
        self._poll.register(fd, select.POLLOUT)
        self._pipe_size = _pipe_size(fd)
        self.broken = False
        self.replies_written = 0
        self.events_written = 0
        self.events_dropped = 0
        self.preview_sent: dict[int, int] = {}
        self.preview_skipped: dict[int, int] = {}
        self._thread = threading.Thread(target=self._run, name="protocol-writer", daemon=True)

    def start(self) -> ProtocolWriter:
        self._thread.start()
        return self

    # -- producers -------------------------------------------------------------------------------

    def put_reply(self, future: ReplyFuture) -> None:
        """Queue the reply of the next command line; blocks while too many replies are unwritten
        (so a master that never reads stops being read from, instead of growing memory)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._replies) < self._max_pending or self._closed)
            self._replies.append(future)
        future.add_done_callback(self._notify)

    def write_reply_now(self, message: Reply) -> bool:
        """Write a finished reply on the caller's thread, saving the hand-over to the writer thread,
        when nothing is queued ahead of it and the pipe takes it without blocking. False: queue it."""
        if not self._out_lock.acquire(blocking=False):
            return False
        try:
            with self._cond:
                if self._replies or self._closed or self.broken:
                    return False
            line = message if isinstance(message, bytes) else encode_line(message)
            # A write of at most PIPE_BUF bytes to a pipe that polls writable does not block.
            if len(line) > select.PIPE_BUF or not self._poll.poll(0):
                return False
            try:
                write_all(self._fd, line)
            except OSError:
                return False
            with self._cond:
                self.replies_written += 1
                self._cond.notify_all()
            return True
        finally:
            self._out_lock.release()

    def put_event(self, message: dict[str, Any]) -> None:
        line = encode_line(message)
        with self._cond:
            if len(self._events) >= self._max_events:
                self._events.popleft()
                self.events_dropped += 1
            self._events.append(line)
            self._cond.notify_all()

    def preview_pending(self, camera_id: int) -> bool:
        """A frame of this camera is still waiting to be written (the master is behind)."""
        return camera_id in self._previews

    def count_preview_skip(self, camera_id: int) -> None:
        with self._cond:
            self.preview_skipped[camera_id] = self.preview_skipped.get(camera_id, 0) + 1

    def put_preview(self, camera_id: int, line: bytes) -> None:
        with self._cond:
            if camera_id in self._previews:
                self.preview_skipped[camera_id] = self.preview_skipped.get(camera_id, 0) + 1
            self._previews[camera_id] = line
            self._cond.notify_all()

    def write_preview_now(self, camera_id: int, line: bytes) -> bool:
        """Write a preview line on the caller's thread (the camera's preview feed), saving the
        hand-over to the writer thread, when nothing is queued and the pipe has room for the whole
        line (so the write cannot block). False: queue it with `put_preview`."""
        if self._pipe_size is None or not self._out_lock.acquire(blocking=False):
            return False
        try:
            with self._cond:
                if self._replies or self._events or self._previews or self._closed or self.broken:
                    return False
            if len(line) > self._pipe_size - _unread(self._fd):
                return False
            try:
                write_all(self._fd, line)
            except OSError:
                return False  # queued instead: the writer thread finds the pipe broken and says so
            with self._cond:
                self.preview_sent[camera_id] = self.preview_sent.get(camera_id, 0) + 1
            return True
        finally:
            self._out_lock.release()

    def clear_preview(self, camera_id: int) -> None:
        with self._cond:
            self._previews.pop(camera_id, None)

    # -- waiting and closing ---------------------------------------------------------------------

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued reply has been written; False on timeout or a broken pipe."""
        with self._cond:
            done = self._cond.wait_for(
                lambda: (not self._replies and not self._writing_reply) or self.broken or not self._thread.is_alive(),
                timeout,
            )
            return bool(done) and not self._replies and not self.broken

    def close(self, timeout: float = 2.0) -> None:
        """Write what is queued (within `timeout`), then stop the thread."""
        self.drain(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "replies_written": self.replies_written,
                "events_written": self.events_written,
                "events_dropped": self.events_dropped,
                "preview_frames_sent": {str(k): v for k, v in sorted(self.preview_sent.items())},
                "preview_frames_skipped": {str(k): v for k, v in sorted(self.preview_skipped.items())},
            }

    # -- the writer thread -----------------------------------------------------------------------

    def _notify(self, _future: object = None) -> None:
        with self._cond:
            self._cond.notify_all()

    def _ready(self) -> bool:
        return (
            self._closed
            or bool(self._replies and self._replies[0].done())
            or bool(self._events)
            or bool(self._previews)
        )

    def _next_line(self) -> tuple[str, int, bytes] | None:
        """Under the lock: the next line to write (replies first, then events, then previews)."""
        if self._replies and self._replies[0].done():
            future = self._replies.popleft()
            self._writing_reply = True
            return "reply", -1, self._reply_line(future)
        if self._events:
            return "event", -1, self._events.popleft()
        if self._previews:
            camera_id = next(iter(self._previews))
            return "preview", camera_id, self._previews.pop(camera_id)
        return None

    @staticmethod
    def _reply_line(future: ReplyFuture) -> bytes:
        try:
            reply = future.result()
            return reply if isinstance(reply, bytes) else encode_line(reply)
        except Exception as exc:  # a job that failed outside its own error handling
            log.exception("reply could not be built")
            return encode_line(error_message(INTERNAL_ERROR, f"reply could not be built: {exc}"))

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(self._ready)
            with self._out_lock:
                if not self._write_next():
                    return

    def _write_next(self) -> bool:
        """Write one queued line (holding the output lock); False when the thread should end."""
        with self._cond:
            item = self._next_line()
            if item is None:
                return not self._closed
        kind, camera_id, line = item
        try:
            write_all(self._fd, line)
        except OSError as exc:
            log.warning("protocol output closed (%s); stopping", exc)
            with self._cond:
                self.broken = True
                self._writing_reply = False
                self._cond.notify_all()
            if self._on_broken is not None:
                self._on_broken()
            return False
        with self._cond:
            if kind == "reply":
                self.replies_written += 1
                self._writing_reply = False
            elif kind == "event":
                self.events_written += 1
            else:
                self.preview_sent[camera_id] = self.preview_sent.get(camera_id, 0) + 1
            self._cond.notify_all()
        return True
