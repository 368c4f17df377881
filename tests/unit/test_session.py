"""camera_core/session.py: the session folder, its manifest (atomic writes), reserve and abandon."""

from __future__ import annotations

import errno
import json
import logging
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from camera_core import session as session_module
from camera_core.session import LOG_NAME, MANIFEST_NAME, RESERVE_NAME, Session, make_session_dir, strip_ansi

NOW = datetime(2026, 3, 4, 5, 6, 7)


def manifest_of(directory: Path) -> dict[str, object]:
    return json.loads((directory / MANIFEST_NAME).read_text())


def test_session_folders_are_named_by_time_and_never_reused(tmp_path: Path) -> None:
    first = make_session_dir(tmp_path / "out", "session", NOW)
    second = make_session_dir(tmp_path / "out", "session", NOW)
    assert first.name == "session_20260304_050607"
    assert second.name == "session_20260304_050607_2"
    assert first.is_dir() and second.is_dir()


def test_a_recording_is_in_the_manifest_as_soon_as_it_is_added(tmp_path: Path) -> None:
    session = Session.create(tmp_path, "session", {"target_fps": 30})
    session.add_recording({"camera_id": 0, "video": "cam0.mp4"})
    manifest = manifest_of(session.directory)
    assert manifest["schema"] == "camera_core.session/1"
    assert manifest["session"] == session.directory.name
    assert manifest["config"] == {"target_fps": 30}
    assert manifest["recordings"] == [{"camera_id": 0, "video": "cam0.mp4"}]
    assert manifest["complete"] is False and manifest["ended_at_unix"] is None
    assert sorted(p.name for p in session.directory.iterdir()) == [MANIFEST_NAME]  # no .tmp left behind


def test_finish_writes_a_complete_manifest_with_snapshots_and_releases_the_reserve(tmp_path: Path) -> None:
    session = Session.create(tmp_path, "session", {}, reserve_bytes=64 * 1024)
    reserve = session.directory / RESERVE_NAME
    assert reserve.stat().st_size == 64 * 1024
    session.add_snapshot({"camera_id": 1, "file": "snapshot_cam1.jpg"})
    session.warnings.append("cam1 restarted")
    assert session.finish() is True
    manifest = manifest_of(session.directory)
    assert manifest["complete"] is True and isinstance(manifest["ended_at_unix"], float)
    assert manifest["snapshots"] == [{"camera_id": 1, "file": "snapshot_cam1.jpg"}]
    assert manifest["warnings"] == ["cam1 restarted"]
    assert not reserve.exists()


def test_a_reserve_that_does_not_fit_is_skipped_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_space(fd: int, offset: int, size: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(session_module.os, "posix_fallocate", no_space)
    with caplog.at_level(logging.WARNING, "camera_core.session"):
        session = Session.create(tmp_path, "session", {}, reserve_bytes=1024)
    assert not (session.directory / RESERVE_NAME).exists()
    assert "no space set aside for the session's manifest and log (No space left on device)" in caplog.text


def test_a_full_disk_at_the_end_rewrites_the_manifest_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = Session.create(tmp_path, "session", {})
    session.add_recording({"camera_id": 0})

    def no_room_for_a_copy(path: Path, data: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(session_module, "write_json_atomic", no_room_for_a_copy)
    assert session.finish() is True
    assert manifest_of(session.directory)["complete"] is True
    assert session.bookkeeping_error is None


def test_a_manifest_that_cannot_be_written_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = Session.create(tmp_path, "session", {})

    def read_only(path: Path, data: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(session_module, "write_json_atomic", read_only)
    assert session.finish() is False
    assert session.bookkeeping_error == f"{session.manifest_path} could not be written (Read-only file system)"


def test_abandon_removes_a_folder_that_holds_only_the_sessions_own_files(tmp_path: Path) -> None:
    session = Session.create(tmp_path, "session", {}, reserve_bytes=4096)
    session.open_log("INFO")
    session.write_manifest()
    session.abandon()
    assert not session.directory.exists()


def test_abandon_keeps_a_folder_with_a_recording_in_it(tmp_path: Path) -> None:
    session = Session.create(tmp_path, "session", {})
    session.write_manifest()
    (session.directory / "cam0_take.h264").write_bytes(b"frames")
    session.abandon()
    assert sorted(p.name for p in session.directory.iterdir()) == ["cam0_take.h264", MANIFEST_NAME]


def test_the_session_log_gets_camera_core_lines_without_terminal_colours(tmp_path: Path) -> None:
    session = Session.create(tmp_path, "session", {})
    session.open_log("INFO")
    try:
        logging.getLogger("camera_core.test").warning("\x1b[31mred\x1b[0m alert")
    finally:
        session.close_log()
    text = (session.directory / LOG_NAME).read_text()
    assert "WARNING camera_core.test: red alert" in text
    assert "\x1b" not in text
    assert strip_ansi("\x1b[1;32mok\x1b[0m") == "ok"


def test_a_deleted_session_folder_is_made_again_but_never_a_vanished_output_folder(tmp_path: Path) -> None:
    output = tmp_path / "disk"
    output.mkdir()
    session = Session.create(output, "session", {})
    shutil.rmtree(session.directory)
    assert session.restore_directory() and session.directory.is_dir()  # the folder alone was deleted
    shutil.rmtree(output)  # the whole output folder went (an unmounted disk): not made again elsewhere
    assert not session.restore_directory()
    assert not output.exists()
