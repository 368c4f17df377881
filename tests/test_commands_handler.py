"""The command handler (commands/handler.py) against a running sim system: commands run as jobs on
the control thread and answer through futures; a get_status sent after a reply sees what that
command changed, though get_status is served from a snapshot."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import pytest

from camera_core.commands.handler import CommandHandler, HandlerSettings
from camera_core.commands.protocol import GetStatus, Request, StartRecording, StopRecording
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


def test_jobs_run_on_the_control_thread_and_status_follows_each_reply(handler: CommandHandler) -> None:
    threads: list[str] = []
    original = handler.system.start_recording

    def start_recording(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    handler.system.start_recording = start_recording  # type: ignore[method-assign]
    idle = handler.submit(Request(GetStatus())).result(10)
    assert idle["data"]["recording"] is False and idle["data"]["protocol"]["commands"] == 1
    reply = handler.submit(Request(StartRecording(), id=7, has_id=True)).result(10)
    assert reply["status"] == "recording_started" and reply["id"] == 7 and threads == ["command"]
    status = handler.submit(Request(GetStatus(camera_id=1))).result(10)["data"]
    assert status["recording"] is True and [c["camera_id"] for c in status["cameras"]] == [1]
    assert status["cameras"][0]["recording"] is True
    stopped = handler.submit(Request(StopRecording())).result(30)
    assert stopped["status"] == "recording_stopped"
    assert handler.submit(Request(GetStatus())).result(10)["data"]["recording"] is False


def test_an_unknown_camera_in_get_status_is_a_clear_error(handler: CommandHandler) -> None:
    reply = handler.submit(Request(GetStatus(camera_id=5))).result(10)
    assert reply["status"] == "error" and reply["data"]["code"] == "CAMERA_NOT_FOUND"
    assert "no camera 5; cameras: 0, 1" in reply["data"]["message"]
