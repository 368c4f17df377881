"""The command handler (commands/handler.py) against a running sim system: commands run as jobs on
the control thread and answer through futures; a get_status sent after a reply sees what that
command changed, though get_status is served from a snapshot."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from camera_core.commands.handler import CommandHandler, HandlerSettings
from camera_core.commands.protocol import GetStatus, Request, StartRecording, StopRecording, encode_line, status_line
from camera_core.commands.writer import ProtocolWriter
from camera_core.config import Settings
from camera_core.system import CameraSystem


@pytest.fixture
def handler(small_settings: Callable[..., Settings]) -> Iterator[CommandHandler]:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    with CameraSystem(small_settings(sim_cameras=2, sim_realtime=True, resolution_preset=7)) as system:
        writer = ProtocolWriter(write_fd).start()
        handler = CommandHandler(system, writer, HandlerSettings(preview_stream_fps=5, preview_jpeg_quality=70))
        try:
            yield handler
        finally:
            handler.close()
            writer.close()
            os.close(read_fd)
            os.close(write_fd)


def result(handler: CommandHandler, request: Request, timeout: float = 10.0) -> dict[str, Any]:
    """The reply message (a get_status of every camera comes as its encoded line)."""
    reply = handler.submit(request).result(timeout)
    return json.loads(reply) if isinstance(reply, bytes) else reply


def test_jobs_run_on_the_control_thread_and_status_follows_each_reply(handler: CommandHandler) -> None:
    threads: list[str] = []
    original = handler.system.start_recording

    def start_recording(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    handler.system.start_recording = start_recording  # type: ignore[method-assign]
    idle = result(handler, Request(GetStatus()), 10)
    assert idle["data"]["recording"] is False and idle["data"]["protocol"]["commands"] == 1
    reply = result(handler, Request(StartRecording(), id=7, has_id=True), 10)
    assert reply["status"] == "recording_started" and reply["id"] == 7 and threads == ["command"]
    status = result(handler, Request(GetStatus(camera_id=1)), 10)["data"]
    assert status["recording"] is True and [c["camera_id"] for c in status["cameras"]] == [1]
    assert status["cameras"][0]["recording"] is True
    stopped = result(handler, Request(StopRecording()), 30)
    assert stopped["status"] == "recording_stopped"
    assert result(handler, Request(GetStatus()), 10)["data"]["recording"] is False


def test_an_unknown_camera_in_get_status_is_a_clear_error(handler: CommandHandler) -> None:
    reply = result(handler, Request(GetStatus(camera_id=5)), 10)
    assert reply["status"] == "error" and reply["data"]["code"] == "CAMERA_NOT_FOUND"
    assert "no camera 5; cameras: 0, 1" in reply["data"]["message"]


def test_a_status_line_spliced_from_the_snapshot_equals_the_encoded_message(handler: CommandHandler) -> None:
    spliced = json.loads(handler.submit(Request(GetStatus(), id="a", has_id=True)).result(10))  # type: ignore[arg-type]
    built = json.loads(encode_line(handler.run(Request(GetStatus(), id="a", has_id=True))))
    for message in (spliced, built):
        message.pop("timestamp")
        message["data"].pop("uptime_s")
        message["data"].pop("free_disk_bytes")
        message["data"].pop("health")
        message["data"].pop("clock")
        for cam in message["data"]["cameras"]:
            for key in list(cam):
                if isinstance(cam[key], int | float) and not isinstance(cam[key], bool):
                    cam.pop(key)  # counters move on between the two
    assert spliced == built and list(spliced) == ["type", "status", "data", "id"]
    assert list(spliced["data"])[-1] == "protocol"


def test_status_line_of_an_empty_object_and_without_id() -> None:
    line = status_line("status_report", "{}", {"protocol": {"commands": 1}})
    message = json.loads(line)
    assert line.endswith(b"}\n") and message["data"] == {"protocol": {"commands": 1}} and "id" not in message
