"""systemd's watchdog, with a real AF_UNIX datagram socket standing in for systemd: READY=1 once
frames flow, WATCHDOG=1 while they flow, none while a camera stalls (so systemd would restart a hung
process), again after it recovers, STOPPING=1 at the end."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from camera_core.util.sdnotify import SystemdNotifier
from tests.conftest import ROOT, main_camera_cmd


@pytest.fixture
def systemd_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    yield sock, path
    sock.close()


def receive(sock: socket.socket, until: float) -> Iterator[tuple[float, str]]:
    """Datagrams with their arrival time until the deadline."""
    while (left := until - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            return
        yield time.monotonic(), data.decode()


def headless(tmp_path: Path, notify_path: str, *config_lines: str) -> subprocess.Popen[str]:
    config = tmp_path / "config.txt"
    config.write_text(
        "\n".join(["camera_backend = sim", "resolution_preset = 7", "sim_cameras = 2", *config_lines]) + "\n"
    )
    env = {**os.environ, "NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "400000"}
    cmd = main_camera_cmd("--config", str(config), "--mode", "headless", "--output-dir", str(tmp_path / "out"))
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def test_watchdog_is_petted_only_while_frames_flow(tmp_path: Path, systemd_socket: tuple[socket.socket, str]) -> None:
    sock, path = systemd_socket
    proc = headless(tmp_path, path, "sim_fault_camera = 1", "sim_stall_after_frames = 90", "camera_timeout_s = 4")
    try:
        messages: list[tuple[float, str]] = []
        pets_after_gap = 0
        for arrived, text in receive(sock, time.monotonic() + 40):
            messages.append((arrived, text))
            pets = [t for t, m in messages if m == "WATCHDOG=1"]
            gaps = [b - a for a, b in itertools.pairwise(pets)]
            if gaps and max(gaps) >= 2.5:  # the stall (camera_timeout_s 4), not a busy machine
                pets_after_gap += 1
                if pets_after_gap >= 3:  # petted again after the camera recovered
                    break
        proc.send_signal(signal.SIGTERM)
        tail = []
        for arrived, text in receive(sock, time.monotonic() + 30):
            tail.append((arrived, text))
            if text.startswith("STOPPING=1"):
                break
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    texts = [m for _, m in messages]
    assert texts[0].startswith("READY=1\nSTATUS=2 camera(s) running"), texts[:3]
    pets = [t for t, m in messages if m == "WATCHDOG=1"]
    assert len(pets) >= 5  # every 0.1 s while frames flow
    gaps = [b - a for a, b in itertools.pairwise(pets)]
    assert max(gaps) >= 2.5, "no pause in petting while cam1 stalled"
    assert pets_after_gap >= 3, "petting did not resume after cam1 recovered"
    assert any(m.startswith("STOPPING=1") for _, m in tail)
    stderr = proc.stderr.read()  # type: ignore[union-attr]
    assert "systemd watchdog not petted: cam1" in stderr


def test_no_notify_socket_means_nothing_is_sent() -> None:
    notifier = SystemdNotifier({})
    assert not notifier.enabled and notifier.notify("READY=1") is False
    assert SystemdNotifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "20000000"}).watchdog_s == 20.0
    assert SystemdNotifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1", "WATCHDOG_PID": "1"}).watchdog_s is None


def test_abstract_socket_names_work() -> None:
    name = f"camera-core-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    try:
        notifier = SystemdNotifier({"NOTIFY_SOCKET": "@" + name})
        assert notifier.notify("READY=1")
        sock.settimeout(5)
        assert sock.recv(100) == b"READY=1"
        notifier.close()
    finally:
        sock.close()
