"""libcamera's software-sync algorithm (Raspberry Pi IPA `rpi.sync`), modelled frame by frame.

Server: estimates its true frame duration from its frames' wall-clock times, multicasts every
`period_frames` frames its latest frame's wall-clock time, that duration and the wall-clock time
at which everyone is to be ready (`ready_frames` frames after its start).
Client: on each message, finds its frame nearest to the server's (whole frame durations apart)
and shortens its next frame by the difference (a negative value lengthens it); a difference under
`min_adjustment_us` is left alone. Server and clients become ready on their first frame whose
wall-clock time plus half a frame duration is past the server's ready time; `timer_us` (libcamera's
SyncTimer) counts down to it and is negative afterwards.

Clients rely on wall clocks only, so hosts whose clocks disagree stay apart by exactly that much:
timestamps cannot show it (see docs/sync.md and `synccheck`).
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import Literal, Protocol

from camera_core.sync.protocol import (
    DEFAULT_MIN_ADJUSTMENT_US,
    DEFAULT_PERIOD_FRAMES,
    DEFAULT_READY_FRAMES,
    SyncNetwork,
    SyncPayload,
    open_receiver,
    open_sender,
    receive_all,
    send,
)

log = logging.getLogger(__name__)

SyncRole = Literal["off", "server", "client"]
SYNC_ROLES: tuple[str, ...] = ("off", "server", "client")


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the camera reports for one frame (libcamera: SyncReady, SyncTimer)."""

    ready: bool
    #: µs from this frame to the ready time (negative once past); meaningful when timer_known.
    timer_us: int
    timer_known: bool
    #: Shorten the next frame by this many µs (negative: lengthen); 0 = no correction.
    correction_us: int
    #: The phase error last measured against the server, µs (client; 0 for the server; None
    #: before the first message).
    error_us: int | None


class Transport(Protocol):
    def send(self, payload: SyncPayload) -> None: ...

    def receive(self) -> list[SyncPayload]: ...

    def open(self) -> None: ...

    def close(self) -> None: ...


class MulticastTransport:
    """UDP multicast sockets for one camera, opened on first use after `open()` (libcamera opens
    them lazily too); a client first discards what waited from an earlier run. After `close()`
    (the camera stopped, from any thread) nothing is sent or received until `open()` again."""

    def __init__(self, role: SyncRole, net: SyncNetwork) -> None:
        self.role = role
        self.net = net
        self._sock: socket.socket | None = None
        self._open = True
        self._lock = threading.Lock()

    def _socket(self) -> socket.socket | None:
        with self._lock:
            if self._sock is None and self._open:
                if self.role == "server":
                    self._sock = open_sender(self.net)
                else:
                    self._sock = open_receiver(self.net)
                    receive_all(self._sock)  # stale messages
            return self._sock

    def send(self, payload: SyncPayload) -> None:
        sock = self._socket()
        if sock is not None:
            send(sock, self.net, payload)

    def receive(self) -> list[SyncPayload]:
        sock = self._socket()
        if sock is None:
            return []
        try:
            return receive_all(sock)
        except OSError:  # closed by stop() meanwhile
            return []

    def open(self) -> None:
        with self._lock:
            self._open = True

    def close(self) -> None:
        with self._lock:
            self._open = False
            sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


