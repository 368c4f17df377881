"""The wire format and sockets of libcamera's software sync (Raspberry Pi IPA `rpi.sync`).

The server multicasts one UDP datagram every `period_frames` frames; the layout is libcamera's
`SyncPayload` on a little-endian Pi (uint32 frame duration µs, 4 bytes padding, then four uint64:
system frame time µs, wall-clock frame time µs, system ready time µs, wall-clock ready time µs), so
a sim client could even follow a real Pi server. Sockets are bound to one interface (default the
loopback 127.0.0.1: nothing leaves the machine; with TTL 0 on loopback the kernel never routes it).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

PAYLOAD = struct.Struct("<I4xQQQQ")

DEFAULT_GROUP = "239.255.255.250"
DEFAULT_PORT = 10000
DEFAULT_PERIOD_FRAMES = 30
DEFAULT_READY_FRAMES = 100
DEFAULT_MIN_ADJUSTMENT_US = 50
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class SyncPayload:
    """One server message (all times µs)."""

    frame_duration_us: int
    system_frame_us: int
    wall_frame_us: int
    system_ready_us: int
    wall_ready_us: int

    def pack(self) -> bytes:
        return PAYLOAD.pack(
            self.frame_duration_us,
            max(0, self.system_frame_us),
            max(0, self.wall_frame_us),
            max(0, self.system_ready_us),
            max(0, self.wall_ready_us),
        )

    @classmethod
    def unpack(cls, data: bytes) -> SyncPayload | None:
        """The payload, or None for a datagram of another size (not a sync message)."""
        if len(data) != PAYLOAD.size:
            return None
        return cls(*PAYLOAD.unpack(data))


@dataclass(frozen=True, slots=True)
class SyncNetwork:
    """Where the sync messages go: multicast group, port and the local interface's address."""

    group: str = DEFAULT_GROUP
    port: int = DEFAULT_PORT
    interface: str = LOOPBACK

    def __post_init__(self) -> None:
        for name, addr in (("sync_group", self.group), ("sync_interface", self.interface)):
            try:
                socket.inet_aton(addr)
            except OSError:
                raise ValueError(f"{name}: {addr!r} is not an IPv4 address") from None
        first = int(self.group.split(".")[0])
        if not 224 <= first <= 239:
            raise ValueError(f"sync_group: {self.group} is not a multicast address (224.0.0.0 to 239.255.255.255)")


def open_sender(net: SyncNetwork) -> socket.socket:
    """A socket that multicasts on the configured interface only."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(net.interface))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        ttl = 0 if net.interface.startswith("127.") else 1  # loopback: never routed off the host
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
    except OSError:
        sock.close()
        raise
    return sock


def open_receiver(net: SyncNetwork) -> socket.socket:
    """A non-blocking socket that receives the group's messages on the configured interface.
    Several receivers (cameras, processes) on one host share the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((net.group, net.port))
        membership = struct.pack("4s4s", socket.inet_aton(net.group), socket.inet_aton(net.interface))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def send(sock: socket.socket, net: SyncNetwork, payload: SyncPayload) -> None:
    sock.sendto(payload.pack(), (net.group, net.port))


def receive_all(sock: socket.socket) -> list[SyncPayload]:
    """Every message waiting on a receiver, oldest first (never blocks)."""
    out: list[SyncPayload] = []
    while True:
        try:
            data = sock.recv(256)
        except (BlockingIOError, InterruptedError):
            return out
        payload = SyncPayload.unpack(data)
        if payload is not None:
            out.append(payload)
