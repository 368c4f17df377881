"""Makes one crashed recording file consistent with its timing CSV: the .h264 cut back to the frames
that have a row, or the CSV cut back to the frames the .h264 holds whole.

Why it is enough: the recorder writes a frame's packet before its row, each straight to the OS, so
after a killed process every row's frame is in the file (the file may hold a frame or a part of one
more). After a power loss either file may be ahead and the last frame may be cut short: the frames
from the last keyframe on are decoded with strict error detection, and a torn frame is dropped."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import av

from camera_core.util.files import fsync_file


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


def whole_frames(h264: Path) -> tuple[list[int], int]:
    """(byte offset of every frame of a raw H.264 file, how many leading frames are whole).

    Only the last group of pictures is decoded (every keyframe carries SPS/PPS), strictly, so a
    frame cut short by a crash shows as a decode error."""
    if h264.stat().st_size == 0:
        return [], 0
    offsets: list[int] = []
    last_gop: list[av.Packet] = []
    gop_start = 0
    with av.open(str(h264), format="h264") as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if not packet.size or packet.pos is None or packet.pos < 0:
                continue
            if packet.is_keyframe:
                last_gop, gop_start = [], len(offsets)
            offsets.append(int(packet.pos))
            last_gop.append(packet)
    decoder = av.CodecContext.create("h264", "r")
    decoder.options = {"err_detect": "careful+bitstream+buffer+explode"}
    whole = gop_start
    try:
        for packet in last_gop:
            decoder.decode(packet)
            whole += 1
        decoder.decode(None)
    except av.FFmpegError:
        pass
    return offsets, whole


def read_rows(csv_path: Path) -> tuple[str, list[str], int]:
    """(header, whole rows, lines after the header): a last line without its newline, or one that
    does not parse, ends the rows."""
    text = csv_path.read_bytes().decode("utf-8", "replace")
    lines = text.split("\n")
    header = lines[0]
    complete = lines[1:-1]  # the last element is '' after a final newline, else a cut-off row
    rows: list[str] = []
    width = len(header.split(","))
    for i, line in enumerate(complete):
        parts = line.split(",")
        if len(parts) != width or not parts[0].isdigit() or int(parts[0]) != i:
            break
        rows.append(line)
    lines_after_header = len(lines) - 1 - (1 if lines[-1] == "" else 0)
    return header, rows, max(0, lines_after_header)


def write_rows(csv_path: Path, header: str, rows: list[str]) -> None:
    tmp = csv_path.with_name(csv_path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        f.write(header + "\n")
        f.writelines(row + "\n" for row in rows)
        fsync_file(f)
    os.replace(tmp, csv_path)


def repair_pair(h264: Path, csv_path: Path | None) -> FileRepair:
    """Cut the video or the CSV so that frames = rows; reports what it did."""
    offsets, whole = whole_frames(h264)
    if csv_path is None or not csv_path.exists():
        report = FileRepair(h264.name, len(offsets), 0, whole)
        if whole < len(offsets):
            os.truncate(h264, offsets[whole])
            report.actions.append(f"video cut from {len(offsets)} to {whole} frames (a frame cut short)")
        report.actions.append("no timing CSV: its frame times are unknown")
        return report
    header, rows, total_lines = read_rows(csv_path)
    report = FileRepair(h264.name, len(offsets), len(rows))
    keep = min(len(rows), whole)
    if keep < len(offsets):
        os.truncate(h264, offsets[keep])
        torn = " or cut short" if whole < len(offsets) else ""
        report.actions.append(
            f"video cut from {len(offsets)} to {keep} frames (frames without a whole timing row{torn})"
        )
    if keep < len(rows) or total_lines != len(rows):
        write_rows(csv_path, header, rows[:keep])
        dropped = max(total_lines, len(rows)) - keep
        report.actions.append(f"timing CSV cut to {keep} rows ({dropped} row(s) without a whole frame dropped)")
    report.frames = keep
    return report
