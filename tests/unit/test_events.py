"""camera_core/events.py: typed events, their protocol payloads, and the bus that hands them out."""

from __future__ import annotations

import json
import logging
from typing import Any

import jsonschema
import pytest

from camera_core.commands import schema
from camera_core.commands.protocol import encode_json, event_message
from camera_core.events import (
    CameraError,
    CameraFailed,
    CameraLost,
    CameraRecovered,
    DiskLow,
    Event,
    EventBus,
    FramesDropped,
    FramesNotRecorded,
    HealthWarning,
    RecordingError,
    RecordingFirstFrame,
    RecordingStopped,
    SelfTest,
)

#: One of every kind, with the payload its protocol line carried before events were typed.
EXAMPLES: list[tuple[Event, dict[str, Any]]] = [
    (FramesDropped(0, 2, 7), {"camera_id": 0, "dropped": 2, "total": 7}),
    (FramesNotRecorded(1, 3, 12), {"camera_id": 1, "count": 3, "total": 12}),
    (CameraError(0, "RuntimeError: gone"), {"camera_id": 0, "message": "RuntimeError: gone"}),
    (RecordingFirstFrame(2, 1), {"camera_id": 2, "frames_recorded": 1}),
    (CameraLost(0, "no frame for 2.0 s"), {"camera_id": 0, "reason": "no frame for 2.0 s"}),
    (CameraRecovered(0, 2, 1.25), {"camera_id": 0, "attempts": 2, "downtime_s": 1.25}),
    (CameraFailed(1, "capture loop ended"), {"camera_id": 1, "reason": "capture loop ended"}),
    (RecordingError(0, "output_missing", "gone"), {"camera_id": 0, "reason": "output_missing", "detail": "gone"}),
    (
        DiskLow(0, "disk_low", "only 9 MB free", 9_000_000),
        {"camera_id": 0, "reason": "disk_low", "detail": "only 9 MB free", "free_disk_bytes": 9_000_000},
    ),
    (
        RecordingStopped("disk_low", "only 9 MB free", [{"camera_id": 0, "video": "a.h264", "frames": 3, "files": 1}]),
        {
            "reason": "disk_low",
            "detail": "only 9 MB free",
            "recordings": [{"camera_id": 0, "video": "a.h264", "frames": 3, "files": 1}],
        },
    ),
    (
        HealthWarning(["CPU at 82.5 °C"], {"cpu_temp_c": 82.5}),
        {"problems": ["CPU at 82.5 °C"], "health": {"cpu_temp_c": 82.5}},
    ),
    (SelfTest(True, [(0, True), (1, True)]), {"passed": True, "cameras": [(0, True), (1, True)]}),
]
NAMES = [
    "frames_dropped",
    "frames_not_recorded",
    "camera_error",
    "recording_first_frame",
    "camera_lost",
    "camera_recovered",
    "camera_failed",
    "recording_error",
    "disk_low",
    "recording_stopped",
    "health_warning",
    "self_test",
]


def test_every_event_kind_keeps_its_name_and_payload() -> None:
    assert [event.name for event, _ in EXAMPLES] == NAMES
    for event, payload in EXAMPLES:
        assert event.as_dict() == payload, event.name
        assert event.data == payload


def test_an_event_line_is_the_same_bytes_as_before_events_were_typed() -> None:
    for event, payload in EXAMPLES:
        line = encode_json(event_message(event.name, event.as_dict(), event.time_unix))
        before = encode_json(event_message(event.name, payload, event.time_unix))  # publish(name, **payload)
        assert line == before  # same keys in the same order, same values


@pytest.mark.parametrize(("event", "payload"), EXAMPLES, ids=NAMES)
def test_every_event_line_satisfies_the_protocol_schema(event: Event, payload: dict[str, Any]) -> None:
    message = json.loads(encode_json(event_message(event.name, event.as_dict(), event.time_unix)))
    jsonschema.validate(message, schema.schema_for(message))


def test_every_event_of_the_schema_has_a_type() -> None:
    assert set(schema.EVENTS) <= set(NAMES)


def test_subscribers_get_the_typed_event_on_the_publishers_thread_and_a_failing_one_harms_none(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    got: list[Event] = []

    def broken(_event: Event) -> None:
        raise ValueError("subscriber bug")

    bus.subscribe(broken)
    unsubscribe = bus.subscribe(got.append)
    event = CameraLost(3, "no frame for 2.0 s")
    with caplog.at_level(logging.ERROR, logger="camera_core.events"):
        assert bus.publish(event) is event
    assert got == [event] and isinstance(got[0], CameraLost) and got[0].camera_id == 3
    assert "event subscriber failed on camera_lost" in caplog.text
    unsubscribe()
    bus.publish(CameraRecovered(3, 1, 0.5))
    assert got == [event]


def test_publish_refuses_what_is_not_a_typed_event() -> None:
    bus = EventBus()
    with pytest.raises(TypeError, match="not 'camera_lost'"):
        bus.publish("camera_lost")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        bus.publish(Event())  # the base has no name


def test_events_are_values() -> None:
    a, b = FramesDropped(0, 1, 1, time_unix=5.0), FramesDropped(0, 1, 1, time_unix=5.0)
    assert a == b
    with pytest.raises(AttributeError):
        a.dropped = 2  # type: ignore[misc]
