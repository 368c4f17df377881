"""The master-side client library: replies matched by id, errors and timeouts as exceptions, a dead
slave as SlaveDied, previews decoded to numpy, the asyncio client, and the ssh path (a command
prefix standing in for ssh, and a real sshd on loopback where openssh-server is installed)."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from slave_support import FAST, ROOT, assert_recordings_intact, session_dir, validate

from camera_core.client import AsyncSlaveClient, SlaveClient, SlaveDied, SlaveError, SlaveTimeout, slave_argv


def _args(tmp_path: Path, *extra: str) -> list[str]:
    return [*FAST, "--output-dir", str(tmp_path), *extra]


def test_client_drives_a_slave_and_decodes_previews(tmp_path: Path) -> None:
    with SlaveClient.spawn(_args(tmp_path, "--sim-cameras", "1")) as slave:
        with pytest.raises(SlaveError) as bad:
            slave.stop_recording()
        assert bad.value.code == "NOT_RECORDING"
        validate(bad.value.reply)
        with pytest.raises(SlaveError) as bad:
            slave.take_snapshot(camera_id=3)
        assert bad.value.code == "CAMERA_NOT_FOUND"
        started = slave.start_recording()
        assert started["cameras"][0]["camera_id"] == 0
        frames: list[tuple[int, np.ndarray]] = []
        slave.on_preview(lambda p: frames.append((p.camera_id, p.image)))
        toggled = slave.toggle_preview(0, True)
        assert toggled["cameras"] == [{"camera_id": 0, "enabled": True}]
        width, height = toggled["size"]
        preview = next(slave.previews(timeout=20))
        assert preview.image.shape == (height, width, 3) and preview.image.dtype == np.uint8
        assert (preview.width, preview.height) == (width, height)
        assert preview.image.std() > 5  # moving sim content, not a blank frame
        # Replies keep arriving in between preview frames, each matched to its command.
        statuses = [slave.get_status() for _ in range(20)]
        assert all(s["recording"] for s in statuses)
        snap = slave.take_snapshot()
        assert (Path(snap["directory"]) / snap["files"][0]).stat().st_size > 0
        slave.toggle_preview(0, False)
        result = slave.stop_recording()["recordings"][0]
        assert result["frames"] > 0
        assert frames and frames[0][0] == 0
    assert slave.proc.returncode == 0
    assert_recordings_intact(session_dir(tmp_path), expected_videos=1)


def test_a_slave_that_never_answers_times_out() -> None:
    silent = [sys.executable, "-c", "import sys; sys.stdin.read()"]
    client = SlaveClient(silent, name="silent")
    try:
        with pytest.raises(SlaveTimeout, match=r"no reply to get_status within 0\.5 s"):
            client.get_status(timeout=0.5)
    finally:
        client.kill()


def test_a_slave_that_dies_becomes_slave_died(tmp_path: Path) -> None:
    with SlaveClient.spawn(_args(tmp_path, "--sim-cameras", "1")) as slave:
        slave.start_recording()
        slave.proc.send_signal(signal.SIGKILL)
        with pytest.raises(SlaveDied) as died:
            for _ in range(1000):  # the first call after the kill, or a later one, must fail
                slave.get_status()
        assert died.value.returncode == -signal.SIGKILL
        assert "exited with code -9" in str(died.value)


def test_a_slave_that_cannot_start_says_why() -> None:
    with pytest.raises(SlaveDied) as died:
        SlaveClient.spawn(["--backend", "nonsense"], ready_timeout=30)
    assert died.value.returncode == 2
    assert "nonsense" in died.value.stderr_tail


def test_async_client(tmp_path: Path) -> None:
    async def run() -> tuple[int, tuple[int, ...], list[int], dict[str, object]]:
        async with await AsyncSlaveClient.spawn(_args(tmp_path)) as slave:
            size = (await slave.toggle_preview(1, True))["size"]
            async with asyncio.timeout(20):
                async for frame in slave.previews():
                    shape = frame.image.shape
                    camera = frame.camera_id
                    break
            with pytest.raises(SlaveError) as bad:
                await slave.request("fly")
            assert bad.value.code == "UNKNOWN_COMMAND"
            status = await slave.get_status()
        assert slave.proc.returncode == 0
        return camera, shape, size, status

    camera, shape, (width, height), status = asyncio.run(run())
    assert camera == 1 and shape == (height, width, 3)
    assert status["protocol"]["preview_streaming"] == [1]  # type: ignore[index]


def _record_briefly(slave: SlaveClient) -> None:
    slave.subscribe(events=["recording_first_frame"])
    slave.start_recording()
    slave.wait_event("recording_first_frame", timeout=30)
    assert slave.stop_recording()["recordings"][0]["frames"] > 0


def test_ssh_path_through_a_command_prefix(tmp_path: Path) -> None:
    """A prefix that behaves like ssh (one command string run by the remote shell)."""
    prefix = [sys.executable, str(ROOT / "tests" / "fake_ssh.py"), "-o", "BatchMode=yes", "pi@cam-l"]
    remote = shlex.join([sys.executable, str(ROOT / "main_camera.py"), "--mode", "slave"])
    out = tmp_path / "with space"  # arguments survive the remote shell's word splitting
    argv = slave_argv(_args(out, "--sim-cameras", "1"), prefix=prefix, remote=remote)
    assert argv[: len(prefix)] == prefix and len(argv) == len(prefix) + 1
    with SlaveClient(argv, name="cam-l") as slave:
        slave.wait_ready(60)
        _record_briefly(slave)
    assert slave.proc.returncode == 0
    assert_recordings_intact(session_dir(out), expected_videos=1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def loopback_sshd(tmp_path: Path) -> Iterator[list[str]]:
    """An sshd on 127.0.0.1 accepting a throwaway key; yields the ssh prefix."""
    sshd = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
    if sshd is None or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.skip(
            "openssh-server is not installed (.ci/run installs it with apt-get); the ssh path is covered by the prefix test"
        )
    keys = tmp_path / "ssh"
    keys.mkdir()
    for name in ("host", "user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)], check=True)
    (keys / "authorized_keys").write_text((keys / "user.pub").read_text())
    port = _free_port()
    config = keys / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {keys / 'host'}\nAuthorizedKeysFile {keys / 'authorized_keys'}\n"
        f"PidFile {keys / 'sshd.pid'}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)
    server = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        for line in server.stderr:  # sshd says when it listens; no sleeping
            if "Server listening" in line:
                break
        else:
            pytest.skip(f"sshd did not start (exit code {server.wait()})")
        yield [
            "ssh", "-T", "-i", str(keys / "user"), "-p", str(port), "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={os.devnull}", "-o", "LogLevel=ERROR",
            "127.0.0.1",
        ]  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)


def test_ssh_path_through_a_real_sshd(tmp_path: Path, loopback_sshd: list[str]) -> None:
    remote = f"cd {shlex.quote(str(ROOT))} && exec {shlex.quote(sys.executable)} main_camera.py --mode slave"
    out = tmp_path / "rec"
    with SlaveClient.spawn(_args(out, "--sim-cameras", "1"), prefix=loopback_sshd, remote=remote) as slave:
        _record_briefly(slave)
    assert slave.proc.returncode == 0
    assert_recordings_intact(session_dir(out), expected_videos=1)
