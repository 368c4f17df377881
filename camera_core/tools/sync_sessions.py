"""The recordings that `synccheck` and `align` compare: one take per camera of each session folder
(the latest, unless a take stamp is given), its segments in order, labelled by host."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from camera_core.recording.timing_log import TIMING_CSV_SUFFIX, read_timing_csv

NAME = re.compile(r"^cam(?P<cam>\d+)_\d+x\d+_[\d.]+fps_(?P<stamp>\d{8}_\d{6}(?:_\d+)?)(?:_seg(?P<seg>\d{4}))?$")


class SessionError(ValueError):
    """A session folder that cannot be compared (named, with the reason)."""


@dataclass(slots=True)
class CameraTake:
    """One camera's take: its files (segments in order) and timing rows (all segments)."""

    host: str
    camera_id: int
    session: Path
    stamp: str
    videos: list[Path] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.host}/cam{self.camera_id}"

    def wall_ns(self) -> list[int]:
        """Each frame's wall-clock time (the sensor timestamp for a CSV without wall_clock_ns)."""
        key = "wall_clock_ns" if self.rows and self.rows[0].get("wall_clock_ns") else "sensor_timestamp_ns"
        return [int(r[key]) for r in self.rows]


def parse_session_arg(arg: str) -> tuple[str | None, Path]:
    """`PATH` or `NAME=PATH` (NAME labels the host)."""
    name, sep, path = arg.partition("=")
    if sep and name and not Path(arg).exists():
        return name, Path(path)
    return None, Path(arg)


def host_of(folder: Path) -> str:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        return str(manifest.get("host") or folder.name)
    except (OSError, ValueError):
        return folder.name


def load_takes(args: list[str], take: str | None = None) -> list[CameraTake]:
    """Every camera's take of every session, in the order given (cameras by number)."""
    loaded: list[tuple[str | None, Path, list[CameraTake]]] = []
    for arg in args:
        name, folder = parse_session_arg(arg)
        if not folder.is_dir():
            raise SessionError(f"{folder}: not a folder (give session folders, optionally as NAME=FOLDER)")
        loaded.append((name, folder, _takes_of(folder, name or host_of(folder), take)))
    hosts = [t.host for _, _, takes in loaded for t in takes[:1]]
    out: list[CameraTake] = []
    for name, folder, takes in loaded:
        for t in takes:
            if name is None and hosts.count(t.host) > 1:  # several sessions of one host: tell them apart
                t.host = f"{t.host}:{folder.name}"
        out.extend(takes)
    return out


def _takes_of(folder: Path, host: str, take: str | None) -> list[CameraTake]:
    by_camera: dict[int, dict[str, list[tuple[int, Path]]]] = {}
    for csv_path in sorted(folder.glob(f"*{TIMING_CSV_SUFFIX}")):
        match = NAME.match(csv_path.name[: -len(TIMING_CSV_SUFFIX)])
        if match:
            stamps = by_camera.setdefault(int(match["cam"]), {})
            stamps.setdefault(match["stamp"], []).append((int(match["seg"] or 1), csv_path))
    if not by_camera:
        raise SessionError(f"{folder}: no timing CSVs (cam*_frame_timing.csv) in it")
    takes: list[CameraTake] = []
    for cam in sorted(by_camera):
        stamps = by_camera[cam]
        if take is not None and take not in stamps:
            raise SessionError(f"{folder}: camera {cam} has no take {take}; it has {', '.join(sorted(stamps))}")
        stamp = take or max(stamps, key=lambda s: (s[:15], int(s[16:] or 1)))
        entry = CameraTake(host, cam, folder, stamp)
        for _, csv_path in sorted(stamps[stamp]):
            stem = csv_path.name[: -len(TIMING_CSV_SUFFIX)]
            video = next((v for v in (folder / f"{stem}.mp4", folder / f"{stem}.h264") if v.exists()), None)
            entry.videos.append(video or folder / f"{stem}.h264")
            rows = read_timing_csv(csv_path)
            if rows and "sensor_timestamp_ns" not in rows[0]:
                raise SessionError(f"{csv_path}: not a timing CSV (no sensor_timestamp_ns column)")
            entry.rows.extend(r for r in rows if _whole(r))
        takes.append(entry)
    return takes


def _whole(row: dict[str, str]) -> bool:
    """False for a row cut short by a crash."""
    return all((row.get(k) or "").lstrip("-").isdigit() for k in ("frame_number", "sensor_timestamp_ns"))
