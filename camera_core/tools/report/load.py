"""Reading a session for the timing report: its timing CSVs, grouped by camera, take, recording and
segment using manifest.json where it names them, else the file names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from camera_core.recording.timing_log import TIMING_CSV_SUFFIX
from camera_core.session import MANIFEST_NAME
from camera_core.timing import drops_between
from camera_core.util.timing_csv import Column, TimingCsvError, read_columns

#: What an empty or missing wall_clock_ns reads as before it is replaced by the sensor time.
_NO_WALL_CLOCK = np.iinfo(np.int64).min

#: cam{N}_{W}x{H}_{FPS}fps_{YYYYMMDD_HHMMSS}[_n] then an optional segment number
#: (`_seg3`, `_part3`, `_segment3` or three or more digits such as `_003`).
NAME_RE = re.compile(
    r"^(?P<base>cam(?P<cam>\d+)_(?P<w>\d+)x(?P<h>\d+)_(?P<fps>\d+(?:\.\d+)?)fps_(?P<take>\d{8}_\d{6}(?:_\d{1,2})?))"
    r"(?:[_.-](?:seg|segment|part)(?P<seg>\d+)|_(?P<num>\d{3,}))?$"
)


class ReportInputError(Exception):
    """The folder cannot be reported on (no timing CSVs, unreadable files)."""


@dataclass(slots=True)
class TimingSeries:
    """One timing CSV (a recording or one segment of it) as arrays, one entry per video frame."""

    camera_id: int
    take: str
    recording: str
    segment: int | None
    csv_name: str
    video: str | None
    target_fps: float
    frame_number: np.ndarray
    sensor_ns: np.ndarray
    wall_ns: np.ndarray
    dropped: np.ndarray
    skipped_rows: int = 0

    @property
    def frames(self) -> int:
        return int(self.sensor_ns.size)

    @property
    def period_ns(self) -> float:
        return 1e9 / self.target_fps


@dataclass(slots=True)
class Recording:
    """One camera's recording of one take: its segments in order."""

    camera_id: int
    take: str
    recording: str
    segments: list[TimingSeries] = field(default_factory=list)

    @property
    def target_fps(self) -> float:
        return self.segments[0].target_fps

    def joined_segments(self) -> list[TimingSeries]:
        """The segments with each one's first-row drops taken from the timestamp gap to the previous
        segment (0 for the first), so a drop at a file boundary is counted once, in the later file."""
        out: list[TimingSeries] = []
        prev: TimingSeries | None = None
        for seg in self.segments:
            if not seg.frames:
                out.append(seg)
                continue
            first = 0 if prev is None else drops_between(int(seg.sensor_ns[0] - prev.sensor_ns[-1]), seg.period_ns)
            if seg.dropped[0] == first:
                out.append(seg)
            else:
                dropped = seg.dropped.copy()
                dropped[0] = first
                out.append(replace(seg, dropped=dropped))
            prev = seg
        return out

    def combined(self) -> TimingSeries:
        """All segments as one series, frame numbers counted through the whole recording."""
        parts = [s for s in self.joined_segments() if s.frames]
        first = self.segments[0]
        if not parts:
            return first
        if len(self.segments) == 1:
            return parts[0]
        return TimingSeries(
            camera_id=self.camera_id,
            take=self.take,
            recording=self.recording,
            segment=None,
            csv_name=", ".join(s.csv_name for s in self.segments),
            video=first.video,
            target_fps=first.target_fps,
            frame_number=np.arange(sum(p.frames for p in parts)),
            sensor_ns=np.concatenate([p.sensor_ns for p in parts]),
            wall_ns=np.concatenate([p.wall_ns for p in parts]),
            dropped=np.concatenate([p.dropped for p in parts]),
            skipped_rows=sum(s.skipped_rows for s in self.segments),
        )


@dataclass(slots=True)
class SessionData:
    directory: Path
    manifest: dict[str, Any] | None
    recordings: list[Recording]
    warnings: list[str] = field(default_factory=list)

    def takes(self) -> dict[str, list[Recording]]:
        """Recordings started together (same take stamp), each take's recordings by camera id."""
        out: dict[str, list[Recording]] = {}
        for rec in self.recordings:
            out.setdefault(rec.take, []).append(rec)
        return {k: sorted(v, key=lambda r: r.camera_id) for k, v in sorted(out.items())}


@dataclass(slots=True)
class _FileInfo:
    camera_id: int
    take: str
    recording: str
    segment: int | None
    video: str | None
    fps: float | None


#: The columns the report reads; a missing wall clock reads as the sensor time, a missing duration as 0.
SERIES_COLUMNS = [
    Column("frame_number", "int32"),
    Column("sensor_timestamp_ns"),
    Column("dropped_since_last", "int32"),
    Column("wall_clock_ns", default=_NO_WALL_CLOCK),
    Column("frame_duration_us", "float64", default=0.0),
]


