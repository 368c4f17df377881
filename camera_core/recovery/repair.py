"""Makes one crashed recording file consistent with its timing CSV: the .h264 cut back to the frames
that have a row, or the CSV cut back to the frames the .h264 holds whole.

Why it is enough: the recorder writes a frame's packet before its row, each straight to the OS, so
after a killed process every row's frame is in the file (the file may hold a frame or a part of one
more). After a power loss either file may be ahead; when the rows are, the file's last frame may be
cut short, so it is dropped too."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import av

from camera_core.recording.timing_log import COLUMNS


@dataclass(slots=True)
class FileRepair:
    video: str
    frames_found: int
    rows_found: int
    frames: int = 0
    actions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "video": self.video,
            "frames_found": self.frames_found,
            "rows_found": self.rows_found,
            "frames": self.frames,
            "actions": list(self.actions),
        }


def packet_offsets(h264: Path) -> list[int]:
    """The byte offset of every frame (access unit) of a raw H.264 file."""
    if h264.stat().st_size == 0:
        return []
    with av.open(str(h264), format="h264") as container:
        stream = container.streams.video[0]
        return [int(p.pos) for p in container.demux(stream) if p.size and p.pos is not None and p.pos >= 0]


def read_rows(csv_path: Path) -> tuple[str, list[str], int]:
    """(header, whole rows, lines after the header): a last line without its newline, or one that
    does not parse, ends the rows."""
    text = csv_path.read_bytes().decode("utf-8", "replace")
    lines = text.split("\n")
    header = lines[0] if lines else ",".join(COLUMNS)
    complete = lines[1:-1]  # the last element is '' after a final newline, else a cut-off row
    rows: list[str] = []
    width = len(header.split(","))
    for i, line in enumerate(complete):
        parts = line.split(",")
        if len(parts) != width or not parts[0].isdigit() or int(parts[0]) != i:
            break
        rows.append(line)
    lines_after_header = len(lines) - 1 - (1 if lines and lines[-1] == "" else 0)
    return header, rows, max(0, lines_after_header)


def write_rows(csv_path: Path, header: str, rows: list[str]) -> None:
    tmp = csv_path.with_name(csv_path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        f.write(header + "\n")
        f.writelines(row + "\n" for row in rows)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, csv_path)


def repair_pair(h264: Path, csv_path: Path | None) -> FileRepair:
    """Cut the video or the CSV so that frames = rows; reports what it did."""
    offsets = packet_offsets(h264)
    if csv_path is None or not csv_path.exists():
        report = FileRepair(h264.name, len(offsets), 0, len(offsets))
        report.actions.append("no timing CSV: video left as it is (its frame times are unknown)")
        return report
    header, rows, total_lines = read_rows(csv_path)
    report = FileRepair(h264.name, len(offsets), len(rows))
    keep = len(rows)
    if len(rows) > len(offsets):
        keep = max(0, len(offsets) - 1)  # the rows are ahead: the last frame may be cut short
    if keep < len(offsets):
        os.truncate(h264, offsets[keep])
        report.actions.append(f"video cut from {len(offsets)} to {keep} frames (frames without a whole timing row)")
    if keep < len(rows) or total_lines != len(rows):
        write_rows(csv_path, header, rows[:keep])
        dropped = max(total_lines, len(rows)) - keep
        report.actions.append(f"timing CSV cut to {keep} rows ({dropped} row(s) without a whole frame dropped)")
    report.frames = keep
    return report
