"""The blocking master-side client: spawns one slave (locally or through a command prefix such as
ssh), sends commands with ids, matches replies by id, and hands out events and preview frames as
callbacks or iterators. A slave that dies turns every waiting call into SlaveDied."""

from __future__ import annotations

import itertools
import logging
import subprocess
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, Generic, TypeVar

from camera_core.client.errors import SlaveDied, SlaveError, SlaveTimeout
from camera_core.client.launch import slave_argv
from camera_core.client.messages import (
    PreviewImage,
    Reply,
    SlaveEvent,
    command_line,
    fan_out,
    read_message,
    reply_data,
    take_waiter,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
_END = object()


class DropOldest(Generic[T]):
    """A bounded queue for one consumer: when full, the oldest item goes and is counted."""

    def __init__(self, maxlen: int) -> None:
        self._items: deque[Any] = deque(maxlen=maxlen)
        self._cond = threading.Condition()
        self.dropped = 0

    def put(self, item: Any) -> None:
        with self._cond:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(item)
            self._cond.notify_all()

    def get(self, timeout: float | None) -> Any:
        """The next item, `_END` after the end, or raises TimeoutError."""
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._items), timeout):
                raise TimeoutError
            item = self._items[0]
            if item is not _END:
                self._items.popleft()
            return item


