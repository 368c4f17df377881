"""Makes one crashed recording file consistent with its timing CSV: the .h264 cut back to the frames
that have a row, or the CSV cut back to the frames the .h264 holds whole.

Why it is enough: the recorder writes a frame's packet before its row, each straight to the OS, so
after a killed process every row's frame is in the file (the file may hold a frame or a part of one
more). After a power loss either file may be ahead and the last frame may be cut short: the frames
from the last keyframe on are decoded with strict error detection, and a torn frame is dropped."""

from __future__ import annotations

import os
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from camera_core.recording.annexb import ByteSource, index_source
from camera_core.util.files import fsync_file

#: bytes of a timing CSV checked per step
ROWS_BLOCK_BYTES = 1 << 22


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


def whole_frames(h264: Path) -> tuple[array[int], int]:
    """(byte offset of every frame of a raw H.264 file, how many leading frames are whole).

    The frames are found by indexing the stream's start codes (annexb.py, no demuxing); only the
    last group of pictures is decoded (every keyframe carries SPS/PPS), strictly, so a frame cut
    short by a crash shows as a decode error."""
    if h264.stat().st_size == 0:
        return array("q"), 0
    with ByteSource(h264) as src:
        index = index_source(src)
        if index.frames == 0:
            return array("q"), 0
        starts = index.code_start[index.au_first_nal].astype(np.int64)
        offsets = array("q", starts.tobytes())
        keys = index.keyframes
        gop_start = int(keys[-1]) if keys.size else 0
        last_gop = [src.read(*index.au_byte_range(i)).tobytes() for i in range(gop_start, index.frames)]
    import av  # only for the last group of pictures

    decoder = av.CodecContext.create("h264", "r")
    decoder.options = {"err_detect": "careful+bitstream+buffer+explode"}
    whole = gop_start
    try:
        for data in last_gop:
            decoder.decode(av.Packet(data))
            whole += 1
        decoder.decode(None)
    except av.FFmpegError:
        pass
    return offsets, whole


@dataclass(slots=True)
class CsvRows:
    """A timing CSV's whole rows, found line by line without holding the file: `ends[i]` is the byte
    offset just after row i's newline."""

    header_end: int
    ends: array[int]
    lines_after_header: int


def read_rows(csv_path: Path) -> CsvRows:
    """The whole rows of a timing CSV: a last line without its newline, or one that does not parse
    (wrong field count, frame_number not its position), ends the rows. Read in blocks and checked
    with numpy (a 10-hour CSV has a million rows)."""
    ends: array[int] = array("q")
    lines = 0
    with csv_path.open("rb") as f:
        header = f.readline()
        width = header.count(b",") + 1
        offset = len(header)  # file offset of `carry`'s first byte
        whole = True
        carry = b""
        while block := f.read(ROWS_BLOCK_BYTES):
            data = carry + block
            buf = np.frombuffer(data, dtype=np.uint8)
            newlines = np.flatnonzero(buf == 10)
            if newlines.size == 0:
                carry = data
                continue
            lines += int(newlines.size)
            if whole:
                good = _whole_rows(buf, newlines, width, len(ends))
                ends.extend((newlines[:good] + 1 + offset).tolist())
                whole = good == newlines.size
            cut = int(newlines[-1]) + 1
            carry = data[cut:]
            offset += cut
        lines += bool(carry)  # a last line without its newline: counted, never whole
    return CsvRows(len(header), ends, lines)


def _whole_rows(buf: np.ndarray, newlines: np.ndarray, width: int, first_number: int) -> int:
    """How many of the lines ending at `newlines` are whole rows before the first that is not: the
    right number of fields, frame_number all digits and equal to its position."""
    starts = np.empty_like(newlines)
    starts[0] = 0
    starts[1:] = newlines[:-1] + 1
    commas = np.flatnonzero(buf == 44)
    first_comma_at = np.searchsorted(commas, starts)
    ok = np.searchsorted(commas, newlines) - first_comma_at == width - 1
    first_comma = commas[np.minimum(first_comma_at, max(commas.size - 1, 0))] if commas.size else newlines
    field_len = np.where(first_comma_at < commas.size, first_comma, newlines) - starts
    ok &= (field_len >= 1) & (field_len <= 18)
    value = np.zeros(newlines.size, dtype=np.int64)
    for k in range(int(field_len[ok].max()) if ok.any() else 0):
        in_field = k < field_len
        digit = buf[np.minimum(starts + k, buf.size - 1)].astype(np.int64) - 48
        ok &= ~in_field | ((digit >= 0) & (digit <= 9))
        value = np.where(in_field, value * 10 + digit, value)
    ok &= value == first_number + np.arange(newlines.size)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else int(newlines.size)


def write_rows(csv_path: Path, end: int) -> None:
    """Cut the CSV to its first `end` bytes (header and whole rows) through a synced temporary copy."""
    tmp = csv_path.with_name(csv_path.name + ".tmp")
    with csv_path.open("rb") as src, tmp.open("wb") as dst:
        left = end
        while left > 0 and (block := src.read(min(left, 1 << 22))):
            dst.write(block)
            left -= len(block)
        fsync_file(dst)
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
    rows = read_rows(csv_path)
    found, total_lines = len(rows.ends), rows.lines_after_header
    report = FileRepair(h264.name, len(offsets), found)
    keep = min(found, whole)
    if keep < len(offsets):
        os.truncate(h264, offsets[keep])
        torn = " or cut short" if whole < len(offsets) else ""
        report.actions.append(
            f"video cut from {len(offsets)} to {keep} frames (frames without a whole timing row{torn})"
        )
    if keep < found or total_lines != found:
        write_rows(csv_path, rows.ends[keep - 1] if keep else rows.header_end)
        dropped = max(total_lines, found) - keep
        report.actions.append(f"timing CSV cut to {keep} rows ({dropped} row(s) without a whole frame dropped)")
    report.frames = keep
    return report
