"""Cameras other than the IMX296 on the real picamera2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from real_support import ROOT, CliRunner, check_recording, manifest_of, only_session

LAUNCHER = ROOT / "tests" / "real_picamera2" / "stall_launcher.py"


def test_a_camera_without_raw_modes_records_at_the_size_it_offers(
    tmp_path: Path, camera_cli: CliRunner, rawless_camera_env: dict[str, str]
) -> None:
    """picamera2 lists such a camera's modes as [{"format": "NV12"}], without sizes; the old plan
    stopped the start with KeyError: 'size'. The preset asks for 1456x1088; the camera gives 1280x720."""
    done = camera_cli("--mode", "headless", "--resolution", "0", "--duration", "2", "--no-mp4",
                      "--output-dir", str(tmp_path), env=rawless_camera_env)  # fmt: skip
    session = only_session(tmp_path)
    log = (session / "session.log").read_text()
    assert done.returncode == 0, (done.stderr, log[-3000:])
    assert "KeyError" not in log
    manifest = manifest_of(session)
    assert [(c["model"], c["width"], c["height"]) for c in manifest["cameras"]] == [("usb-webcam", 1280, 720)]
    (rec,) = manifest["recordings"]
    assert (rec["width"], rec["height"]) == (1280, 720)
    checked = check_recording(session / rec["video"])
    assert checked.frames == rec["frames"] >= 45


def test_a_stalled_camera_is_restarted_and_its_recording_goes_on(tmp_path: Path) -> None:
    """stall_launcher.py cancels the capture job camera_core waits on (picamera2's cancel_all_and_flush,
    as after a dislodged cable): camera 0 counts as lost after camera_timeout_s, is restarted, and
    recovers; its frames, before and after, are all in verified files, the restart's gap counted as drops."""
    argv = [sys.executable, str(LAUNCHER), "--stall-after", "30", "--", "--backend", "picamera2", "--mode",
            "headless", "--resolution", "5", "--duration", "8", "--no-mp4", "--output-dir", str(tmp_path)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ))
    session = only_session(tmp_path)
    log = (session / "session.log").read_text()
    assert done.returncode == 0, (done.stderr, log[-3000:])
    assert "stall_launcher: camera 0 stalled" in done.stderr
    assert "cam0: camera lost: no frame for" in log and "cam0: camera recovered after" in log, log[-3000:]
    assert "cam1: camera lost" not in log
    manifest = manifest_of(session)
    checked = {0: [], 1: []}
    for rec in manifest["recordings"]:
        for video in [seg["video"] for seg in rec.get("segments", [])] or [rec["video"]]:
            checked[rec["camera_id"]].append(check_recording(session / video, restarts=1))
    assert sum(c.restarts for c in checked[0]) <= 1 and sum(c.restarts for c in checked[1]) == 0
    for camera_id in (0, 1):
        frames = sum(c.frames + c.drops for c in checked[camera_id])
        assert frames >= 200, (camera_id, frames)  # 8 s at 30 fps: the take went on after the restart
