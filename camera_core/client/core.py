"""The master-side client's transport-free core, shared by the blocking and the asyncio faces:
request ids, matching replies to waiters, drop-oldest queues of events and preview frames, the
callbacks, what happens when the slave dies, and the command surface written once.

A face supplies how a waiter is resolved (a `concurrent.futures.Future` or an `asyncio.Future`),
how a queue wakes its reader (a condition or an event), and `request()` itself (blocking, or a
coroutine). Everything else about the protocol lives here."""

from __future__ import annotations

import itertools
import logging
from abc import ABC, abstractmethod
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from camera_core.client.errors import SlaveDied
from camera_core.client.messages import Message, PreviewImage, Reply, SlaveEvent, take_waiter

log = logging.getLogger(__name__)

W = TypeVar("W")  # a waiter: the future a face hands out for one command
R = TypeVar("R")  # what a face's command methods return: a dict, or an awaitable of one


class DropOldest:
    """A bounded queue for one consumer: when full, the oldest item goes and is counted. `notify`
    (the face's wake-up: a condition's notify, an event's set) runs after every change."""

    def __init__(self, maxlen: int, notify: Callable[[], None]) -> None:
        self.items: deque[Any] = deque(maxlen=maxlen)
        self.dropped = 0
        self.ended = False
        self._notify = notify

    def put(self, item: Any) -> None:
        if len(self.items) == self.items.maxlen:
            self.dropped += 1
        self.items.append(item)
        self._notify()

    def end(self) -> None:
        """No more items will come: a reader waiting on an empty queue is woken to stop."""
        self.ended = True
        self._notify()

    def ready(self) -> bool:
        """There is an item to take, or the queue has ended."""
        return bool(self.items) or self.ended


class ClientCore(Generic[W]):
    """The protocol state of one slave. Not locked: the blocking face calls it under its lock, the
    asyncio face from its one event loop."""

    def __init__(
        self,
        name: str,
        *,
        resolve: Callable[[W, Reply], None],
        fail: Callable[[W, BaseException], None],
        events: DropOldest,
        previews: DropOldest,
    ) -> None:
        self.name = name
        self.pending: OrderedDict[int, W] = OrderedDict()
        self.death: SlaveDied | None = None
        self.events = events
        self.previews = previews
        self.event_callbacks: list[Callable[[SlaveEvent], None]] = []
        self.preview_callbacks: list[Callable[[PreviewImage], None]] = []
        self.stderr: deque[str] = deque(maxlen=40)
        self._resolve = resolve
        self._fail = fail
        self._ids = itertools.count(1)

    def register(self, waiter: W) -> int:
        """A new request id with `waiter` waiting for its reply; the slave's death if it is dead."""
        if self.death is not None:
            raise self.death
        request_id = next(self._ids)
        self.pending[request_id] = waiter
        return request_id

    def forget(self, waiter: W) -> None:
        """Stop waiting (a timed-out or failed send): a late reply is then ignored."""
        for key, waiting in list(self.pending.items()):
            if waiting is waiter:
                del self.pending[key]

    def stderr_tail(self) -> str:
        return "".join(self.stderr)

    def reply_waiter(self, reply: Reply) -> W | None:
        """The waiter `reply` answers, taken out of the pending ones (None: nobody waits)."""
        waiter = take_waiter(self.pending, reply)
        if waiter is None and reply.status == "error":
            log.warning("slave %s: %s", self.name, reply.data.get("message"))
        return waiter

    def deliver(self, message: Message) -> Callable[[], None]:
        """Route one message from the slave; returns what is left to do outside the face's lock:
        resolving the reply's waiter, or calling the callbacks of an event or a preview frame (which
        has gone to its queue already). A failing callback is logged, never raised into the reader."""
        if isinstance(message, Reply):
            waiter = self.reply_waiter(message)
            if waiter is None:
                return _nothing
            return lambda: self._resolve(waiter, message)
        if isinstance(message, SlaveEvent):
            self.events.put(message)
            callbacks: list[Callable[[Any], None]] = list(self.event_callbacks)
        else:
            self.previews.put(message)
            callbacks = list(self.preview_callbacks)
        return lambda: self._call_back(callbacks, message)

    def _call_back(self, callbacks: list[Callable[[Any], None]], message: Message) -> None:
        for callback in callbacks:
            try:
                callback(message)
            except Exception:
                log.exception("slave %s: callback failed", self.name)

    def died(self, returncode: int | None) -> Callable[[], None]:
        """The slave's output ended: the iterators end; returns what is left to do outside the
        face's lock: failing every waiter with SlaveDied."""
        death = self.death = SlaveDied(self.name, returncode, self.stderr_tail(), "its output ended")
        pending = list(self.pending.values())
        self.pending.clear()
        self.events.end()
        self.previews.end()

        def fail_all() -> None:
            for waiter in pending:
                self._fail(waiter, death)

        return fail_all


def _nothing() -> None:
    pass


class CommandSurface(ABC, Generic[R]):
    """The slave's commands as methods, written once for both faces. `request` returns the reply's
    data (blocking face) or an awaitable of it (asyncio face); extra keyword arguments go to
    `request` (e.g. `timeout=`) or into the command (any other protocol argument)."""

    @abstractmethod
    def request(self, command: str, *, timeout: float | None = None, **args: Any) -> R: ...

    def start_recording(self, camera_id: int | None = None, at: float | None = None, **kw: Any) -> R:
        return self.request("start_recording", camera_id=camera_id, at=at, **kw)

    def stop_recording(self, camera_id: int | None = None, **kw: Any) -> R:
        return self.request("stop_recording", camera_id=camera_id, **kw)

    def take_snapshot(self, camera_id: int | None = None, **kw: Any) -> R:
        return self.request("take_snapshot", camera_id=camera_id, **kw)

    def get_status(self, camera_id: int | None = None, **kw: Any) -> R:
        return self.request("get_status", camera_id=camera_id, **kw)

    def toggle_preview(self, camera_id: int | None = None, enabled: bool | None = True, **kw: Any) -> R:
        return self.request("toggle_preview", camera_id=camera_id, enabled=enabled, **kw)

    def subscribe(self, enabled: bool = True, events: Sequence[str] | None = None, **kw: Any) -> R:
        return self.request("subscribe", enabled=enabled, events=list(events) if events else None, **kw)

    def self_test(self, **kw: Any) -> R:
        return self.request("self_test", **kw)
