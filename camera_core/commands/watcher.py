"""Derived events for subscribers: watches the system's status and publishes on its event bus
what a master wants to hear without polling (frames dropped, frames not recorded, camera errors, the
first frame of a recording written). A recording that ends without stop_recording is announced by
the system itself (`recording_error` / `disk_low`, then `recording_stopped`)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from camera_core.system import CameraSystem

log = logging.getLogger(__name__)


class StatusWatcher:
    """Polls `system.status()` every `interval` seconds on its own thread while started."""

    def __init__(self, system: CameraSystem, interval: float = 0.2) -> None:
        self.system = system
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: dict[int, dict[str, Any]] = {}

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._last = {cam["camera_id"]: cam for cam in self._cameras()}
        self._thread = threading.Thread(target=self._run, name="status-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join(timeout=5)

    def _cameras(self) -> list[dict[str, Any]]:
        return [cam.status().as_dict() for cam in self.system.cameras]

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                for cam in self._cameras():
                    self._compare(self._last.get(cam["camera_id"], cam), cam)
                    self._last[cam["camera_id"]] = cam
            except Exception:
                log.exception("status watcher failed")

    def _compare(self, before: dict[str, Any], now: dict[str, Any]) -> None:
        publish = self.system.events.publish
        cam_id = now["camera_id"]
        dropped = int(now.get("hardware_drops", 0)) - int(before.get("hardware_drops", 0))
        if dropped > 0:
            publish("frames_dropped", camera_id=cam_id, dropped=dropped, total=now["hardware_drops"])
        if now.get("last_error") and now.get("last_error") != before.get("last_error"):
            publish("camera_error", camera_id=cam_id, message=now["last_error"])
        overflows = int(now.get("encoder_overflows", 0)) - int(before.get("encoder_overflows", 0))
        if overflows > 0 and now.get("recording"):
            publish("frames_not_recorded", camera_id=cam_id, count=overflows, total=now["encoder_overflows"])
        first = not before.get("recording") or int(before.get("frames_recorded", 0)) == 0
        if first and now.get("recording") and int(now.get("frames_recorded", 0)) > 0:
            publish("recording_first_frame", camera_id=cam_id, frames_recorded=now["frames_recorded"])
