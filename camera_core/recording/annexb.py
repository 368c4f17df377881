"""An index of an H.264 Annex-B stream (a raw .h264 file) built with numpy over a file read
block by block, without decoding or demuxing: where each NAL unit starts and ends, its type, which NAL units
make one access unit (one frame) and which frames are keyframes.

Start codes (00 00 01, or 00 00 00 01) are found block by block (read with pread, never the
whole file in memory); emulation prevention guarantees
the pattern never occurs inside a NAL unit. A new access unit starts at an access-unit delimiter,
SPS, PPS or SEI that follows a slice, or at a slice whose first_mb_in_slice is 0 (the top bit of
the byte after the NAL header) that follows a slice. A file cut short (a killed process) may end in
a torn NAL unit: the index cannot tell that from a whole one, so callers that care (recovery)
check the last frames by decoding them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: bytes scanned per step (read, and one boolean array of this size, at a time)
BLOCK_BYTES = 1 << 23

NAL_SLICE, NAL_IDR, NAL_SEI, NAL_SPS, NAL_PPS, NAL_AUD = 1, 5, 6, 7, 8, 9
#: NAL types that open a new access unit when they follow a slice (a lookup table by type)
_AU_PREFIX = np.zeros(32, dtype=bool)
_AU_PREFIX[[NAL_SEI, NAL_SPS, NAL_PPS, NAL_AUD, 14, 15, 16, 17, 18]] = True


@dataclass(frozen=True, slots=True)
class AnnexBIndex:
    """NAL units in file order (`nal_*` arrays, one entry each) and frames (`au_*`, one per access
    unit holding a slice). `nal_start` is the first byte after the start code, `nal_end` the byte
    after the NAL unit (the next start code, or the end of the file)."""

    code_start: np.ndarray  # int32 (files under 2 GiB) or int64: where each NAL unit's start code begins
    nal_start: np.ndarray  # same type as code_start
    nal_end: np.ndarray
    nal_type: np.ndarray  # uint8
    au_first_nal: np.ndarray  # int32: index of each frame's first NAL unit
    au_end_nal: np.ndarray  # int32: one past each frame's last NAL unit
    au_keyframe: np.ndarray  # bool: the frame holds an IDR slice
    size: int  # bytes in the file

    @property
    def frames(self) -> int:
        return int(self.au_first_nal.size)

    @property
    def keyframes(self) -> np.ndarray:
        """Indexes of the keyframes."""
        return np.flatnonzero(self.au_keyframe)

    def au_byte_range(self, i: int) -> tuple[int, int]:
        """Bytes [start, end) of frame i, its first start code included."""
        start = int(self.code_start[int(self.au_first_nal[i])])
        return start, int(self.nal_end[int(self.au_end_nal[i]) - 1])


class ByteSource:
    """A file's bytes read by range (pread into numpy): only the block in hand is in memory, so a
    10-hour file costs its index, not its size, in RSS. An array stands in for a file in tests."""

    def __init__(self, path: Path | None = None, data: np.ndarray | bytes | None = None) -> None:
        self._fd: int | None = None
        self._data: np.ndarray | None = None
        if data is not None:
            self._data = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
            self.size = int(self._data.size)
        elif path is not None:
            self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            self.size = os.fstat(self._fd).st_size
        else:
            raise ValueError("a path or data is needed")

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Bytes [lo, hi) (fewer at the end of the file)."""
        lo, hi = max(0, lo), min(hi, self.size)
        if hi <= lo:
            return np.zeros(0, dtype=np.uint8)
        if self._data is not None:
            return self._data[lo:hi]
        assert self._fd is not None
        buf = np.empty(hi - lo, dtype=np.uint8)
        view = buf.data.cast("B")
        done = 0
        while done < len(view):
            got = os.preadv(self._fd, [view[done:]], lo + done)
            if got <= 0:
                raise OSError(f"the file shrank while being read (at byte {lo + done})")
            done += got
        return buf

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def position_type(size: int) -> type[np.signedinteger]:
    """int32 offsets for files under 2 GiB (half the index's memory), int64 above."""
    return np.int32 if size < 2**31 - 8 else np.int64


