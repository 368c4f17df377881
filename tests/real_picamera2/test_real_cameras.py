"""Cameras other than the IMX296 on the real picamera2."""

from __future__ import annotations

from pathlib import Path

from real_support import CliRunner, check_recording, manifest_of, only_session


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
