"""`python -m camera_core recover SESSION_DIR`: repair a session that did not stop cleanly (SIGKILL,
power loss, a crash): every .h264 made consistent with its timing CSV (repair.py), MP4s rebuilt when
the session wanted them, the manifest's recordings rebuilt from the files and the session marked
complete, with a report of everything that was done."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import stat
import sys
import time
from pathlib import Path
from typing import Any

from camera_core.recording.convert import convert_file
from camera_core.recording.remux import RemuxError, iter_mp4_pts_us
from camera_core.session import MANIFEST_NAME
from camera_core.tools.recovery.repair import FileRepair, repair_pair
from camera_core.tools.verify import timing_csv_of
from camera_core.unfinished_sessions import find_unfinished_sessions
from camera_core.util.files import sha256_file, write_json_atomic
from camera_core.util.timing_csv import Column, TimingCsvError, count_rows, read_columns

#: cam{N}_{W}x{H}_{FPS}fps_{STAMP}[_segNNNN]
STEM_RE = re.compile(
    r"^(?P<take>cam(?P<cam>\d+)_(?P<w>\d+)x(?P<h>\d+)_(?P<fps>[\d.]+)fps_(?P<stamp>\d{8}_\d{6}(?:_\d+)?))"
    r"(?:_seg(?P<seg>\d{4}))?$"
)

#: The timing columns a rebuilt manifest entry needs (read as arrays: a 10-hour CSV stays small).
ENTRY_COLUMNS = [
    Column("sensor_timestamp_ns"),
    Column("dropped_since_last"),
    Column("wall_clock_ns"),
    Column("write_time_unix", "float64"),
    Column("frame_duration_us", "float64", default=0.0),
]


def file_entry(path: Path) -> dict[str, Any]:
    """A manifest file entry, as the recorder writes it (recording/segment.py), without importing
    the recorder (OpenCV and the encoder are not needed to repair files)."""
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def session_file(folder: Path, path: Path) -> bool:
    """A regular file of the session itself: not a symlink, not a hard link shared with a file
    elsewhere, and directly in `folder`. Recovery writes, cuts and deletes only such files."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and path.parent.resolve() == folder.resolve()


def foreign_files(folder: Path, actions: list[str]) -> set[Path]:
    """Recording-like names in `folder` that are not the session's own regular files (symlinks,
    hard links, folders): left exactly as they are, and said so."""
    foreign: set[Path] = set()
    patterns = ("*.h264", "*.mp4", "*_frame_timing.csv", "*.part", "*.tmp")
    for path in sorted({p for pattern in patterns for p in folder.glob(pattern)}):
        if not session_file(folder, path):
            foreign.add(path)
            kind = "a symlink" if path.is_symlink() else "not a regular file of this session"
            actions.append(f"{path.name}: {kind}; left untouched")
    return foreign


def load_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def wants_mp4(manifest: dict[str, Any]) -> bool:
    config = manifest.get("config") or {}
    return config.get("disable_mp4_conversion") is False


def settle_mp4(h264: Path, log: list[str], foreign: set[Path]) -> bool:
    """An .mp4 beside an .h264 was verified before it got its name (remux.py), unless its frames
    disagree with the CSV: then the .mp4 goes and the .h264 stays. True when the .h264 was removed."""
    mp4 = h264.with_suffix(".mp4")
    if not mp4.exists() or mp4 in foreign:
        return False
    csv_path = timing_csv_of(h264)
    rows = count_rows(csv_path) if csv_path.exists() else -1
    try:
        frames = sum(1 for _ in iter_mp4_pts_us(mp4))
    except Exception:
        frames = -2
    if frames == rows:
        h264.unlink()
        log.append(f"{h264.name}: removed, its verified {mp4.name} holds all {frames} frames")
        return True
    mp4.unlink()
    log.append(f"{mp4.name}: removed ({frames} frames, {rows} rows); rebuilt from the .h264")
    return False


def segment_entry(video: Path, index: int, previous: dict[str, Any] | None) -> dict[str, Any]:
    """A manifest segment entry built from the files (as the recorder writes it)."""
    csv_path = timing_csv_of(video)
    try:
        table = read_columns(csv_path, ENTRY_COLUMNS) if csv_path.exists() else None
    except TimingCsvError:  # empty (killed before its header) or not a timing CSV: no frame times
        table = None
    rows = table.rows if table is not None else 0
    col = table.values if table is not None and rows else {}
    named = STEM_RE.match(video.stem)
    fps = float(named.group("fps")) if named else 0.0
    first_ns = int(col["sensor_timestamp_ns"][0]) if rows else None
    last_ns = int(col["sensor_timestamp_ns"][-1]) if rows else None
    reason = "start"
    if index > 1:
        reason = "camera_restart"
        prev_ns = (previous or {}).get("last_sensor_timestamp_ns")
        period = float(col["frame_duration_us"][0]) if rows else 0.0
        if prev_ns is not None and first_ns is not None and 0 < first_ns - prev_ns < 10 * period * 1000:
            reason = "time"
    duration = (last_ns - first_ns) / 1e9 + (1.0 / fps if fps else 0.0) if rows else 0.0  # type: ignore[operator]
    return {
        "index": index,
        "video": video.name,
        "timing_csv": csv_path.name if csv_path.exists() else None,
        "container": video.suffix.lstrip("."),
        "split_reason": reason,
        "frames": rows,
        "hardware_drops": int(col["dropped_since_last"].sum()) if rows else 0,
        "first_sensor_timestamp_ns": first_ns,
        "last_sensor_timestamp_ns": last_ns,
        "first_wall_clock_ns": int(col["wall_clock_ns"][0]) if rows else None,
        "duration_s": round(duration, 6),
        "files": [file_entry(p) for p in (video, csv_path) if p.exists()],
        "errors": [],
        "_write_times": (float(col["write_time_unix"][0]), float(col["write_time_unix"][-1])) if rows else None,
    }


