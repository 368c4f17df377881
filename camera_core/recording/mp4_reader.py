"""The presentation times of an MP4's video frames read from its sample tables (mdhd, stts, ctts,
elst), without PyAV: a million-frame file is read in well under a second, and only moov is read."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np


class Mp4ReadError(ValueError):
    """Not an MP4 this reader understands (no moov, no video track, a box cut short)."""


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> dict[bytes, list[tuple[int, int]]]:
    """kind -> [(body start, body end)] of the boxes directly inside data[start:end]."""
    end = len(data) if end is None else end
    found: dict[bytes, list[tuple[int, int]]] = {}
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            raise Mp4ReadError(f"box {kind!r} cut short")
        found.setdefault(kind, []).append((pos + head, pos + size))
        pos += size
    return found


def _read_moov(f: BinaryIO) -> bytes:
    f.seek(0, 2)
    file_size = f.tell()
    pos = 0
    while pos + 8 <= file_size:
        f.seek(pos)
        head = f.read(16)
        size, kind = struct.unpack_from(">I4s", head)
        head_len = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", head, 8)
            head_len = 16
        elif size == 0:
            size = file_size - pos
        if size < head_len:
            raise Mp4ReadError("a box with a bad size")
        if kind == b"moov":
            f.seek(pos + head_len)
            body = f.read(size - head_len)
            if len(body) != size - head_len:
                raise Mp4ReadError("moov cut short")
            return body
        pos += size
    raise Mp4ReadError("no moov box (not a finished MP4)")


def _child(data: bytes, span: tuple[int, int], *path: bytes) -> tuple[int, int] | None:
    for kind in path:
        found = _boxes(data, *span).get(kind)
        if not found:
            return None
        span = found[0]
    return span


def _pairs(data: bytes, span: tuple[int, int], width: int, signed_second: bool = False) -> np.ndarray:
    start = span[0] + 4
    (count,) = struct.unpack_from(">I", data, start)
    dtype = np.dtype([("a", ">u4"), ("b", ">i4" if signed_second else ">u4")])
    if start + 4 + count * dtype.itemsize > span[1]:
        raise Mp4ReadError("a sample table cut short")
    return np.frombuffer(data, dtype=dtype, count=count, offset=start + 4)


def mp4_pts_us(path: Path) -> np.ndarray:
    """Every video frame's presentation time in µs (int64, rounded half up), in file order."""
    with path.open("rb") as f:
        moov = _read_moov(f)
    whole = (0, len(moov))
    for trak in _boxes(moov, *whole).get(b"trak", []):
        hdlr = _child(moov, trak, b"mdia", b"hdlr")
        if hdlr is None or moov[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":
            continue
        mdhd = _child(moov, trak, b"mdia", b"mdhd")
        stbl = _child(moov, trak, b"mdia", b"minf", b"stbl")
        if mdhd is None or stbl is None:
            raise Mp4ReadError("video track without mdhd/stbl")
        version = moov[mdhd[0]]
        timescale = struct.unpack_from(">I", moov, mdhd[0] + (20 if version == 1 else 12))[0]
        mvhd = _child(moov, whole, b"mvhd")
        movie_scale = timescale
        if mvhd is not None:
            mv = moov[mvhd[0]]
            movie_scale = struct.unpack_from(">I", moov, mvhd[0] + (20 if mv == 1 else 12))[0]
        stts_span = _child(moov, stbl, b"stts")
        if stts_span is None:
            raise Mp4ReadError("no stts")
        stts = _pairs(moov, stts_span, 8)
        deltas = np.repeat(stts["b"].astype(np.int64), stts["a"].astype(np.int64))
        dts = np.cumsum(deltas) - deltas
        ctts_span = _child(moov, stbl, b"ctts")
        if ctts_span is not None:
            ctts = _pairs(moov, ctts_span, 8, signed_second=moov[ctts_span[0]] == 1)
            dts = dts + np.repeat(ctts["b"].astype(np.int64), ctts["a"].astype(np.int64))[: dts.size]
        shift = 0
        elst = _child(moov, trak, b"edts", b"elst")
        if elst is not None:
            ev = moov[elst[0]]
            (count,) = struct.unpack_from(">I", moov, elst[0] + 4)
            pos = elst[0] + 8
            empty = 0
            for _ in range(count):
                if ev == 1:
                    dur, media_time = struct.unpack_from(">Qq", moov, pos)
                    pos += 20
                else:
                    dur, media_time = struct.unpack_from(">Ii", moov, pos)
                    pos += 12
                if media_time == -1:
                    empty += dur
                else:
                    shift = empty * timescale // movie_scale - media_time
                    break
        ticks = dts + shift
        return (2 * ticks * 1_000_000 + timescale) // (2 * timescale)
    raise Mp4ReadError("no video track")


def mp4_keyframes(path: Path) -> np.ndarray:
    """0-based numbers of the video track's keyframes (its stss; every frame when it has none)."""
    with path.open("rb") as f:
        moov = _read_moov(f)
    for trak in _boxes(moov, 0, len(moov)).get(b"trak", []):
        hdlr = _child(moov, trak, b"mdia", b"hdlr")
        if hdlr is None or moov[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":
            continue
        stbl = _child(moov, trak, b"mdia", b"minf", b"stbl")
        if stbl is None:
            raise Mp4ReadError("video track without stbl")
        stss = _child(moov, stbl, b"stss")
        if stss is None:
            stsz = _child(moov, stbl, b"stsz")
            count = struct.unpack_from(">I", moov, stsz[0] + 8)[0] if stsz else 0
            return np.arange(count, dtype=np.int64)
        (count,) = struct.unpack_from(">I", moov, stss[0] + 4)
        return np.frombuffer(moov, dtype=">u4", count=count, offset=stss[0] + 8).astype(np.int64) - 1
    raise Mp4ReadError("no video track")
