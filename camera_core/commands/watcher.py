"""Derived events for subscribers: watches the system's status and publishes on its event bus
what a master wants to hear without polling (frames dropped, frames not recorded, camera errors, the
first frame of a recording written). A recording that ends without stop_recording is announced by
the system itself (`recording_error` / `disk_low`, then `recording_stopped`)."""

from __future__ import annotations

import logging
import threading

from camera_core.system import CameraStatus, CameraSystem

log = logging.getLogger(__name__)


class StatusWatcher:
    """Polls `system.status()` every `interval` seconds on its own thread while started."""

    def __init__(self, system: CameraSystem, interval: float = 0.2) -> None:
        self.system = system
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: dict[int, CameraStatus] = {}

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._last = {cam.camera_id: cam for cam in self._cameras()}
        self._thread = threading.Thread(target=self._run, name="status-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join(timeout=5)

    def _cameras(self) -> list[CameraStatus]:
        return [cam.status() for cam in self.system.cameras]

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                for cam in self._cameras():
                    self._compare(self._last.get(cam.camera_id, cam), cam)
                    self._last[cam.camera_id] = cam
            except Exception:
                log.exception("status watcher failed")

    def _compare(self, before: CameraStatus, now: CameraStatus) -> None:
        publish = self.system.events.publish
        cam_id = now.camera_id
        dropped = now.hardware_drops - before.hardware_drops
        if dropped > 0:
            publish("frames_dropped", camera_id=cam_id, dropped=dropped, total=now.hardware_drops)
        if now.last_error and now.last_error != before.last_error:
            publish("camera_error", camera_id=cam_id, message=now.last_error)
        rec_now, rec_before = now.recorder, before.recorder
        overflows = _count(rec_now, "encoder_overflows") - _count(rec_before, "encoder_overflows")
        if overflows > 0 and rec_now.get("recording"):
            publish("frames_not_recorded", camera_id=cam_id, count=overflows, total=rec_now["encoder_overflows"])
        first = not rec_before.get("recording") or _count(rec_before, "frames_recorded") == 0
        if first and rec_now.get("recording") and _count(rec_now, "frames_recorded") > 0:
            publish("recording_first_frame", camera_id=cam_id, frames_recorded=rec_now["frames_recorded"])


def _count(values: dict[str, object], key: str) -> int:
    value = values.get(key, 0)
    return value if isinstance(value, int) else 0