def recording_entry(take: str, videos: list[Path], encoders: dict[Any, Any]) -> dict[str, Any]:
    """A manifest recording entry for one take's files (in segment order); `encoders` by camera id."""
    m = STEM_RE.match(videos[0].stem)
    assert m is not None
    camera_id = int(m.group("cam"))
    segments: list[dict[str, Any]] = []
    for i, video in enumerate(videos, start=1):
        segments.append(segment_entry(video, i, segments[-1] if segments else None))
    times = [s.pop("_write_times") for s in segments]
    times = [t for t in times if t]
    first, last = segments[0], segments[-1]
    return {
        "camera_id": camera_id,
        "basename": take,
        "video": first["video"],
        "timing_csv": first["timing_csv"],
        "container": first["container"],
        "frames": sum(s["frames"] for s in segments),
        "hardware_drops": sum(s["hardware_drops"] for s in segments),
        "encoder_overflows": None,
        "first_sensor_timestamp_ns": first["first_sensor_timestamp_ns"],
        "last_sensor_timestamp_ns": last["last_sensor_timestamp_ns"],
        "first_wall_clock_ns": first["first_wall_clock_ns"],
        "duration_s": round(sum(s["duration_s"] for s in segments), 6),
        "width": int(m.group("w")),
        "height": int(m.group("h")),
        "fps": float(m.group("fps")),
        "encoder": str(encoders.get(camera_id, "")),
        "started_at_unix": times[0][0] if times else None,
        "stopped_at_unix": times[-1][1] if times else None,
        "files": [f for s in segments for f in s["files"]],
        "errors": [],
        "segments": segments,
        "stop_reason": "recovered",
    }


def segment_sort_key(video: Path) -> tuple[str, int]:
    m = STEM_RE.match(video.stem)
    assert m is not None
    return m.group("take"), int(m.group("seg") or 1)


def remove_leftovers(folder: Path, actions: list[str], foreign: set[Path]) -> None:
    """Temporary files of an unfinished write and an interrupted self-test's scratch folder."""
    for part in sorted(folder.glob("*.part")) + sorted(folder.glob("*.tmp")):
        if part in foreign:
            continue
        part.unlink()
        actions.append(f"{part.name}: unfinished temporary file removed")
    for scratch in sorted(folder.glob("self_test_*")):
        if scratch.is_dir() and not scratch.is_symlink():
            shutil.rmtree(scratch)
            actions.append(f"{scratch.name}: interrupted self-test clip removed")


def remove_empty(h264: Path, actions: list[str]) -> None:
    """A file opened but never written (a crash right at a segment switch): the .h264 and its
    header-only CSV go; the take is listed without it."""
    csv_path = timing_csv_of(h264)
    h264.unlink()
    if csv_path.exists():
        csv_path.unlink()
    actions.append(f"{h264.name}: no whole frame; removed with its timing CSV (an empty segment)")


def repair_videos(
    folder: Path, convert: bool, actions: list[str], failures: list[str], foreign: set[Path]
) -> list[FileRepair]:
    """Every .h264 made consistent with its CSV (or dropped for its verified .mp4), then converted;
    empty ones removed."""
    repairs: list[FileRepair] = []
    for h264 in sorted(folder.glob("*.h264")):
        if h264 in foreign or settle_mp4(h264, actions, foreign):
            continue
        csv_path = timing_csv_of(h264)
        if csv_path in foreign:
            failures.append(f"{h264.name}: its timing CSV is not a regular file of this session; left as it is")
            continue
        try:
            repair = repair_pair(h264, csv_path)
        except Exception as exc:
            failures.append(f"{h264.name}: cannot be read as H.264 ({type(exc).__name__}: {exc}); left as it is")
            continue
        actions.extend(f"{h264.name}: {a}" for a in repair.actions)
        if repair.frames == 0:
            remove_empty(h264, actions)
            continue
        repairs.append(repair)
        if convert and repair.frames and timing_csv_of(h264).exists():
            try:
                mp4_path = convert_file(h264)
                actions.append(f"{h264.name}: converted to {mp4_path.name} ({repair.frames} frames, .h264 removed)")
            except RemuxError as exc:
                failures.append(f"{h264.name}: MP4 conversion failed, .h264 kept: {exc}")
    return repairs