class SlaveClient:
    """One slave process. Thread-safe; use as a context manager (quits the slave on exit).

    >>> with SlaveClient.spawn(["--backend", "sim"]) as slave:
    ...     slave.start_recording()
    ...     print(slave.get_status()["cameras"][0]["frames_recorded"])
    ...     slave.stop_recording()
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str | None = None,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        max_queued_previews: int = 4,
        max_queued_events: int = 1024,
    ) -> None:
        self.argv = list(argv)
        self.name = name or " ".join(self.argv[:3])
        self.timeout = timeout
        self._pending: OrderedDict[Any, Future[Reply]] = OrderedDict()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._death: SlaveDied | None = None
        self._stderr: deque[str] = deque(maxlen=40)
        self._event_callbacks: list[Callable[[SlaveEvent], None]] = []
        self._preview_callbacks: list[Callable[[PreviewImage], None]] = []
        self._events: DropOldest[SlaveEvent] = DropOldest(max_queued_events)
        self._previews: DropOldest[PreviewImage] = DropOldest(max_queued_previews)
        # Own process group: a Ctrl+C meant for the master does not reach the slaves; the master decides.
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        self._stderr_thread = threading.Thread(target=self._read_stderr, name=f"{self.name}-stderr", daemon=True)
        self._reader = threading.Thread(target=self._read_stdout, name=f"{self.name}-stdout", daemon=True)
        self._stderr_thread.start()
        self._reader.start()

    @classmethod
    def spawn(
        cls,
        args: Sequence[str] = (),
        *,
        prefix: Sequence[str] | None = None,
        remote: str | Sequence[str] | None = None,
        ready_timeout: float = 60.0,
        **kwargs: Any,
    ) -> SlaveClient:
        """Start a slave (see `slave_argv`) and wait until its cameras are ready."""
        client = cls(slave_argv(args, prefix=prefix, remote=remote), **kwargs)
        try:
            client.wait_ready(ready_timeout)
        except BaseException:
            client.kill()
            raise
        return client

    # -- commands --------------------------------------------------------------------------------

    def send(self, command: str, **args: Any) -> Future[Reply]:
        """Send one command (None-valued arguments are left out); the future resolves to its Reply."""
        future: Future[Reply] = Future()
        with self._lock:
            if self._death is not None:
                raise self._death
            request_id = next(self._ids)
            self._pending[request_id] = future
        line = command_line(command, request_id, args)
        try:
            with self._write_lock:
                assert self.proc.stdin is not None
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
        except (OSError, ValueError):
            self._reader.join(timeout=5)
            raise self._death or SlaveDied(self.name, self.proc.poll(), self.stderr_tail(), "stdin closed") from None
        return future

    def request(self, command: str, *, timeout: float | None = None, **args: Any) -> dict[str, Any]:
        """Send a command and wait for its reply's data; SlaveError on an error reply."""
        future = self.send(command, **args)
        wait = self.timeout if timeout is None else timeout
        try:
            reply = future.result(wait)
        except FutureTimeout:
            with self._lock:
                for key, waiting in list(self._pending.items()):
                    if waiting is future:
                        del self._pending[key]
            raise SlaveTimeout(f"slave {self.name}: no reply to {command} within {wait:g} s") from None
        return reply_data(command, reply)

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        """The first command is answered once the cameras run: get_status is the readiness probe."""
        return self.request("get_status", timeout=timeout)

    def start_recording(self, camera_id: int | None = None, at: float | None = None, **kw: Any) -> dict[str, Any]:
        return self.request("start_recording", camera_id=camera_id, at=at, **kw)

    def stop_recording(self, camera_id: int | None = None, **kw: Any) -> dict[str, Any]:
        return self.request("stop_recording", camera_id=camera_id, **kw)

    def take_snapshot(self, camera_id: int | None = None, **kw: Any) -> dict[str, Any]:
        return self.request("take_snapshot", camera_id=camera_id, **kw)

    def get_status(self, camera_id: int | None = None, **kw: Any) -> dict[str, Any]:
        return self.request("get_status", camera_id=camera_id, **kw)

    def toggle_preview(self, camera_id: int | None = None, enabled: bool | None = True, **kw: Any) -> dict[str, Any]:
        return self.request("toggle_preview", camera_id=camera_id, enabled=enabled, **kw)

    def subscribe(self, enabled: bool = True, events: Sequence[str] | None = None, **kw: Any) -> dict[str, Any]:
        return self.request("subscribe", enabled=enabled, events=list(events) if events else None, **kw)

    def quit(self, timeout: float = 60.0) -> int:
        """Ask the slave to finalize and exit; returns its exit code."""
        self.request("quit", timeout=timeout)
        return self.wait(timeout)

    # -- events and previews ---------------------------------------------------------------------

    def on_event(self, callback: Callable[[SlaveEvent], None]) -> None:
        """Call `callback` for every event (on the reader thread: keep it quick)."""
        self._event_callbacks.append(callback)

    def on_preview(self, callback: Callable[[PreviewImage], None]) -> None:
        """Call `callback` for every preview frame (on the reader thread: keep it quick)."""
        self._preview_callbacks.append(callback)

    def events(self, timeout: float | None = None) -> Iterator[SlaveEvent]:
        """Events as they come; ends when the slave ends; SlaveTimeout if none within `timeout`."""
        return self._iterate(self._events, timeout, "event")

    def previews(self, timeout: float | None = None) -> Iterator[PreviewImage]:
        """Preview frames (the newest few; older ones are dropped if you fall behind)."""
        return self._iterate(self._previews, timeout, "preview frame")

    def wait_event(self, name: str, timeout: float | None = None, **match: Any) -> SlaveEvent:
        """The next event called `name` whose data contains `match`."""
        for event in self.events(timeout):
            if event.name == name and all(event.data.get(k) == v for k, v in match.items()):
                return event
        raise self._death or SlaveDied(self.name, self.proc.poll(), self.stderr_tail())

    def _iterate(self, queue: DropOldest[Any], timeout: float | None, what: str) -> Iterator[Any]:
        while True:
            try:
                item = queue.get(timeout)
            except TimeoutError:
                raise SlaveTimeout(f"slave {self.name}: no {what} within {timeout:g} s") from None
            if item is _END:
                return
            yield item

    # -- process ---------------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._death is None and self.proc.poll() is None

    def stderr_tail(self) -> str:
        return "".join(self._stderr)

    def wait(self, timeout: float | None = None) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise SlaveTimeout(f"slave {self.name}: still running after {timeout:g} s") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(timeout=5)

    def close(self, timeout: float = 60.0) -> None:
        """Quit the slave if it still runs (killing it if it does not exit within `timeout`)."""
        if self.proc.poll() is None:
            try:
                if self._death is None:
                    self.quit(timeout)
                else:
                    self.wait(timeout)
            except (SlaveDied, SlaveTimeout, SlaveError):
                log.warning("slave %s did not quit cleanly; killing it", self.name)
                self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def __enter__(self) -> SlaveClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reader threads --------------------------------------------------------------------------

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self._stderr.append(raw.decode("utf-8", "replace"))

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        try:
            for raw in self.proc.stdout:
                message = read_message(raw, self.name)
                if message is not None:
                    self._dispatch(message)
        finally:
            self._died()

    def _dispatch(self, message: Reply | SlaveEvent | PreviewImage) -> None:
        if isinstance(message, Reply):
            with self._lock:
                future = take_waiter(self._pending, message)
            if future is not None:
                future.set_result(message)
            elif message.status == "error":
                log.warning("slave %s: %s", self.name, message.data.get("message"))
            return
        fan_out(message, self._events, self._previews, self._event_callbacks, self._preview_callbacks, self.name)

    def _died(self) -> None:
        try:
            returncode = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            returncode = None
        self._stderr_thread.join(timeout=2)
        death = SlaveDied(self.name, returncode, self.stderr_tail(), "its output ended")
        with self._lock:
            self._death = death
            pending = list(self._pending.values())
            self._pending.clear()
        for future in pending:
            future.set_exception(death)
        self._events.put(_END)
        self._previews.put(_END)
