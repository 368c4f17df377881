"""Unit tests of the client core (client/core.py): reply matching, queues, callbacks, death."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future

import pytest

from camera_core.client.core import ClientCore, DropOldest
from camera_core.client.errors import SlaveDied
from camera_core.client.messages import PreviewImage, Reply, SlaveEvent, parse_message


def _core() -> tuple[ClientCore[Future[Reply]], list[str]]:
    wakes: list[str] = []
    core: ClientCore[Future[Reply]] = ClientCore(
        "s1",
        resolve=Future.set_result,
        fail=Future.set_exception,
        events=DropOldest(2, lambda: wakes.append("event")),
        previews=DropOldest(1, lambda: wakes.append("preview")),
    )
    return core, wakes


def _reply(request_id: object, status: str = "success", **data: object) -> Reply:
    line = json.dumps({"type": "status", "status": status, "id": request_id, "data": data})
    message = parse_message(line)
    assert isinstance(message, Reply)
    return message


def test_replies_resolve_their_own_waiter_only_after_the_lock_is_left() -> None:
    core, _ = _core()
    first, second = Future[Reply](), Future[Reply]()
    id1, id2 = core.register(first), core.register(second)
    assert id2 == id1 + 1
    then = core.deliver(_reply(id2, frames=3))
    assert not second.done()  # resolving waits for the returned step
    then()
    assert second.result(0).data == {"frames": 3}
    assert not first.done() and list(core.pending) == [id1]


def test_an_error_without_an_id_answers_the_oldest_waiter() -> None:
    core, _ = _core()
    oldest, newest = Future[Reply](), Future[Reply]()
    core.register(oldest)
    core.register(newest)
    core.deliver(_reply(None, "error", code="PARSE_ERROR", message="bad json"))()
    assert oldest.result(0).data["code"] == "PARSE_ERROR"
    assert not newest.done()


def test_a_reply_nobody_waits_for_is_ignored_and_a_forgotten_waiter_stays_unresolved() -> None:
    core, _ = _core()
    waiter = Future[Reply]()
    request_id = core.register(waiter)
    core.forget(waiter)
    core.deliver(_reply(request_id))()
    assert not waiter.done()


def test_events_and_previews_are_queued_dropping_the_oldest_and_counted() -> None:
    core, wakes = _core()
    seen: list[str] = []
    core.event_callbacks.append(lambda e: seen.append(e.name))
    for name in ("a", "b", "c"):
        core.deliver(SlaveEvent(name, {}, "t"))()
    for n in range(3):
        core.deliver(PreviewImage(0, n, 0, 2, 2, b""))()
    assert [e.name for e in core.events.items] == ["b", "c"] and core.events.dropped == 1
    assert [p.frame_number for p in core.previews.items] == [2] and core.previews.dropped == 2
    assert seen == ["a", "b", "c"]
    assert wakes.count("event") == 3 and wakes.count("preview") == 3


def test_a_failing_callback_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    core, _ = _core()
    seen: list[str] = []

    def broken(_: SlaveEvent) -> None:
        raise RuntimeError("callback bug")

    core.event_callbacks.extend([broken, lambda e: seen.append(e.name)])
    with caplog.at_level(logging.ERROR):
        core.deliver(SlaveEvent("recording_started", {}, "t"))()
    assert seen == ["recording_started"]
    assert "callback failed" in caplog.text and "callback bug" in caplog.text


def test_death_fails_every_waiter_ends_the_queues_and_refuses_new_requests() -> None:
    core, _ = _core()
    waiters = [Future[Reply]() for _ in range(3)]
    for waiter in waiters:
        core.register(waiter)
    core.stderr.append("Traceback: camera exploded\n")
    then = core.died(1)
    assert core.events.ended and core.previews.ended and core.events.ready()
    then()
    for waiter in waiters:
        error = waiter.exception(0)
        assert isinstance(error, SlaveDied) and error.returncode == 1 and "camera exploded" in str(error)
    with pytest.raises(SlaveDied):
        core.register(Future())