def scan_start_codes(src: ByteSource) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(code_start, nal_start, header byte, next byte) of every start code, block by block:
    code_start includes the leading 00 of a 4-byte code; nal_start is the NAL header's offset;
    the next byte (0 past the end of the file) holds first_mb_in_slice's top bit for slices."""
    n = src.size
    pos_type = position_type(n)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for b in range(0, n, BLOCK_BYTES):
        r = max(0, b - 3)
        buf = src.read(r, b + BLOCK_BYTES + 2)
        lo, hi = max(b, 2) - r, min(b + BLOCK_BYTES, n - 1) - r  # candidates q with a header at q+1
        if hi <= lo:
            continue
        q = np.flatnonzero(buf[lo:hi] == 1) + lo
        q = q[(buf[q - 1] == 0) & (buf[q - 2] == 0)]
        if q.size == 0:
            continue
        four = q >= 3
        four[four] = buf[q[four] - 3] == 0
        nxt = np.zeros(q.size, dtype=np.uint8)
        has = q + 2 < buf.size
        nxt[has] = buf[q[has] + 2]
        parts.append(((q - 2 - four + r).astype(pos_type), (q + 1 + r).astype(pos_type), buf[q + 1].copy(), nxt))
    if not parts:
        empty = np.zeros(0, dtype=pos_type)
        return empty, empty, np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.uint8)
    columns = []
    for i in range(4):  # one column at a time, its blocks let go as it is joined
        columns.append(np.concatenate([p[i] for p in parts]))
        parts = [(*p[:i], np.zeros(0), *p[i + 1 :]) for p in parts]  # type: ignore[misc]
    code_start, nal_start, header, nxt = columns
    return code_start, nal_start, header, nxt


def index_annexb(data: np.ndarray | bytes) -> AnnexBIndex:
    """Index an Annex-B stream held in memory."""
    return index_source(ByteSource(data=data))


def index_source(src: ByteSource) -> AnnexBIndex:
    """Index the Annex-B stream of `src`."""
    n = src.size
    code_start, nal_start, header, next_byte = scan_start_codes(src)
    nal_end = np.empty_like(nal_start)
    nal_end[:-1] = code_start[1:]
    if nal_end.size:
        nal_end[-1] = n
    forbidden = (header & 0x80) != 0
    nal_type = (header & 0x1F).astype(np.uint8)
    is_vcl = ((nal_type == NAL_SLICE) | (nal_type == NAL_IDR)) & ~forbidden
    first_mb0 = (next_byte & 0x80) != 0
    del header, next_byte
    opener = (_AU_PREFIX[nal_type] & ~forbidden) | (is_vcl & first_mb0)
    marks = np.flatnonzero(opener | is_vcl)  # the NAL units that decide where a frame starts
    if marks.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return AnnexBIndex(code_start, nal_start, nal_end, nal_type, empty, empty, np.zeros(0, dtype=bool), n)
    prev_vcl = np.empty(marks.size, dtype=bool)
    prev_vcl[0] = True
    prev_vcl[1:] = is_vcl[marks[:-1]]
    au_first = marks[opener[marks] & prev_vcl]
    if au_first.size == 0 or au_first[0] != marks[0]:
        au_first = np.concatenate([marks[:1], au_first])
    au_end = np.empty_like(au_first)
    au_end[:-1] = au_first[1:]
    au_end[-1] = nal_start.size
    keep = np.logical_or.reduceat(is_vcl, au_first)  # an access unit without a slice is no frame
    has_idr = np.logical_or.reduceat(nal_type == NAL_IDR, au_first)
    return AnnexBIndex(
        code_start=code_start,
        nal_start=nal_start,
        nal_end=nal_end,
        nal_type=nal_type,
        au_first_nal=au_first[keep].astype(np.int32),
        au_end_nal=au_end[keep].astype(np.int32),
        au_keyframe=has_idr[keep],
        size=n,
    )


def index_file(path: Path) -> AnnexBIndex:
    with ByteSource(path) as src:
        return index_source(src)