def rebuilt_recordings(
    folder: Path, manifest: dict[str, Any], actions: list[str], foreign: set[Path]
) -> list[dict[str, Any]]:
    """Entries for the takes the manifest does not list, built from their files; listed ones stay."""
    known = {r.get("basename") for r in manifest.get("recordings", []) if isinstance(r, dict)}
    videos = [
        p
        for p in folder.iterdir()
        if p.suffix in (".h264", ".mp4") and STEM_RE.match(p.stem) and p not in foreign and session_file(folder, p)
    ]
    takes: dict[str, list[Path]] = {}
    for video in sorted(videos, key=segment_sort_key):
        takes.setdefault(segment_sort_key(video)[0], []).append(video)
    encoders = {c.get("camera_id"): c.get("encoder", "") for c in manifest.get("cameras", []) if isinstance(c, dict)}
    rebuilt = []
    for take, files in takes.items():
        if take in known:
            continue
        entry = recording_entry(take, files, encoders)
        rebuilt.append(entry)
        actions.append(f"{take}: manifest entry rebuilt ({entry['frames']} frames in {len(files)} file(s))")
    return rebuilt


def recover_session(folder: Path, *, mp4: bool | None = None) -> dict[str, Any]:
    """Repair every recording in `folder` and rebuild its manifest; returns the report."""
    manifest = load_manifest(folder)
    convert = wants_mp4(manifest) if mp4 is None else mp4
    actions: list[str] = []
    failures: list[str] = []
    foreign = foreign_files(folder, actions)
    remove_leftovers(folder, actions, foreign)
    repairs = repair_videos(folder, convert, actions, failures, foreign)
    rebuilt = rebuilt_recordings(folder, manifest, actions, foreign)
    was_complete = manifest.get("complete") is True
    manifest.setdefault("schema", "camera_core.session/1")
    manifest.setdefault("session", folder.name)
    manifest["recordings"] = [r for r in manifest.get("recordings", []) if isinstance(r, dict)] + rebuilt
    manifest["recordings"].sort(key=lambda r: (r.get("started_at_unix") or 0, r.get("camera_id") or 0))
    manifest["complete"] = True
    if not manifest.get("ended_at_unix"):
        ends = [r.get("stopped_at_unix") for r in manifest["recordings"] if r.get("stopped_at_unix")]
        manifest["ended_at_unix"] = max(ends) if ends else time.time()
    report = {
        "session": str(folder),
        "was_complete": was_complete,
        "recovered_at_unix": time.time(),
        "files": [r.as_dict() for r in repairs],
        "actions": actions,
        "failures": failures,
    }
    manifest["recovery"] = {k: v for k, v in report.items() if k != "session"}
    write_json_atomic(folder / MANIFEST_NAME, manifest)
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_core recover", description=__doc__)
    parser.add_argument("sessions", nargs="*", type=Path, help="session folders")
    parser.add_argument(
        "--unfinished-in",
        type=Path,
        metavar="OUTPUT_DIR",
        help="also every unfinished session in this output folder (whose process is gone)",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--mp4",
        dest="mp4",
        action="store_const",
        const=True,
        help="convert to MP4 (default: as the session was configured)",
    )
    group.add_argument("--no-mp4", dest="mp4", action="store_const", const=False, help="keep the .h264 files")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    sessions = list(args.sessions)
    if args.unfinished_in is not None:
        if not args.unfinished_in.is_dir():
            print(
                f"recover: error: --unfinished-in {args.unfinished_in}: not a folder "
                "(give the output folder that holds the session folders, e.g. recordings)",
                file=sys.stderr,
            )
            return 2
        sessions += find_unfinished_sessions(args.unfinished_in)
        if not sessions:
            print(f"recover: no unfinished session in {args.unfinished_in}", file=sys.stderr)
    elif not sessions:
        parser.error("name session folders or --unfinished-in OUTPUT_DIR")
    code = 0
    for folder in sessions:
        if not folder.is_dir():
            print(f"recover: {folder}: not a folder", file=sys.stderr)
            code = 2
            continue
        report = recover_session(folder, mp4=args.mp4)
        if args.json:
            print(json.dumps(report))
        else:
            print(f"{folder}: {'was complete' if report['was_complete'] else 'unfinished'}; recovered")
            for f in report["files"]:
                print(
                    f"  {f['video']}: {f['frames']} frames = rows (found {f['frames_found']} frames, {f['rows_found']} rows)"
                )
            for a in report["actions"]:
                print(f"  {a}")
        for failure in report["failures"]:
            print(f"recover: {failure}", file=sys.stderr)
        if report["failures"]:
            code = max(code, 1)
    return code
