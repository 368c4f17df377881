"""`recover` on what a crash really leaves: an empty segment opened at a switch (removed, never
listed, MP4 conversion of the rest works) and files that are not the session's own (a symlinked
.h264 pointing outside the session is left exactly as it is); `--unfinished-in` a missing folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from camera_core.config import Settings
from camera_core.recording.recorder import RecordingResult
from camera_core.system import CameraSystem
from camera_core.tools.verify import verify_recording
from tests.conftest import ROOT, wait_for_frames


@pytest.fixture
def crashed_session(tmp_path: Path, small_settings: Callable[..., Settings]) -> tuple[Path, RecordingResult]:
    """A one-camera session as a SIGKILL leaves it: manifest incomplete and without the take."""
    system = CameraSystem(small_settings(sim_cameras=1, resolution_preset=7))
    with system:
        system.start_recording()
        wait_for_frames(system, 30)
        (result,) = system.stop_recording()
    assert system.session is not None
    session = tmp_path / "crashed"
    shutil.copytree(system.session.directory, session)
    manifest = json.loads((session / "manifest.json").read_text())
    manifest["complete"], manifest["recordings"] = False, []
    (session / "manifest.json").write_text(json.dumps(manifest))
    return session, result


def recover(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "camera_core", "recover", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_an_empty_segment_from_a_kill_at_a_switch_is_removed_and_never_listed(
    crashed_session: tuple[Path, RecordingResult],
) -> None:
    session, result = crashed_session
    stem = Path(result.video).stem
    empty_video = session / f"{stem}_seg0002.h264"
    empty_csv = session / f"{stem}_seg0002_frame_timing.csv"
    empty_video.touch()  # opened at the switch, killed before its first frame
    empty_csv.write_text((session / str(result.timing_csv)).read_text().splitlines()[0] + "\n")

    done = recover("--mp4", str(session))
    assert done.returncode == 0, done.stderr
    assert "Errno" not in done.stderr
    assert not empty_video.exists() and not empty_csv.exists()
    assert f"{empty_video.name}: no whole frame; removed with its timing CSV" in done.stdout
    recordings = json.loads((session / "manifest.json").read_text())["recordings"]
    assert "seg0002" not in json.dumps(recordings)
    (entry,) = recordings
    assert [s["video"] for s in entry["segments"]] == [f"{stem}.mp4"]
    assert entry["frames"] == result.frames
    report = verify_recording(session / f"{stem}.mp4")
    assert report.ok and report.frames == result.frames, report.problems


def test_recover_leaves_a_symlinked_file_outside_the_session_untouched(
    tmp_path: Path, crashed_session: tuple[Path, RecordingResult]
) -> None:
    session, result = crashed_session
    outside = tmp_path / "precious.h264"
    outside.write_bytes((session / result.video).read_bytes()[:-50])  # would be "repaired" (cut) if followed
    before = outside.read_bytes()
    stem = Path(result.video).stem
    link = session / f"{stem}_seg0002.h264"
    link.symlink_to(outside)
    part = session / "x.mp4.part"
    part.symlink_to(outside)

    done = recover(str(session))
    assert done.returncode == 0, done.stderr
    assert outside.read_bytes() == before  # not cut, not removed
    assert link.is_symlink() and part.is_symlink()  # left where they are
    assert f"{link.name}: a symlink; left untouched" in done.stdout
    (entry,) = json.loads((session / "manifest.json").read_text())["recordings"]
    assert [s["video"] for s in entry["segments"]] == [result.video]  # the link is not listed


def test_unfinished_in_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    done = recover("--unfinished-in", str(tmp_path / "nonexistent"))
    assert done.returncode == 2
    assert f"--unfinished-in {tmp_path / 'nonexistent'}: not a folder" in done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    done = recover("--unfinished-in", str(empty))
    assert done.returncode == 0 and f"no unfinished session in {empty}" in done.stderr
    os.rmdir(empty)
