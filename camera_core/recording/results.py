"""What a recording produced, as typed results: one `FileEntry` per file, one `SegmentResult` per
file pair (video + timing CSV), one `RecordingResult` per camera and take. `as_dict()` gives the
JSON shape of the manifest and of the `recording_stopped` reply (see docs/protocol.md)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One finished file: its name in the session folder, size and SHA-256."""

    name: str
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "bytes": self.bytes, "sha256": self.sha256}


@dataclass(slots=True)
class SegmentResult:
    """One file of a take (a segment) once finalized."""

    index: int
    video: str
    timing_csv: str | None
    container: str
    #: start | time | camera_restart
    split_reason: str
    frames: int = 0
    hardware_drops: int = 0
    first_sensor_timestamp_ns: int | None = None
    last_sensor_timestamp_ns: int | None = None
    first_wall_clock_ns: int | None = None
    duration_s: float = 0.0
    files: list[FileEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: The burned-in number of the file's first frame when it is not 0 (pre-trigger takes burn the
    #: encoder's running count: burned number = frame_number + this). None when numbers start at 0.
    burned_number_first: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["files"] = [f.as_dict() for f in self.files]
        out["errors"] = list(self.errors)
        if self.burned_number_first is None:
            del out["burned_number_first"]
        return out


@dataclass(slots=True)
class RecordingResult:
    """What a finished take of one camera produced; goes into the manifest and the stop reply."""

    camera_id: int
    basename: str
    video: str = ""
    timing_csv: str | None = None
    container: str = "h264"
    frames: int = 0
    hardware_drops: int = 0
    encoder_overflows: int = 0
    first_sensor_timestamp_ns: int | None = None
    last_sensor_timestamp_ns: int | None = None
    first_wall_clock_ns: int | None = None
    duration_s: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    encoder: str = ""
    started_at_unix: float = 0.0
    stopped_at_unix: float = 0.0
    files: list[FileEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Every file of the take in order (one entry per segment; `video` above is the first one).
    segments: list[SegmentResult] = field(default_factory=list)
    #: requested | disk_low | disk_full | output_missing | error
    stop_reason: str = "requested"
    #: Seconds of frames from before the start command at the head of the take (pre-trigger).
    pretrigger_s: float = 0.0

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["files"] = [f.as_dict() for f in self.files]
        out["segments"] = [s.as_dict() for s in self.segments]
        out["errors"] = list(self.errors)
        return out

    def summarize(self, segments: list[SegmentResult]) -> None:
        """The take's totals from its segments; `video`/`timing_csv` name the first file."""
        self.segments = segments
        if not segments:
            return
        first, last = segments[0], segments[-1]
        self.video = first.video
        self.timing_csv = first.timing_csv
        self.container = first.container
        self.frames = sum(s.frames for s in segments)
        self.hardware_drops = sum(s.hardware_drops for s in segments)
        self.first_sensor_timestamp_ns = first.first_sensor_timestamp_ns
        self.last_sensor_timestamp_ns = last.last_sensor_timestamp_ns
        self.first_wall_clock_ns = first.first_wall_clock_ns
        self.duration_s = round(sum(s.duration_s for s in segments), 6)
        self.files = [f for s in segments for f in s.files]
        self.errors.extend(e for s in segments for e in s.errors)


#: The take result under the name the pipeline uses for it.
TakeResult = RecordingResult
