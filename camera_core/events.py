"""Unsolicited events (recording error, frames dropped, disk low, camera lost/recovered, ...).

Publishers call `publish`; subscribers (the slave's event stream, tests, library users) get a
callback on the publisher's thread, so callbacks must be quick and must not block."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    data: dict[str, Any] = field(default_factory=dict)
    time_unix: float = field(default_factory=time.time)


EventCallback = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[EventCallback] = []

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Register `callback`; returns a function that unregisters it."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, name: str, **data: Any) -> Event:
        event = Event(name, data)
        log.info("event %s %s", name, data)
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("event subscriber failed on %s", name)
        return event
