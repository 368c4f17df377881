"""systemd's notify protocol without a dependency: datagrams such as READY=1 or WATCHDOG=1 sent to
the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an abstract name starting with @)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends notify messages when the process runs under systemd with Type=notify; does nothing
    (and `enabled` is False) otherwise. Never raises: a lost datagram must not end a recording."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address: str | bytes | None = None
        if address.startswith("@"):
            self.address = b"\0" + address[1:].encode()
        elif address.startswith("/"):
            self.address = address
        self.watchdog_s = self._watchdog_interval(env)
        self._socket: socket.socket | None = None
        self._warned = False

    @staticmethod
    def _watchdog_interval(env: Mapping[str, str]) -> float | None:
        """WatchdogSec in seconds when the watchdog is on for this process, else None."""
        pid = env.get("WATCHDOG_PID", "")
        if pid and pid not in (str(os.getpid()), str(os.getppid())):  # the parent: a launcher (uv run)
            return None
        try:
            usec = int(env.get("WATCHDOG_USEC", "0"))
        except ValueError:
            return None
        return usec / 1e6 if usec > 0 else None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *fields: str) -> bool:
        """Send `fields` (e.g. "READY=1", "STATUS=recording") as one datagram; True when sent."""
        if self.address is None:
            return False
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.sendto("\n".join(fields).encode(), self.address)
            return True
        except OSError as exc:
            if not self._warned:
                log.warning("systemd notification to %s failed: %s", os.environ.get("NOTIFY_SOCKET"), exc)
                self._warned = True
            return False

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
