"""The asyncio master-side client: the same protocol as SlaveClient (both faces share
client/core.py) with awaitable commands and async iterators of events and preview frames."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from camera_core.client.core import ClientCore, CommandSurface, DropOldest
from camera_core.client.errors import SlaveDied, SlaveError, SlaveTimeout
from camera_core.client.launch import slave_argv
from camera_core.client.messages import PreviewImage, Reply, SlaveEvent, command_line, read_message, reply_data

log = logging.getLogger(__name__)

#: Longest line the client reads (a preview frame at a large preview size fits easily).
LINE_LIMIT = 64 * 1024 * 1024


def _resolve(future: asyncio.Future[Reply], reply: Reply) -> None:
    if not future.done():
        future.set_result(reply)


def _fail(future: asyncio.Future[Reply], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


class AsyncSlaveClient(CommandSurface[Awaitable[dict[str, Any]]]):
    """One slave process driven from asyncio. Create with `await AsyncSlaveClient.spawn(...)`.

    >>> async with await AsyncSlaveClient.spawn(["--backend", "sim"]) as slave:
    ...     await slave.start_recording()
    ...     async for frame in slave.previews(): ...
    """

    def __init__(self, proc: asyncio.subprocess.Process, name: str, timeout: float, max_previews: int) -> None:
        self.proc = proc
        self.name = name
        self.timeout = timeout
        self._changed = asyncio.Event()
        self._core: ClientCore[asyncio.Future[Reply]] = ClientCore(
            name,
            resolve=_resolve,
            fail=_fail,
            events=DropOldest(1024, self._changed.set),
            previews=DropOldest(max_previews, self._changed.set),
        )
        self._stderr_task = asyncio.ensure_future(self._read_stderr())
        self._reader_task = asyncio.ensure_future(self._read_stdout())

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        name: str | None = None,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        max_queued_previews: int = 4,
    ) -> AsyncSlaveClient:
        """Start the process `argv` (no readiness wait)."""
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            limit=LINE_LIMIT,
            start_new_session=True,
        )
        return cls(proc, name or " ".join(list(argv)[:3]), timeout, max_queued_previews)

    @classmethod
    async def spawn(
        cls,
        args: Sequence[str] = (),
        *,
        prefix: Sequence[str] | None = None,
        remote: str | Sequence[str] | None = None,
        ready_timeout: float = 60.0,
        **kwargs: Any,
    ) -> AsyncSlaveClient:
        """Start a slave (see `slave_argv`) and wait until its cameras are ready."""
        client = await cls.start(slave_argv(args, prefix=prefix, remote=remote), **kwargs)
        try:
            await client.request("get_status", timeout=ready_timeout)
        except BaseException:
            await client.kill()
            raise
        return client

    # -- commands --------------------------------------------------------------------------------

    async def request(self, command: str, *, timeout: float | None = None, **args: Any) -> dict[str, Any]:
        """Send a command and await its reply's data; SlaveError on an error reply."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        request_id = self._core.register(future)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(command_line(command, request_id, args))
            await self.proc.stdin.drain()
        except (OSError, RuntimeError):
            self._core.forget(future)
            await asyncio.wait([self._reader_task], timeout=5)
            raise self._core.death or SlaveDied(
                self.name, self.proc.returncode, self.stderr_tail(), "stdin closed"
            ) from None
        wait = self.timeout if timeout is None else timeout
        try:
            reply = await asyncio.wait_for(future, wait)
        except TimeoutError:
            self._core.forget(future)
            raise SlaveTimeout(f"slave {self.name}: no reply to {command} within {wait:g} s") from None
        return reply_data(command, reply)

    async def quit(self, timeout: float = 60.0) -> int:
        await self.request("quit", timeout=timeout)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    # -- events and previews ---------------------------------------------------------------------

    def on_event(self, callback: Callable[[SlaveEvent], None]) -> None:
        self._core.event_callbacks.append(callback)

    def on_preview(self, callback: Callable[[PreviewImage], None]) -> None:
        self._core.preview_callbacks.append(callback)

    async def events(self) -> AsyncIterator[SlaveEvent]:
        """Events as they come, until the slave ends (wrap in asyncio.timeout to bound the wait)."""
        while (item := await self._next(self._core.events)) is not None:
            yield item

    async def previews(self) -> AsyncIterator[PreviewImage]:
        """Preview frames (the newest few; older ones are dropped if you fall behind)."""
        while (item := await self._next(self._core.previews)) is not None:
            yield item

    @property
    def previews_dropped(self) -> int:
        """Preview frames dropped because the queue was full (you fell behind)."""
        return self._core.previews.dropped

    async def _next(self, queue: DropOldest) -> Any:
        """The queue's next item, or None once it has ended and is empty."""
        while not queue.ready():
            self._changed.clear()
            await self._changed.wait()
        return queue.items.popleft() if queue.items else None

    # -- process ---------------------------------------------------------------------------------

    def stderr_tail(self) -> str:
        return self._core.stderr_tail()

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        await asyncio.wait([self._reader_task], timeout=5)

    async def close(self, timeout: float = 60.0) -> None:
        """Quit the slave if it still runs (killing it if it does not exit within `timeout`)."""
        if self.proc.returncode is None:
            try:
                if self._core.death is None:
                    await self.quit(timeout)
                else:
                    await asyncio.wait_for(self.proc.wait(), timeout)
            except (SlaveDied, SlaveTimeout, SlaveError, TimeoutError):
                log.warning("slave %s did not quit cleanly; killing it", self.name)
                await self.kill()
        await asyncio.wait([self._reader_task, self._stderr_task], timeout=5)

    async def __aenter__(self) -> AsyncSlaveClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- reader tasks ----------------------------------------------------------------------------

    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while raw := await self.proc.stderr.readline():
            self._core.stderr.append(raw.decode("utf-8", "replace"))

    async def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        try:
            while raw := await self.proc.stdout.readline():
                message = read_message(raw, self.name)
                if message is not None:
                    self._core.deliver(message)()
        except Exception:
            log.exception("slave %s: reading its output failed", self.name)
        finally:
            await self._died()

    async def _died(self) -> None:
        try:
            returncode: int | None = await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            returncode = None
        await asyncio.wait([self._stderr_task], timeout=2)
        self._core.died(returncode)()
