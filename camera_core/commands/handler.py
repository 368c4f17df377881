"""Runs parsed commands against the camera system as jobs on the control thread (in command order,
so the stdin reader never waits on the cameras) and answers each through a future that resolves to
its reply message."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from camera_core.commands.control import ControlThread
from camera_core.commands.preview import PreviewStreams
from camera_core.commands.protocol import (
    INTERNAL_ERROR,
    SUCCESS_STATUS,
    Command,
    GetStatus,
    Quit,
    Request,
    SelfTest,
    SetControls,
    StartRecording,
    StopRecording,
    Subscribe,
    TakeSnapshot,
    TogglePreview,
    command_name,
    encode_json,
    encode_line,
    error_message,
    event_message,
    status_line,
    status_message,
)
from camera_core.commands.status_snapshot import StatusSnapshot
from camera_core.commands.writer import ProtocolWriter, Reply
from camera_core.config.settings import Settings
from camera_core.errors import CameraCoreError
from camera_core.events import Event
from camera_core.system import CameraSystem
from camera_core.tools.self_test import run_self_test

log = logging.getLogger(__name__)


def answered(message: Reply) -> Future[Reply]:
    """A future that already holds its reply."""
    future: Future[Reply] = Future()
    future.set_result(message)
    return future


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """The settings the command handler uses."""

    preview_stream_fps: float
    preview_jpeg_quality: int

    @classmethod
    def of(cls, settings: Settings) -> HandlerSettings:
        return cls(settings.preview_stream_fps, settings.preview_jpeg_quality)


class CommandHandler:
    """Executes commands for one protocol channel. `submit` may be called from any thread."""

    def __init__(self, system: CameraSystem, writer: ProtocolWriter, settings: HandlerSettings) -> None:
        self.system = system
        self.writer = writer
        self.previews = PreviewStreams(writer, fps=settings.preview_stream_fps, quality=settings.preview_jpeg_quality)
        self._control = ControlThread("command")
        self.snapshot = StatusSnapshot(self.system.status, encode=encode_json).start()
        # before any event reaches the master, so a get_status after an event shows its cause
        self._stop_invalidating = self.system.events.subscribe(lambda _event: self.snapshot.invalidate())
        self._unsubscribe: Callable[[], None] | None = None
        self._event_names: frozenset[str] | None = None
        self._count_lock = threading.Lock()
        self.commands_run = 0

    def submit(self, request: Request) -> Future[Reply]:
        """Run the request as a job on the control thread. A get_status with no job ahead of it is
        answered at once on the caller's thread (it only reads counters), which keeps status round
        trips short."""
        with self._count_lock:
            self.commands_run += 1  # counted here: the reader and the control thread both run commands
        if isinstance(request.command, GetStatus) and self._control.pending == 0:
            if request.command.camera_id is None:
                return answered(self._status_line(request))
            return answered(self.run(request))
        return self._control.submit(functools.partial(self._job, request))  # type: ignore[return-value]

    def _job(self, request: Request) -> dict[str, Any]:
        """Control thread: run the request, then refresh the status snapshot before the reply goes
        out, so a get_status sent after this reply sees what the command changed."""
        reply = self.run(request)
        try:
            self.snapshot.refresh()
        except Exception:
            log.exception("status snapshot not refreshed after %s", command_name(request.command))
        return reply

    def run(self, request: Request) -> dict[str, Any]:
        """Execute one request and build its reply; never raises."""
        name = command_name(request.command)
        try:
            data = self._execute(request.command)
        except CameraCoreError as exc:
            log.info("%s failed: %s %s", name, exc.code, exc)
            return error_message(exc.code, str(exc), request.id, request.has_id)
        except Exception as exc:
            log.exception("%s failed", name)
            return error_message(
                INTERNAL_ERROR, f"{name} failed: {type(exc).__name__}: {exc}", request.id, request.has_id
            )
        return status_message(SUCCESS_STATUS[name], data, request.id, request.has_id)

    def close(self) -> None:
        """Stop streams and event forwarding; wait for the running job."""
        self._control.close()
        self.snapshot.stop()
        self._stop_invalidating()
        self.previews.stop_all()
        self._set_subscription(False, None)

    # -- commands --------------------------------------------------------------------------------

    def _execute(self, command: Command) -> dict[str, Any]:
        match command:
            case StartRecording(camera_id, at, pretrigger_seconds):
                started = self.system.start_recording(camera_id, at=at, pretrigger_seconds=pretrigger_seconds)
                return {"cameras": started, "at": at}
            case StopRecording(camera_id):
                results = self.system.stop_recording(camera_id)
                return {"recordings": [r.as_dict() for r in results]}
            case TakeSnapshot(camera_id):
                paths = self.system.take_snapshot(camera_id)
                return {"files": [p.name for p in paths], "directory": str(paths[0].parent) if paths else None}
            case GetStatus(camera_id):
                return self.status(camera_id)
            case TogglePreview(camera_id, enabled):
                return self._toggle_preview(camera_id, enabled)
            case Subscribe(enabled, events):
                self._set_subscription(enabled, events)
                return {"enabled": enabled, "events": list(events) if events else None}
            case Quit():
                return {"reason": "quit command"}
            case SelfTest(seconds):
                return run_self_test(self.system, seconds)
            case SetControls(camera_id, exposure_us, analogue_gain, colour_gains, lock_after_frames):
                cameras = self.system.set_controls(
                    camera_id,
                    exposure_us=exposure_us,
                    analogue_gain=analogue_gain,
                    colour_gains=colour_gains,
                    lock_after_frames=lock_after_frames,
                )
                return {"cameras": cameras}
        raise AssertionError(f"unhandled command {command!r}")

    def status(self, camera_id: int | None = None) -> dict[str, Any]:
        """get_status's data: the snapshot (at most STATUS_REFRESH_S old) and this channel's counters."""
        status = self.snapshot.latest()
        if camera_id is not None:
            selected = {cam.camera_id for cam in self.system.select(camera_id)}
            status["cameras"] = [cam for cam in status["cameras"] if cam["camera_id"] in selected]
        status["protocol"] = self._channel()
        return status

    def _status_line(self, request: Request) -> bytes:
        """The reply line of a get_status of every camera, spliced from the snapshot's ready JSON
        (no status is encoded while the reader holds the GIL, only this channel's counters)."""
        try:
            data_json = self.snapshot.latest_json()
            return status_line(
                SUCCESS_STATUS["get_status"], data_json, {"protocol": self._channel()}, request.id, request.has_id
            )
        except Exception:
            log.exception("get_status from the snapshot failed")
            return encode_line(self.run(request))

    def _channel(self) -> dict[str, Any]:
        channel = self.writer.stats()
        channel["preview_streaming"] = self.previews.streaming()
        channel["subscribed"] = self._unsubscribe is not None
        channel["commands"] = self.commands_run
        return channel

    def _toggle_preview(self, camera_id: int | None, enabled: bool | None) -> dict[str, Any]:
        cameras = self.system.select(camera_id)
        for cam in cameras:
            on = not self.previews.is_streaming(cam.camera_id) if enabled is None else enabled
            if on:
                self.previews.enable(cam)
            else:
                self.previews.disable(cam.camera_id)
        size = list(self.system.settings.preview_size)
        return {
            "cameras": [
                {"camera_id": cam.camera_id, "enabled": self.previews.is_streaming(cam.camera_id)} for cam in cameras
            ],
            "size": size,
            "fps": self.previews.fps,
        }

    def _set_subscription(self, enabled: bool, events: tuple[str, ...] | None) -> None:
        self._event_names = frozenset(events) if events else None
        if enabled and self._unsubscribe is None:
            self._unsubscribe = self.system.events.subscribe(self._forward)
        elif not enabled and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _forward(self, event: Event) -> None:
        """Event bus callback (publisher's thread): queue the event line; never blocks."""
        names = self._event_names
        if names is None or event.name in names:
            self.writer.put_event(event_message(event.name, event.as_dict(), event.time_unix))
