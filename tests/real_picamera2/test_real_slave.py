"""Slave mode on the real picamera2: every command, the preview stream, snapshots while recording,
and the pictures' pixel values (the virtual cameras show colour bars with pure white and black)."""

from __future__ import annotations

import base64
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import simplejpeg
from real_support import ROOT, check_recording, manifest_of, only_session
from slave_support import RawSlave


def white_and_black_share(jpeg: bytes) -> tuple[float, float]:
    """Fractions of the middle band's pixels that are white (every channel >= 250) and black (<= 5)."""
    rgb = simplejpeg.decode_jpeg(jpeg, colorspace="RGB")
    h = rgb.shape[0]
    band = rgb[h // 3 : 2 * h // 3].reshape(-1, 3)
    white = float(np.mean(band.min(axis=1) >= 250))
    black = float(np.mean(band.max(axis=1) <= 5))
    return white, black


EVENTS: list[dict[str, Any]] = []


def next_of(slave: RawSlave, status: str | None, timeout: float = 30.0) -> dict[str, Any]:
    """The next message with this status (None: the next reply), keeping events in EVENTS and passing
    over other preview frames."""
    deadline = time.monotonic() + timeout
    while True:
        message = slave.next_message(max(0.1, deadline - time.monotonic()))
        if message["type"] == "event":
            EVENTS.append(message)
        elif message["type"] == "status" and (
            message["status"] == status or (status is None and message["status"] != "preview_frame")
        ):
            return message
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {status or 'reply'} within {timeout} s")


def request(slave: RawSlave, command: str, timeout: float = 30.0, **args: Any) -> dict[str, Any]:
    slave.send({"command": command, **args})
    return next_of(slave, None, timeout)


def test_slave_commands_preview_and_full_range_snapshots_while_recording(tmp_path: Path, patient_config: Path) -> None:
    argv = [sys.executable, str(ROOT / "main_camera.py"), "--config", str(patient_config), "--mode", "slave", "--backend", "picamera2",
            "--resolution", "0", "--no-mp4", "--output-dir", str(tmp_path)]  # fmt: skip
    with RawSlave(argv, cwd=ROOT) as slave:
        status = request(slave, "get_status", timeout=60)  # answered once every camera delivers frames
        assert status["status"] == "status_report", status
        assert len(status["data"]["cameras"]) == 2
        assert request(slave, "stop_recording")["data"]["code"] == "NOT_RECORDING"
        assert request(slave, "subscribe")["status"] == "subscribed"

        assert request(slave, "toggle_preview", camera_id=0, enabled=True)["status"] == "preview_toggled"
        previews = [next_of(slave, "preview_frame")["data"] for _ in range(3)]
        for preview in previews:
            assert preview["camera_id"] == 0 and preview["format"] == "jpeg"
            jpeg = base64.b64decode(preview["jpeg_base64"])
            assert simplejpeg.decode_jpeg_header(jpeg)[:2] == (preview["height"], preview["width"])
            white, black = white_and_black_share(jpeg)
            assert white > 0.05 and black > 0.05, (white, black)  # the bars' white and black, not grey
        assert previews[0]["frame_number"] < previews[-1]["frame_number"]

        EVENTS.clear()
        assert request(slave, "start_recording")["status"] == "recording_started"
        deadline = time.monotonic() + 30
        while True:  # each get_status is a round trip, so this waits on the slave, not on a timer
            cams = request(slave, "get_status")["data"]["cameras"]
            if all(c["frames_recorded"] >= 30 for c in cams):
                break
            assert time.monotonic() < deadline, cams
        first_frames = {e["data"].get("camera_id") for e in EVENTS if e["event"] == "recording_first_frame"}
        assert first_frames == {0, 1}, EVENTS  # subscribed: each camera's take announced its first frame
        snapshot = request(slave, "take_snapshot")
        assert snapshot["status"] == "snapshot_taken", snapshot
        files = [Path(snapshot["data"]["directory"]) / name for name in snapshot["data"]["files"]]
        assert len(files) == 2
        shares = [white_and_black_share(f.read_bytes()) for f in files]
        # Limited-range video written unchanged into a JPEG showed white as 235 and black as 16.
        assert all(white > 0.05 and black > 0.05 for white, black in shares), shares
        assert request(slave, "toggle_preview", camera_id=0, enabled=False)["status"] == "preview_toggled"
        stopped = request(slave, "stop_recording", timeout=60)
        assert stopped["status"] == "recording_stopped", stopped
        test = request(slave, "self_test", seconds=1, timeout=90)
        assert test["status"] == "self_test_report" and test["data"]["passed"], test
        assert request(slave, "quit")["status"] == "shutdown"
        assert slave.close() == 0

    session = only_session(tmp_path)
    manifest = manifest_of(session)
    assert len(manifest["snapshots"]) == 2
    takes = [r for r in manifest["recordings"] if r["frames"] >= 30]
    assert len(takes) >= 2
    for rec in takes:
        checked = check_recording(session / rec["video"])
        assert checked.frames == rec["frames"]
