"""An H.264 Annex-B stream to an MP4 without decoding, demuxing or PyAV: ftyp, one mdat of the
access units with each start code replaced by a 4-byte big-endian length (built with numpy, block
by block), then moov with the sample tables (stts from the given pts, stss, stsz, stco/co64).

Timescale 1,000,000 (microseconds). Each sample's decode time is its pts (frames are stored in
presentation order, as the encoders write them); a first pts above 0 is carried by an empty edit,
so players and demuxers report every frame at exactly its pts."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from camera_core.recording.annexb import NAL_PPS, NAL_SPS, AnnexBIndex, ByteSource
from camera_core.recording.h264_sps import SpsError, parse_sps

TIMESCALE = 1_000_000
#: input bytes copied per step of the mdat
BLOCK_BYTES = 1 << 21


class Mp4WriteError(ValueError):
    """The stream or the times cannot make an MP4."""


class Box:
    """A box as the list of its byte chunks (a million-entry table is never copied into its
    parents): `size` bytes in all, written with `write_to`."""

    __slots__ = ("chunks", "size")

    def __init__(self, kind: bytes, parts: Iterable[bytes | np.ndarray | Box]) -> None:
        self.chunks: list[bytes | np.ndarray] = [b""]
        for part in parts:
            if isinstance(part, Box):
                self.chunks.extend(part.chunks)
            elif len(part):
                self.chunks.append(part)
        self.size = 8 + sum(c.nbytes if isinstance(c, np.ndarray) else len(c) for c in self.chunks)
        self.chunks[0] = struct.pack(">I4s", self.size, kind)

    def write_to(self, out: BinaryIO) -> None:
        for chunk in self.chunks:
            out.write(chunk.data if isinstance(chunk, np.ndarray) else chunk)

    def __bytes__(self) -> bytes:
        return b"".join(c.tobytes() if isinstance(c, np.ndarray) else c for c in self.chunks)


def box(kind: bytes, *parts: bytes | np.ndarray | Box) -> Box:
    """A box of numpy arrays (big-endian tables, written as they are) and bytes."""
    return Box(kind, parts)


def full_box(kind: bytes, version: int, flags: int, *parts: bytes | np.ndarray | Box) -> Box:
    return Box(kind, (struct.pack(">I", (version << 24) | flags), *parts))


@dataclass(frozen=True, slots=True)
class SampleLayout:
    """Where each NAL unit and frame lands in the mdat."""

    nal_ids: np.ndarray | slice  # the NAL units written, in order (a slice when contiguous)
    sample_sizes: np.ndarray  # int64, bytes per frame in the mdat
    payload_bytes: int


def sample_layout(index: AnnexBIndex) -> SampleLayout:
    """Every NAL unit of every frame (SPS/PPS too: a stream may change them), 4-byte length each."""
    counts = index.au_end_nal - index.au_first_nal
    total = int(counts.sum())
    nal_ids: np.ndarray | slice
    if total and bool(np.all(index.au_first_nal[1:] == index.au_end_nal[:-1])):
        nal_ids = slice(int(index.au_first_nal[0]), int(index.au_end_nal[-1]))
    else:
        starts = np.repeat(index.au_first_nal - np.cumsum(counts) + counts, counts)
        nal_ids = np.arange(total, dtype=np.int64) + starts
    nal_sizes = index.nal_end[nal_ids] - index.nal_start[nal_ids] + 4
    bounds = np.cumsum(counts) - counts
    sample_sizes = np.add.reduceat(nal_sizes, bounds) if total else np.zeros(0, dtype=np.int64)
    return SampleLayout(nal_ids, sample_sizes.astype(np.int64), int(nal_sizes.sum()))


def write_payload(out: BinaryIO, src: ByteSource, index: AnnexBIndex, nal_ids: np.ndarray | slice) -> None:
    """The chosen NAL units, each after its 4-byte length, in blocks of about BLOCK_BYTES."""
    starts, ends = index.nal_start[nal_ids], index.nal_end[nal_ids]
    i, n = 0, int(starts.size)
    while i < n:
        # NAL units i..j-1 that start within the next block (at least one)
        j = int(np.searchsorted(starts, starts[i] + BLOCK_BYTES, side="left"))
        j = max(j, i + 1)
        s, e = starts[i:j], ends[i:j]
        lengths = e - s
        out_sizes = lengths.astype(np.int64) + 4
        out_off = np.cumsum(out_sizes) - out_sizes
        hdr = (out_off[:, None] + np.arange(4)).ravel()
        code_len = s - index.code_start[nal_ids][i:j] if isinstance(nal_ids, slice) else None
        if code_len is not None and bool(np.all(s[1:] - e[:-1] == code_len[1:])):
            # the units lie back to back: the input with each start code widened to 4 bytes
            # (a zero byte added before a 3-byte one), the lengths then written over the codes
            base = int(s[0] - code_len[0])
            data = src.read(base, int(e[-1]))
            buf = np.empty(int(out_sizes.sum()), dtype=np.uint8)
            out_at = in_at = 0
            for k in np.flatnonzero(code_len == 3).tolist():
                cut = int(s[k]) - 3 - base
                buf[out_at : out_at + cut - in_at] = data[in_at:cut]
                out_at += cut - in_at + 1
                in_at = cut
            buf[out_at:] = data[in_at:]
        else:
            # the input bytes of these NAL units (start codes and skipped units left out)
            lo, hi = int(s[0]), int(e[-1])
            marks = np.zeros(hi - lo + 1, dtype=np.int8)
            np.add.at(marks, s - lo, 1)
            np.add.at(marks, e - lo, -1)
            keep = np.cumsum(marks[:-1], dtype=np.int8).view(bool)
            buf = np.empty(int(out_sizes.sum()), dtype=np.uint8)
            slots = np.ones(buf.size, dtype=bool)
            slots[hdr] = False
            buf[slots] = src.read(lo, hi)[keep]
        buf[hdr] = lengths.astype(">u4").view(np.uint8)
        out.write(buf.data)
        i = j


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(counts, values) of runs of equal values."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), values
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate([[0], change])
    counts = np.diff(np.concatenate([starts, [values.size]]))
    return counts, values[starts]


def _table(kind: bytes, columns: Iterable[np.ndarray], dtype: str, count: int) -> Box:
    cols = list(columns)
    table = np.empty((count, len(cols)), dtype=dtype)
    for i, c in enumerate(cols):
        table[:, i] = c
    body = table
    return full_box(kind, 0, 0, struct.pack(">I", count), body)


def avcc(sps: bytes, pps: bytes) -> Box:
    return box(
        b"avcC",
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),
        struct.pack(">H", len(sps)),
        sps,
        b"\x01",
        struct.pack(">H", len(pps)),
        pps,
    )


def moov(index: AnnexBIndex, src: ByteSource, sizes: np.ndarray, offsets: np.ndarray, pts_us: np.ndarray) -> Box:
    nal_types = index.nal_type
    sps_at = np.flatnonzero(nal_types == NAL_SPS)
    pps_at = np.flatnonzero(nal_types == NAL_PPS)
    if sps_at.size == 0 or pps_at.size == 0:
        raise Mp4WriteError("the stream has no SPS/PPS")
    sps = src.read(int(index.nal_start[sps_at[0]]), int(index.nal_end[sps_at[0]])).tobytes()
    pps = src.read(int(index.nal_start[pps_at[0]]), int(index.nal_end[pps_at[0]])).tobytes()
    sps = sps.rstrip(b"\x00")
    pps = pps.rstrip(b"\x00")
    try:
        info = parse_sps(sps)
    except SpsError as exc:
        raise Mp4WriteError(str(exc)) from exc
    n = int(sizes.size)
    deltas = np.empty(n, dtype=np.int64)
    deltas[:-1] = np.diff(pts_us)
    deltas[-1] = deltas[-2] if n > 1 else 1
    if n > 1 and int(deltas.min()) <= 0:
        bad = int(np.flatnonzero(deltas <= 0)[0])
        raise Mp4WriteError(f"pts do not increase at frame {bad + 1} ({pts_us[bad]} then {pts_us[bad + 1]} µs)")
    media_duration = int(deltas.sum())
    first = int(pts_us[0])
    if first < 0:
        raise Mp4WriteError(f"the first pts is negative ({first} µs)")
    movie_duration = first + media_duration
    run_counts, run_values = _runs(deltas)
    del deltas
    stts = _table(b"stts", (run_counts, run_values), ">u4", int(run_counts.size))
    keyframes = np.flatnonzero(index.au_keyframe) + 1
    stss: bytes | Box = _table(b"stss", (keyframes,), ">u4", int(keyframes.size)) if keyframes.size < n else b""
    stsz = full_box(b"stsz", 0, 0, struct.pack(">II", 0, n), sizes.astype(">u4"))
    stsc = full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, 1, 1))
    if n and int(offsets[-1]) > 0xFFFFFFFF:
        stco = full_box(b"co64", 0, 0, struct.pack(">I", n), offsets.astype(">u8"))
    else:
        stco = full_box(b"stco", 0, 0, struct.pack(">I", n), offsets.astype(">u4"))
    avc1 = box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),
        struct.pack(">HH", info.width, info.height),
        struct.pack(">II", 0x00480000, 0x00480000),
        bytes(4),
        struct.pack(">H", 1),
        bytes(32),
        struct.pack(">Hh", 0x18, -1),
        avcc(sps, pps),
    )
    stsd = full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1)
    stbl = box(b"stbl", stsd, stts, stss, stsc, stsz, stco)
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    minf = box(b"minf", full_box(b"vmhd", 0, 1, bytes(8)), dinf, stbl)
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
    mdhd = full_box(b"mdhd", 1, 0, struct.pack(">QQIQ", 0, 0, TIMESCALE, media_duration), struct.pack(">HH", 0x55C4, 0))
    mdia = box(b"mdia", mdhd, hdlr, minf)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    tkhd = full_box(
        b"tkhd",
        1,
        3,
        struct.pack(">QQIIQ", 0, 0, 1, 0, movie_duration),
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),
        matrix,
        struct.pack(">II", info.width << 16, info.height << 16),
    )
    entries = [(first, -1)] if first > 0 else []
    entries.append((media_duration, 0))
    elst = full_box(
        b"elst",
        1,
        0,
        struct.pack(">I", len(entries)),
        b"".join(struct.pack(">QqHH", d, t, 1, 0) for d, t in entries),
    )
    trak = box(b"trak", tkhd, box(b"edts", elst), mdia)
    mvhd = full_box(
        b"mvhd",
        1,
        0,
        struct.pack(">QQIQ", 0, 0, TIMESCALE, movie_duration),
        struct.pack(">IH", 0x10000, 0x100),
        bytes(10),
        matrix,
        bytes(24),
        struct.pack(">I", 2),
    )
    return box(b"moov", mvhd, trak)


def write_mp4(path: Path, src: ByteSource, index: AnnexBIndex, pts_us: np.ndarray) -> None:
    """Write the frames of `index` (over `src`) to `path`, frame i at pts_us[i] µs."""
    if index.frames == 0:
        raise Mp4WriteError("the stream holds no frames")
    if pts_us.size != index.frames:
        raise Mp4WriteError(f"{index.frames} frames but {pts_us.size} pts")
    layout = sample_layout(index)
    ftyp = bytes(box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41"))
    mdat_header = struct.pack(">I4sQ", 1, b"mdat", 16 + layout.payload_bytes)
    first_offset = len(ftyp) + len(mdat_header)
    offsets = np.cumsum(layout.sample_sizes)
    offsets -= layout.sample_sizes
    offsets += first_offset
    header = moov(index, src, layout.sample_sizes, offsets, pts_us.astype(np.int64, copy=False))
    del offsets  # the moov holds its own big-endian copy
    with path.open("wb") as out:
        out.write(ftyp)
        out.write(mdat_header)
        write_payload(out, src, index, layout.nal_ids)
        header.write_to(out)
