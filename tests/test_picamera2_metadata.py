"""A completed request's metadata is converted once and shared by the pre_callback, the encoder's
gate and the capture thread (picamera2 rebuilds the dict on every get_metadata call)."""

from __future__ import annotations

from typing import Any

from camera_core.sources.picamera2_source import request_metadata


class CountingRequest:
    def __init__(self) -> None:
        self.calls = 0

    def get_metadata(self) -> dict[str, Any]:
        self.calls += 1
        return {"SensorTimestamp": 1_000 + self.calls}


class SlottedRequest:
    __slots__ = ("calls",)

    def __init__(self) -> None:
        self.calls = 0

    def get_metadata(self) -> dict[str, Any]:
        self.calls += 1
        return {"SensorTimestamp": 7}


def test_metadata_is_converted_once_per_request() -> None:
    request = CountingRequest()
    first = request_metadata(request)
    assert request_metadata(request) is first and request_metadata(request)["SensorTimestamp"] == 1_001
    assert request.calls == 1
    other = CountingRequest()
    assert request_metadata(other) is not first


def test_a_request_that_takes_no_attributes_still_gives_its_metadata() -> None:
    request = SlottedRequest()
    assert request_metadata(request) == {"SensorTimestamp": 7}
    assert request_metadata(request) == {"SensorTimestamp": 7}
    assert request.calls == 2
