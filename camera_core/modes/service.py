"""Under systemd (Type=notify): READY=1 once frames flow, WATCHDOG=1 only while every camera
delivers frames (so a hung or frozen process is restarted by WatchdogSec), STOPPING=1 at the end."""

from __future__ import annotations

import logging
import threading

from camera_core.system import CameraSystem
from camera_core.util.sdnotify import SystemdNotifier

log = logging.getLogger(__name__)

#: A camera counts as delivering while its last frame is at most this old (or 3 frame intervals).
FLOW_STALL_S = 1.0


class ServiceWatchdog:
    """Tells systemd the run is ready and pets its watchdog while frames flow."""

    def __init__(self, system: CameraSystem, notifier: SystemdNotifier | None = None) -> None:
        self.system = system
        self.notifier = notifier or SystemdNotifier()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stalled: str | None = None

    def start(self) -> None:
        """READY=1, and the petting thread when systemd set WatchdogSec for this process."""
        if not self.notifier.enabled:
            return
        count = len(self.system.cameras)
        self.notifier.notify("READY=1", f"STATUS={count} camera(s) running, session {self._session_name()}")
        interval = self.notifier.watchdog_s
        if interval is not None:
            log.info("systemd watchdog: %.1f s; petted only while every camera delivers frames", interval)
            self._thread = threading.Thread(
                target=self._run, args=(interval / 4,), name="systemd-watchdog", daemon=True
            )
            self._thread.start()

    def _session_name(self) -> str:
        session = self.system.session
        return session.directory.name if session is not None else "-"

    def frames_flow(self) -> str | None:
        """None when every camera delivered a frame lately, else which one did not and why."""
        for cam in self.system.cameras:
            if cam.failure:
                return f"cam{cam.camera_id} failed"
            if cam.state != "running":  # restart attempts under way: they do not count as frames
                return f"cam{cam.camera_id} {cam.state} ({cam.last_error})"
            limit = max(FLOW_STALL_S, 3.0 / max(cam.source.info.fps, 0.1))
            silent = cam.seconds_since_frame()
            if silent > limit:
                return f"cam{cam.camera_id}: no frame for {silent:.1f} s"
        return None

    def _run(self, period: float) -> None:
        while not self._stop.wait(period):
            problem = self.frames_flow()
            if problem is None:
                self.notifier.notify("WATCHDOG=1")
                if self._stalled is not None:
                    log.info("systemd watchdog petted again: frames flow")
            elif self._stalled is None:
                log.warning("systemd watchdog not petted: %s (systemd restarts the service if this lasts)", problem)
            self._stalled = problem

    def stop(self) -> None:
        """STOPPING=1 (finalizing begins; systemd's stop timeout applies, not the watchdog)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.notifier.enabled:
            self.notifier.notify("STOPPING=1", "STATUS=finalizing files")
        self.notifier.close()