def read_series(path: Path, info: _FileInfo) -> TimingSeries:
    """Parse one timing CSV; rows that do not parse (a line cut by a crash) are skipped and counted."""
    columns = SERIES_COLUMNS if info.fps is None else SERIES_COLUMNS[:-1]  # durations only to find the rate
    try:
        table = read_columns(path, columns)
    except TimingCsvError as exc:
        raise ReportInputError(str(exc)) from exc
    sensor = table["sensor_timestamp_ns"]
    wall = table["wall_clock_ns"]
    missing_wall = wall == _NO_WALL_CLOCK
    if missing_wall.any():
        wall[missing_wall] = sensor[missing_wall]
    fps = info.fps or _fps_from_data(sensor, table["frame_duration_us"])
    return TimingSeries(
        camera_id=info.camera_id,
        take=info.take,
        recording=info.recording,
        segment=info.segment,
        csv_name=path.name,
        video=info.video,
        target_fps=fps,
        frame_number=table["frame_number"],
        sensor_ns=sensor,
        wall_ns=wall,
        dropped=table["dropped_since_last"],
        skipped_rows=table.skipped_rows,
    )


def _fps_from_data(sensor: np.ndarray, durations: np.ndarray) -> float:
    """Target rate when neither the manifest nor the file name says: the frame duration, else the median interval."""
    positive = durations[durations > 0]
    if positive.size:
        return 1e6 / float(np.median(positive))
    if sensor.size >= 2:
        median = float(np.median(np.diff(sensor)))
        if median > 0:
            return 1e9 / median
    return 30.0


def _from_name(csv_name: str) -> _FileInfo:
    stem = csv_name[: -len(TIMING_CSV_SUFFIX)]
    m = NAME_RE.match(stem)
    if m is None:
        return _FileInfo(camera_id=-1, take=stem, recording=stem, segment=None, video=None, fps=None)
    seg = m.group("seg") or m.group("num")
    return _FileInfo(
        camera_id=int(m.group("cam")),
        take=m.group("take"),
        recording=m.group("base"),
        segment=int(seg) if seg is not None else None,
        video=None,
        fps=float(m.group("fps")),
    )


def _manifest_entries(manifest: dict[str, Any]) -> dict[str, _FileInfo]:
    """timing CSV name -> what the manifest says about it (recordings, and their segments if listed)."""
    out: dict[str, _FileInfo] = {}
    for entry in manifest.get("recordings") or []:
        if not isinstance(entry, dict):
            continue
        basename = str(entry.get("basename") or "")
        named = NAME_RE.match(basename)
        take = named.group("take") if named else basename
        base = named.group("base") if named else basename
        fps = entry.get("fps")
        cam = entry.get("camera_id")
        segments = entry.get("segments")
        listed: list[tuple[dict[str, Any], int | None]] = [(entry, entry.get("segment"))]
        if isinstance(segments, list) and segments:
            listed = [(s, s.get("segment", s.get("index", i))) for i, s in enumerate(segments) if isinstance(s, dict)]
        for item, seg in listed:
            csv_name = item.get("timing_csv")
            if not csv_name:
                continue
            out[str(csv_name)] = _FileInfo(
                camera_id=int(cam) if isinstance(cam, int) else _from_name(str(csv_name)).camera_id,
                take=take,
                recording=base,
                segment=int(seg) if isinstance(seg, int) else None,
                video=str(item.get("video") or entry.get("video") or "") or None,
                fps=float(fps) if isinstance(fps, int | float) and fps > 0 else None,
            )
    return out


def read_manifest(directory: Path, warnings: list[str]) -> dict[str, Any] | None:
    path = directory / MANIFEST_NAME
    if not path.exists():
        warnings.append(f"no {MANIFEST_NAME}: recordings grouped by file name")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warnings.append(f"{MANIFEST_NAME} unreadable ({exc}): recordings grouped by file name")
        return None
    return data if isinstance(data, dict) else None


def load_session(directory: Path) -> SessionData:
    """Every timing CSV of a session folder, grouped into recordings; ReportInputError when there are none."""
    if not directory.is_dir():
        raise ReportInputError(f"{directory}: not a folder")
    csv_paths = sorted(directory.glob(f"*{TIMING_CSV_SUFFIX}"))
    if not csv_paths:
        raise ReportInputError(f"{directory}: no timing CSVs (*{TIMING_CSV_SUFFIX}); is this a session folder?")
    warnings: list[str] = []
    manifest = read_manifest(directory, warnings)
    known = _manifest_entries(manifest) if manifest else {}
    recordings: dict[tuple[int, str], Recording] = {}
    for path in csv_paths:
        info = known.get(path.name) or _from_name(path.name)
        series = read_series(path, info)
        if series.skipped_rows:
            warnings.append(f"{path.name}: {series.skipped_rows} unreadable row(s) skipped")
        key = (info.camera_id, info.recording)
        rec = recordings.setdefault(key, Recording(info.camera_id, info.take, info.recording))
        rec.segments.append(series)
    for rec in recordings.values():
        rec.segments.sort(key=lambda s: (s.segment if s.segment is not None else -1, s.csv_name))
    ordered = sorted(recordings.values(), key=lambda r: (r.take, r.camera_id, r.recording))
    return SessionData(directory, manifest, ordered, warnings)
