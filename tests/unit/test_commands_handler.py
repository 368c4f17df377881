"""camera_core/commands/handler.py: each command's reply and errors, against a fake camera system.

The seam is the slave channel's: command lines go in through a pipe, protocol lines come out of
another (`exchange` below, the one place that knows how the channel is built). No camera, no
session: the fake system records what it was asked and answers like the real one."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from camera_core.commands import handler as handler_module
from camera_core.commands.handler import HandlerSettings
from camera_core.config.settings import Settings
from camera_core.errors import AlreadyRecordingError, CameraNotFoundError, NotRecordingError
from camera_core.events import CameraLost, DiskLow, EventBus
from camera_core.modes.runner import StopRequest
from camera_core.modes.slave import SlaveChannel
from camera_core.pipeline.camera_pipeline import CameraStatus


@dataclass
class FakeCamera:
    camera_id: int

    def status(self) -> CameraStatus:
        return CameraStatus(
            self.camera_id, "sim", "fake", [640, 480], 30.0, 0, 0, 0.0, 0.0, 0, 0, 0, None, "running", 0, 0, 0, {}, {}
        )


@dataclass
class FakeResult:
    camera_id: int

    def as_dict(self) -> dict[str, Any]:
        return {"camera_id": self.camera_id, "video": f"cam{self.camera_id}.mp4"}


@dataclass
class FakeSystem:
    """What the handler uses of CameraSystem; `calls` records each call with its arguments."""

    directory: Path
    settings: Settings = field(default_factory=lambda: Settings(camera_backend="sim"))
    cameras: list[FakeCamera] = field(default_factory=lambda: [FakeCamera(0), FakeCamera(1)])
    events: EventBus = field(default_factory=EventBus)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    recording: bool = False
    #: Set by the test: the next start_recording raises this (a failure the user must see).
    fail_with: Exception | None = None

    def select(self, camera_id: int | None) -> list[FakeCamera]:
        if camera_id is None:
            return list(self.cameras)
        found = [c for c in self.cameras if c.camera_id == camera_id]
        if not found:
            raise CameraNotFoundError(f"no camera {camera_id}; cameras: 0, 1")
        return found

    def status(self) -> dict[str, Any]:
        return {"recording": self.recording, "cameras": [c.status().as_dict() for c in self.cameras]}

    def start_recording(
        self, camera_id: int | None, *, at: float | None, pretrigger_seconds: float | None
    ) -> list[int]:
        self.calls.append(("start_recording", (camera_id, at, pretrigger_seconds)))
        if self.fail_with is not None:
            raise self.fail_with
        if self.recording:
            raise AlreadyRecordingError("already recording")
        self.recording = True
        return [c.camera_id for c in self.select(camera_id)]

    def stop_recording(self, camera_id: int | None) -> list[FakeResult]:
        self.calls.append(("stop_recording", camera_id))
        if not self.recording:
            raise NotRecordingError("not recording")
        self.recording = False
        return [FakeResult(c.camera_id) for c in self.select(camera_id)]

    def take_snapshot(self, camera_id: int | None) -> list[Path]:
        self.calls.append(("take_snapshot", camera_id))
        return [self.directory / f"snapshot_cam{c.camera_id}.jpg" for c in self.select(camera_id)]

    def set_controls(self, camera_id: int | None, **controls: Any) -> list[int]:
        self.calls.append(("set_controls", (camera_id, controls)))
        return [c.camera_id for c in self.select(camera_id)]


def exchange(system: FakeSystem, *lines: str) -> list[dict[str, Any]]:
    """Send the lines, end stdin, and return every protocol line the channel wrote, parsed."""
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    channel = SlaveChannel(
        system,  # type: ignore[arg-type]
        StopRequest(),
        in_read,
        out_write,
        system.settings.protocol_max_line_bytes,
        HandlerSettings.of(system.settings),
    )
    received = bytearray()
    reader = threading.Thread(target=lambda: received.extend(_read_all(out_read)), daemon=True)
    reader.start()
    os.write(in_write, "".join(line + "\n" for line in lines).encode())
    os.close(in_write)
    try:
        assert channel.run() == 0
    finally:
        os.close(out_write)
        reader.join(10)
        os.close(in_read)
        os.close(out_read)
    return [json.loads(line) for line in received.decode().splitlines()]


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def replies(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == "status"]


@pytest.fixture
def system(tmp_path: Path) -> FakeSystem:
    return FakeSystem(tmp_path)


def test_start_and_stop_recording_answer_with_the_cameras_and_files(system: FakeSystem) -> None:
    start, stop = replies(
        exchange(
            system,
            '{"command": "start_recording", "id": 1, "pretrigger_seconds": 2}',
            '{"command": "stop_recording", "id": "b"}',
        )
    )
    assert (start["id"], start["status"], start["data"]) == (1, "recording_started", {"cameras": [0, 1], "at": None})
    assert (stop["id"], stop["status"]) == ("b", "recording_stopped")
    assert stop["data"]["recordings"] == [{"camera_id": 0, "video": "cam0.mp4"}, {"camera_id": 1, "video": "cam1.mp4"}]
    assert system.calls == [("start_recording", (None, None, 2.0)), ("stop_recording", None)]


def test_a_command_the_system_refuses_is_answered_with_its_error_code(system: FakeSystem) -> None:
    (reply,) = replies(exchange(system, '{"command": "stop_recording", "id": 7}'))
    assert reply["status"] == "error" and reply["id"] == 7
    assert reply["data"] == {"code": "NOT_RECORDING", "message": "not recording"}


def test_an_unknown_camera_is_camera_not_found(system: FakeSystem) -> None:
    (reply,) = replies(exchange(system, '{"command": "take_snapshot", "camera_id": 5}'))
    assert reply["data"]["code"] == "CAMERA_NOT_FOUND"
    assert "no camera 5" in reply["data"]["message"]
    assert "id" not in reply  # the command had no id


def test_an_unexpected_failure_is_an_internal_error_naming_the_command_and_the_slave_reads_on(
    system: FakeSystem,
) -> None:
    system.fail_with = KeyError("encoder")
    first, second = replies(
        exchange(system, '{"command": "start_recording", "id": 1}', '{"command": "get_status", "id": 2}')
    )
    assert first["data"] == {"code": "INTERNAL_ERROR", "message": "start_recording failed: KeyError: 'encoder'"}
    assert (second["id"], second["status"]) == (2, "status_report")


def test_get_status_lists_the_selected_cameras_and_the_channel(system: FakeSystem) -> None:
    everything, one = replies(
        exchange(system, '{"command": "get_status"}', '{"command": "get_status", "camera_id": 1}')
    )
    assert [c["camera_id"] for c in everything["data"]["cameras"]] == [0, 1]
    assert [c["camera_id"] for c in one["data"]["cameras"]] == [1]
    assert one["data"]["protocol"]["commands"] == 2
    assert one["data"]["protocol"]["subscribed"] is False


def test_take_snapshot_answers_the_files_and_their_folder(system: FakeSystem) -> None:
    (reply,) = replies(exchange(system, '{"command": "take_snapshot", "camera_id": 1}'))
    assert reply["status"] == "snapshot_taken"
    assert reply["data"] == {"files": ["snapshot_cam1.jpg"], "directory": str(system.directory)}


def test_set_controls_and_self_test_pass_their_arguments_through(
    system: FakeSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_self_test(on: FakeSystem, seconds: float | None) -> dict[str, Any]:
        on.calls.append(("self_test", seconds))
        return {"passed": True, "seconds": seconds}

    monkeypatch.setattr(handler_module, "run_self_test", fake_self_test)  # the self-test runs above the system
    controls, selftest = replies(
        exchange(
            system,
            '{"command": "set_controls", "camera_id": 0, "exposure_us": 5000}',
            '{"command": "self_test", "seconds": 1.5}',
        )
    )
    assert (controls["status"], controls["data"]) == ("controls_set", {"cameras": [0]})
    assert system.calls[0][0] == "set_controls"
    assert system.calls[0][1][1]["exposure_us"] == 5000
    assert (selftest["status"], selftest["data"]) == ("self_test_report", {"passed": True, "seconds": 1.5})


def test_a_subscription_forwards_only_the_named_events(system: FakeSystem) -> None:
    subscribed = threading.Event()
    original = system.events.subscribe

    def subscribe_and_publish(callback: Any) -> Any:
        unsubscribe = original(callback)
        system.events.publish(CameraLost(1, "no frame for 2.0 s"))
        system.events.publish(DiskLow(1, "disk_low", "only 10 MB free", 10_000_000))
        subscribed.set()
        return unsubscribe

    system.events.subscribe = subscribe_and_publish  # type: ignore[method-assign]
    messages = exchange(system, '{"command": "subscribe", "enabled": true, "events": ["camera_lost"], "id": 1}')
    assert subscribed.is_set()
    (reply,) = replies(messages)
    assert reply["data"] == {"enabled": True, "events": ["camera_lost"]}
    events = [m for m in messages if m["type"] == "event"]
    assert [(e["event"], e["data"]) for e in events] == [
        ("camera_lost", {"camera_id": 1, "reason": "no frame for 2.0 s"})
    ]


def test_quit_is_answered_and_ends_the_channel_before_later_lines(system: FakeSystem) -> None:
    messages = replies(exchange(system, '{"command": "quit", "id": 9}', '{"command": "take_snapshot"}'))
    assert [(m["id"], m["status"], m["data"]) for m in messages] == [(9, "shutdown", {"reason": "quit command"})]
    assert system.calls == []


def test_a_bad_line_gets_an_error_and_the_next_line_is_still_answered(system: FakeSystem) -> None:
    bad, good = replies(exchange(system, "{not json", '{"command": "get_status", "id": 3}'))
    assert bad["data"]["code"] == "INVALID_JSON"
    assert (good["id"], good["status"]) == (3, "status_report")
