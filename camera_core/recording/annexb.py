"""An index of an H.264 Annex-B stream (a raw .h264 file) built with numpy over a memory-mapped
file, without decoding or demuxing: where each NAL unit starts and ends, its type, which NAL units
make one access unit (one frame) and which frames are keyframes.

Start codes (00 00 01, or 00 00 00 01) are found block by block; emulation prevention guarantees
the pattern never occurs inside a NAL unit. A new access unit starts at an access-unit delimiter,
SPS, PPS or SEI that follows a slice, or at a slice whose first_mb_in_slice is 0 (the top bit of
the byte after the NAL header) that follows a slice. A file cut short (a killed process) may end in
a torn NAL unit: the index cannot tell that from a whole one, so callers that care (recovery)
check the last frames by decoding them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: bytes scanned per step (one boolean array of this size at a time)
BLOCK_BYTES = 1 << 24

NAL_SLICE, NAL_IDR, NAL_SEI, NAL_SPS, NAL_PPS, NAL_AUD = 1, 5, 6, 7, 8, 9
#: NAL types that open a new access unit when they follow a slice
_AU_PREFIX_TYPES = np.array([NAL_SEI, NAL_SPS, NAL_PPS, NAL_AUD, 14, 15, 16, 17, 18])


@dataclass(frozen=True, slots=True)
class AnnexBIndex:
    """NAL units in file order (`nal_*` arrays, one entry each) and frames (`au_*`, one per access
    unit holding a slice). `nal_start` is the first byte after the start code, `nal_end` the byte
    after the NAL unit (the next start code, or the end of the file)."""

    code_start: np.ndarray  # int64: where each NAL unit's start code begins
    nal_start: np.ndarray  # int64
    nal_end: np.ndarray  # int64
    nal_type: np.ndarray  # uint8
    au_first_nal: np.ndarray  # int64: index of each frame's first NAL unit
    au_end_nal: np.ndarray  # int64: one past each frame's last NAL unit
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


def map_file(path: Path) -> np.ndarray:
    """The file's bytes as a read-only uint8 array (memory-mapped; empty for an empty file)."""
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.memmap(path, dtype=np.uint8, mode="r")


def find_start_codes(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code_start, nal_start) of every start code: code_start includes a leading 00 of a 4-byte
    code; nal_start is the first byte of the NAL header."""
    n = int(data.size)
    ones: list[np.ndarray] = []
    for block in range(2, n, BLOCK_BYTES):
        stop = min(block + BLOCK_BYTES, n)
        chunk = data[block:stop]
        cand = np.flatnonzero(chunk == 1) + block
        if cand.size:
            cand = cand[(data[cand - 1] == 0) & (data[cand - 2] == 0)]
            ones.append(cand)
    pos = np.concatenate(ones) if ones else np.zeros(0, dtype=np.int64)
    pos = pos.astype(np.int64, copy=False)
    pos = pos[pos + 1 < n]  # a start code with no NAL header after it holds nothing
    code_start = pos - 2
    four = code_start > 0
    four[four] = data[code_start[four] - 1] == 0
    code_start = code_start - four
    return code_start, pos + 1


def index_annexb(data: np.ndarray) -> AnnexBIndex:
    """Index an Annex-B stream held in `data` (uint8; a memory map is fine)."""
    n = int(data.size)
    code_start, nal_start = find_start_codes(data)
    nal_end = np.empty_like(nal_start)
    nal_end[:-1] = code_start[1:]
    if nal_end.size:
        nal_end[-1] = n
    header = data[nal_start] if nal_start.size else np.zeros(0, dtype=np.uint8)
    forbidden = (header & 0x80) != 0
    nal_type = (header & 0x1F).astype(np.uint8)
    is_vcl = ((nal_type == NAL_SLICE) | (nal_type == NAL_IDR)) & ~forbidden
    has_next = nal_start + 1 < n
    first_mb0 = np.zeros(nal_start.size, dtype=bool)
    first_mb0[has_next] = (data[nal_start[has_next] + 1] & 0x80) != 0
    opener = (np.isin(nal_type, _AU_PREFIX_TYPES) & ~forbidden) | (is_vcl & first_mb0)
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
    vcl_count = np.add.reduceat(is_vcl.astype(np.int64), au_first)
    idr_count = np.add.reduceat((nal_type == NAL_IDR).astype(np.int64), au_first)
    keep = vcl_count > 0  # an access unit without a slice (headers at the very end) is no frame
    return AnnexBIndex(
        code_start=code_start,
        nal_start=nal_start,
        nal_end=nal_end,
        nal_type=nal_type,
        au_first_nal=au_first[keep].astype(np.int64),
        au_end_nal=au_end[keep].astype(np.int64),
        au_keyframe=(idr_count > 0)[keep],
        size=n,
    )


def index_file(path: Path) -> AnnexBIndex:
    return index_annexb(map_file(path))
