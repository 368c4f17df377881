"""A disk that stays full, on a real tmpfs: at quit the session's reserve lets the manifest and
log be written (no .tmp, .part or reserve file left, exit 0); without room they fail with one
clear line and exit 3. Headless resumes recording by itself once space is back."""

from __future__ import annotations

import errno
import json
import signal
import subprocess
from pathlib import Path

import pytest
from slave_support import RawSlave, assert_recordings_intact, slave_cmd, wait_until

from camera_core.session import RESERVE_NAME, Session
from tests.conftest import ROOT, main_camera_cmd
from tests.unattended_support import small_tmpfs


def fill(disk: Path) -> Path:
    """Write a filler file until the filesystem is full."""
    filler = disk / "filler.bin"
    with filler.open("wb", buffering=0) as f:
        for size in (1 << 20, 65536, 4096, 512, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.rglob("*") if p.name.endswith((".tmp", ".part")) or p.name == RESERVE_NAME]


def test_a_full_disk_at_quit_still_gets_a_complete_manifest(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "8m") as disk:
        with RawSlave(slave_cmd(disk, "--sim-cameras", "3")) as slave:
            status = slave.request("get_status", id="s")
            directory = Path(status["data"]["session_dir"])
            assert (directory / RESERVE_NAME).exists()
            fill(disk)
            shot = slave.request("take_snapshot", id="shot")
            assert shot["status"] == "error" and shot["data"]["code"] == "LOW_DISK_SPACE", shot
            assert "snapshot not saved" in shot["data"]["message"]
            assert slave.request("quit", id="q")["status"] == "shutdown"
            code = slave.close(timeout=30)
            stderr = slave.proc.stderr.read().decode()  # type: ignore[union-attr]
        assert code == 0, stderr
        assert "Traceback" not in stderr
        manifest = json.loads((directory / "manifest.json").read_text())
        assert manifest["complete"] is True and len(manifest["cameras"]) == 3
        assert leftovers(disk) == []
        assert "session finished" in (directory / "session.log").read_text()


def test_without_room_the_failure_is_one_line_and_exit_3(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "4m") as disk:
        cmd = slave_cmd(disk, "--sim-cameras", "1")
        with RawSlave([*cmd, "--config", str(no_reserve_config(tmp_path))]) as slave:
            directory = Path(slave.request("get_status", id="s")["data"]["session_dir"])
            fill(disk)
            for n in range(60):  # each failing snapshot logs a line: more than the log's last page holds
                assert slave.request("take_snapshot", id=n)["status"] == "error"
            assert slave.request("quit", id="q")["status"] == "shutdown"
            code = slave.close(timeout=30)
            stderr = slave.proc.stderr.read().decode()  # type: ignore[union-attr]
        assert code == 3, stderr
        errors = [line for line in stderr.splitlines() if "could not be written" in line]
        assert len(errors) == 1 and "session.log" in errors[0] and "disk" in errors[0], stderr
        assert "Traceback" not in stderr and "Logging error" not in stderr
        assert leftovers(directory) == []


def no_reserve_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.txt"
    config.write_text("session_reserve_mb = 0\nmin_free_space_mb = 0\nstop_free_space_mb = 0\n")
    return config


def test_session_finish_on_a_full_disk_leaves_no_temporary_file(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        session = Session.create(disk, "s", {"key": "value"})
        session.write_manifest()
        fill(disk)
        session.recordings.extend({"video": f"cam0_{n}.h264", "frames": n} for n in range(20_000))
        assert session.finish() is False
        assert session.bookkeeping_error is not None and "manifest.json" in session.bookkeeping_error
        assert leftovers(disk) == []
        assert json.loads(session.manifest_path.read_text())["complete"] is False  # the old one, whole


def test_headless_resumes_recording_when_space_comes_back(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "12m") as disk:
        config = tmp_path / "config.txt"
        config.write_text(
            "camera_backend = sim\nresolution_preset = 5\nsim_cameras = 1\nmin_free_space_mb = 6\n"
            "stop_free_space_mb = 4\ndisk_resume_check_s = 0.2\nsession_reserve_mb = 0.25\n"
        )
        proc = subprocess.Popen(
            main_camera_cmd("--config", str(config), "--mode", "headless", "--output-dir", str(disk)),
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(lambda: any(disk.glob("*/cam0_*.h264")), 30, "the first recording")
            (directory,) = [p for p in disk.iterdir() if p.is_dir()]
            filler = disk / "filler.bin"
            filler.write_bytes(b"\0" * 5_500_000)  # below the 4 MB floor: recording stops
            wait_until(lambda: "recording stopped (disk_low)" in (directory / "session.log").read_text(), 30, "stop")
            filler.unlink()  # space is back
            wait_until(lambda: len(list(directory.glob("cam0_*.h264"))) == 2, 30, "the resumed recording")
            resumed = sorted(directory.glob("cam0_*_frame_timing.csv"))[-1]
            wait_until(lambda: len(resumed.read_text().splitlines()) > 10, 30, "frames in the resumed recording")
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = proc.stderr.read()  # type: ignore[union-attr]
        assert code == 1, stderr  # documented: a take ended early (disk_low), though all files are whole
        assert "disk space is back: recording resumed" in stderr
        assert "recording stopped (disk_low)" in stderr  # the journal hears of it too
        manifest = json.loads((directory / "manifest.json").read_text())
        assert [r["stop_reason"] for r in manifest["recordings"]] == ["disk_low", "requested"]
        assert_recordings_intact(directory, expected_videos=2)


@pytest.fixture(autouse=True)
def _root_only() -> None:
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() != "0":
        pytest.fail("these tests mount a tmpfs, which needs root: run them as root", pytrace=False)
