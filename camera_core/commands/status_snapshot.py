"""get_status served from a snapshot: while a master asks, the system's status is built on a thread
of its own every `interval` seconds and after every command job, so answering a get_status copies a
ready object instead of visiting every camera, recorder and sensor while the cameras compete for
the GIL. Nobody asking for `idle_after` seconds: nothing is built; the next ask builds anew."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: How often the snapshot is rebuilt while a master asks (seconds).
STATUS_REFRESH_S = 0.1
#: A snapshot older than this many refresh intervals is built anew when asked for (after a pause).
MAX_AGE_INTERVALS = 3
#: No periodic builds once nobody has asked for this long (seconds).
IDLE_AFTER_S = 5.0


class StatusSnapshot:
    """The newest status built by `build` (a JSON object); `refresh` may be called from any thread.
    A build that began before another one was stored is dropped, so a refresh after a command is
    never replaced by an older periodic one."""

    def __init__(
        self,
        build: Callable[[], dict[str, Any]],
        interval: float = STATUS_REFRESH_S,
        encode: Callable[[dict[str, Any]], str] | None = None,
        idle_after: float = IDLE_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._build = build
        self._clock = clock
        self.idle_after = idle_after
        self._asked_at = clock()
        self._built_at = float("-inf")
        self._encode = encode
        self._json = ""
        self.interval = interval
        self._lock = threading.Lock()
        self._tickets = itertools.count(1)
        self._stored_ticket = 0
        self._status: dict[str, Any] | None = None
        self._stale = False
        self._stale_after = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> StatusSnapshot:
        if self._thread is None:
            self.refresh()
            self._thread = threading.Thread(target=self._run, name="status-snapshot", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)

    def refresh(self) -> dict[str, Any]:
        """Build the status now and keep it (unless a build begun later was kept already)."""
        with self._lock:
            ticket = next(self._tickets)
        began = self._clock()
        status = self._build()
        text = self._encode(status) if self._encode is not None else ""
        with self._lock:
            if ticket > self._stored_ticket:
                self._stored_ticket, self._status = ticket, status
                self._built_at = began
                self._json = text
                if ticket > self._stale_after:
                    self._stale = False
        return status

    def invalidate(self) -> None:
        """Any thread, quick: something changed (an event); the next `latest` builds anew."""
        with self._lock:
            self._stale = True
            self._stale_after = next(self._tickets)

    def _needs_build(self) -> bool:
        """(asking) True when there is no status yet, an event made it stale, or it is old (the
        periodic builds pause while nobody asks)."""
        now = self._clock()
        self._asked_at = now
        return self._status is None or self._stale or now - self._built_at > MAX_AGE_INTERVALS * self.interval

    def latest(self) -> dict[str, Any]:
        """The newest status (a shallow copy: callers may add keys); built now if there is none yet,
        an event made it stale, or it is older than MAX_AGE_INTERVALS refresh intervals."""
        status = self._status
        if self._needs_build() or status is None:
            status = self.refresh()
        return dict(status)

    def latest_json(self) -> str:
        """The newest status as JSON text (made by `encode` when it was built), like `latest`."""
        if self._needs_build():
            self.refresh()
        return self._json

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            if self._clock() - self._asked_at > self.idle_after:
                continue  # nobody is asking: build nothing
            try:
                self.refresh()
            except Exception:
                log.exception("status snapshot could not be built; get_status answers with the previous one")
