"""The blocking master-side client: spawns one slave (locally or through a command prefix such as
ssh), sends commands with ids, matches replies by id, and hands out events and preview frames as
callbacks or iterators. A slave that dies turns every waiting call into SlaveDied."""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from camera_core.client.core import ClientCore, CommandSurface, DropOldest
from camera_core.client.errors import SlaveDied, SlaveError, SlaveTimeout
from camera_core.client.launch import slave_argv
from camera_core.client.messages import PreviewImage, Reply, SlaveEvent, command_line, read_message, reply_data

log = logging.getLogger(__name__)


class SlaveClient(CommandSurface[dict[str, Any]]):
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
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._core: ClientCore[Future[Reply]] = ClientCore(
            self.name,
            resolve=Future.set_result,
            fail=Future.set_exception,
            events=DropOldest(max_queued_events, self._changed.notify_all),
            previews=DropOldest(max_queued_previews, self._changed.notify_all),
        )
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
            request_id = self._core.register(future)
        line = command_line(command, request_id, args)
        try:
            with self._write_lock:
                assert self.proc.stdin is not None
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
        except (OSError, ValueError):
            self._reader.join(timeout=5)
            raise self._core.death or SlaveDied(
                self.name, self.proc.poll(), self.stderr_tail(), "stdin closed"
            ) from None
        return future

    def request(self, command: str, *, timeout: float | None = None, **args: Any) -> dict[str, Any]:
        """Send a command and wait for its reply's data; SlaveError on an error reply."""
        future = self.send(command, **args)
        wait = self.timeout if timeout is None else timeout
        try:
            reply = future.result(wait)
        except FutureTimeout:
            with self._lock:
                self._core.forget(future)
            raise SlaveTimeout(f"slave {self.name}: no reply to {command} within {wait:g} s") from None
        return reply_data(command, reply)

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        """The first command is answered once the cameras run: get_status is the readiness probe."""
        return self.request("get_status", timeout=timeout)

    def quit(self, timeout: float = 60.0) -> int:
        """Ask the slave to finalize and exit; returns its exit code."""
        self.request("quit", timeout=timeout)
        return self.wait(timeout)

    # -- events and previews ---------------------------------------------------------------------

    def on_event(self, callback: Callable[[SlaveEvent], None]) -> None:
        """Call `callback` for every event (on the reader thread: keep it quick)."""
        self._core.event_callbacks.append(callback)

    def on_preview(self, callback: Callable[[PreviewImage], None]) -> None:
        """Call `callback` for every preview frame (on the reader thread: keep it quick)."""
        self._core.preview_callbacks.append(callback)

    def events(self, timeout: float | None = None) -> Iterator[SlaveEvent]:
        """Events as they come; ends when the slave ends; SlaveTimeout if none within `timeout`."""
        return self._iterate(self._core.events, timeout, "event")

    def previews(self, timeout: float | None = None) -> Iterator[PreviewImage]:
        """Preview frames (the newest few; older ones are dropped if you fall behind)."""
        return self._iterate(self._core.previews, timeout, "preview frame")

    @property
    def previews_dropped(self) -> int:
        """Preview frames dropped because the queue was full (you fell behind)."""
        return self._core.previews.dropped

    def wait_event(self, name: str, timeout: float | None = None, **match: Any) -> SlaveEvent:
        """The next event called `name` whose data contains `match`."""
        for event in self.events(timeout):
            if event.name == name and all(event.data.get(k) == v for k, v in match.items()):
                return event
        raise self._core.death or SlaveDied(self.name, self.proc.poll(), self.stderr_tail())

    def _iterate(self, queue: DropOldest, timeout: float | None, what: str) -> Iterator[Any]:
        while True:
            with self._changed:
                if not self._changed.wait_for(queue.ready, timeout):
                    raise SlaveTimeout(f"slave {self.name}: no {what} within {timeout:g} s")
                if not queue.items:
                    return  # ended
                item = queue.items.popleft()
            yield item

    # -- process ---------------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._core.death is None and self.proc.poll() is None

    def stderr_tail(self) -> str:
        return self._core.stderr_tail()

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
                if self._core.death is None:
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
            self._core.stderr.append(raw.decode("utf-8", "replace"))

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        try:
            for raw in self.proc.stdout:
                message = read_message(raw, self.name)
                if message is not None:
                    with self._lock:
                        then = self._core.deliver(message)
                    then()
        finally:
            self._died()

    def _died(self) -> None:
        try:
            returncode = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            returncode = None
        self._stderr_thread.join(timeout=2)
        with self._lock:
            then = self._core.died(returncode)
        then()
