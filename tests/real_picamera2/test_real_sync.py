"""Software sync on the real picamera2 where the camera cannot do it: libcamera's virtual cameras offer no
`SyncMode` control (as a libcamera without Raspberry Pi software sync), so asking for a sync role must
stop with a clear error, never record unsynchronized files that claim sync (issue 11)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from real_support import ROOT, CliRunner
from slave_support import RawSlave

from camera_core.config import Settings
from camera_core.errors import ConfigError
from camera_core.system import CameraSystem

#: What the user is told: which setting, why, and what is allowed.
NO_SYNC_MODE = (
    "sync_role: '{role}' needs libcamera's SyncMode control, which this camera does not offer "
    "(a virtual camera, or a libcamera without Raspberry Pi software sync); "
    "allowed: off here; sync needs a Raspberry Pi camera with libcamera v0.4.0+rpt or later"
)


def recorded_files(out_dir: Path) -> list[str]:
    """Every file under the output folder that a recording would leave (videos, timing rows, manifests)."""
    return sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file() and p.name != "session.log")


def test_headless_with_sync_server_stops_with_the_clear_error_and_records_nothing(
    tmp_path: Path, camera_cli: CliRunner
) -> None:
    done = camera_cli("--mode", "headless", "--resolution", "5", "--duration", "3", "--sync-role", "server",
                      "--output-dir", str(tmp_path), timeout=90)  # fmt: skip
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("main_camera.py: error: camera 0 (imx296, "), line
    assert line.endswith(NO_SYNC_MODE.format(role="server")), line
    assert recorded_files(tmp_path) == []


def test_slave_with_sync_client_replies_with_the_error_and_exits_1(tmp_path: Path) -> None:
    argv = [sys.executable, str(ROOT / "main_camera.py"), "--mode", "slave", "--backend", "picamera2",
            "--resolution", "5", "--sync-role", "client", "--output-dir", str(tmp_path)]  # fmt: skip
    with RawSlave(argv, cwd=ROOT) as slave:
        reply = slave.next_message(timeout=60)  # the slave says why it cannot serve, unasked
        assert reply["type"] == "status" and reply["status"] == "error", reply
        assert reply["data"]["code"] == "INVALID_ARGUMENT", reply
        message = reply["data"]["message"]
        assert message.startswith("cameras could not start: camera 0 (imx296, "), message
        assert message.endswith(NO_SYNC_MODE.format(role="client")), message
        with pytest.raises(EOFError):  # nothing else on stdout: the slave has ended
            slave.next_message(timeout=60)
        assert slave.close() == 1
    assert recorded_files(tmp_path) == []


def test_camera_system_refuses_a_sync_role_before_any_recording(tmp_path: Path) -> None:
    settings = Settings(camera_backend="picamera2", resolution_preset=5, target_fps=30.0,
                        output_dir=str(tmp_path), show_preview=False, sync_role="server")  # fmt: skip
    with pytest.raises(ConfigError) as raised, CameraSystem(settings) as system:
        system.start_recording()
    assert str(raised.value).endswith(NO_SYNC_MODE.format(role="server")), str(raised.value)
    assert recorded_files(tmp_path) == []