class SyncAlgorithm:
    """One camera's side of the protocol; call `process` once per delivered frame."""

    def __init__(
        self,
        role: SyncRole,
        transport: Transport,
        *,
        ready_frames: int = DEFAULT_READY_FRAMES,
        period_frames: int = DEFAULT_PERIOD_FRAMES,
        min_adjustment_us: int = DEFAULT_MIN_ADJUSTMENT_US,
    ) -> None:
        if role not in ("server", "client"):
            raise ValueError(f"sync role must be server or client, got {role!r}")
        self.role = role
        self.transport = transport
        self.ready_frames = ready_frames
        self.period_frames = period_frames
        self.min_adjustment_us = min_adjustment_us
        self.messages = 0  # sent (server) or received (client)
        self.corrections = 0
        self.send_errors = 0
        self.reset()

    def reset(self) -> None:
        """Start a new sync session (the camera stopped)."""
        self.ready = False
        self.frame_count = 0
        self.timer_us = 0
        self._since_message = 0
        self._server_ready_us = 0
        self._seen_message = False
        self._last_wall_us = 0
        self._duration_est_us = 0.0
        self.error_us: int | None = None
        #: The server's frame grid: one of its frames' wall-clock time and its frame duration (µs).
        self.grid_us: tuple[int, float] | None = None

    def process(self, wall_us: int, system_us: int, frame_duration_us: float) -> SyncStatus:
        """Account for one frame (its de-jittered wall-clock and system times, µs) and return what
        the camera reports for it, with the correction to apply to the next frame."""
        duration = frame_duration_us
        dropped = 0
        if self.frame_count:
            # Frames lost since the last one still count (the ready frame is a time, not a count).
            wall_us = max(wall_us, self._last_wall_us + int(duration // 2))
            dropped = int((wall_us - self._last_wall_us - duration // 2) // duration)
            self.frame_count += dropped
        if self.role == "server":
            correction, known = 0, True
            self._serve(wall_us, system_us, duration, dropped)
        else:
            correction = self._follow(wall_us)
            known = self._seen_message
            self.timer_us = int(self._server_ready_us - wall_us)
            if self._seen_message and not self.ready and wall_us + self._duration_est_us / 2 > self._server_ready_us:
                self.ready = True
                log.info("sync client ready (%+d µs from the server's ready time)", self.timer_us)
        self._last_wall_us = wall_us
        self.frame_count += 1
        return SyncStatus(self.ready, self.timer_us, known, correction, self.error_us)

    def _serve(self, wall_us: int, system_us: int, duration: float, dropped: int) -> None:
        self._since_message += dropped
        if self.frame_count == 0:
            self._duration_est_us = duration
        else:
            step = (wall_us - self._last_wall_us) / (1 + dropped)
            n = min(self.frame_count, 99)
            self._duration_est_us = step if self.frame_count == 1 else (n * self._duration_est_us + step) / (n + 1)
        remaining = self.ready_frames - self.frame_count
        ready_us = wall_us + int(remaining * self._duration_est_us)
        if self._since_message >= self.period_frames:
            self._since_message = 0
            payload = SyncPayload(
                round(self._duration_est_us),
                system_us,
                wall_us,
                system_us + (ready_us - wall_us),
                ready_us,
            )
            try:
                self.transport.send(payload)
                self.messages += 1
            except OSError as exc:
                self.send_errors += 1
                if self.send_errors == 1 or self.send_errors % 100 == 0:
                    log.error("sync server: sending failed (%d times): %s", self.send_errors, exc)
        self.timer_us = ready_us - wall_us
        self.error_us = 0
        self.grid_us = (wall_us, self._duration_est_us)
        if not self.ready and wall_us + self._duration_est_us / 2 > ready_us:
            self.ready = True
            log.info("sync server ready (%+d µs from the ready time)", self.timer_us)
        self._since_message += 1

    def _follow(self, wall_us: int) -> int:
        """Client: read the newest message; the correction for the next frame."""
        messages = self.transport.receive()
        if not messages:
            return 0
        latest = messages[-1]
        self.messages += len(messages)
        self._seen_message = True
        self._duration_est_us = float(latest.frame_duration_us)
        self._server_ready_us = latest.wall_ready_us
        self.grid_us = (latest.wall_frame_us, float(latest.frame_duration_us))
        period = self._duration_est_us
        delta = wall_us - latest.wall_frame_us
        whole = int((delta + period / 2) // period)  # the client frame nearest the server's
        error = round(delta - whole * period)
        self.error_us = error
        if abs(error) < self.min_adjustment_us:
            return 0
        self.corrections += 1
        return error


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """Sync settings shared by every camera of a run; `algorithm(role)` makes one camera's side."""

    network: SyncNetwork = field(default_factory=SyncNetwork)
    ready_frames: int = DEFAULT_READY_FRAMES
    period_frames: int = DEFAULT_PERIOD_FRAMES
    min_adjustment_us: int = DEFAULT_MIN_ADJUSTMENT_US

    def algorithm(self, role: SyncRole) -> SyncAlgorithm:
        return SyncAlgorithm(
            role,
            MulticastTransport(role, self.network),
            ready_frames=self.ready_frames,
            period_frames=self.period_frames,
            min_adjustment_us=self.min_adjustment_us,
        )


def camera_roles(role: str, cameras: int) -> list[SyncRole]:
    """Each camera's role on a host: `server` makes the first camera the server and the others its
    clients; `client` makes every camera a client; `off` none."""
    if role == "off":
        return ["off"] * cameras
    if role == "server":
        clients: list[SyncRole] = ["client"] * (cameras - 1)
        return ["server", *clients]
    if role == "client":
        return ["client"] * cameras
    raise ValueError(f"sync_role must be one of {', '.join(SYNC_ROLES)}, got {role!r}")
