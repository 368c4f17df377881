"""The Annex-B indexer: frames, keyframes and NAL boundaries found from the bytes alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from camera_core.recording.annexb import index_annexb, index_file

SPS = bytes([0x67, 0x42, 0xC0, 0x0A, 0xDA])
PPS = bytes([0x68, 0xCE, 0x3C, 0x80])


def nal(kind: int, first_mb0: bool = True, body: bytes = b"\x11\x22") -> bytes:
    return bytes([0x60 | kind, 0x80 if first_mb0 else 0x40]) + body


def stream(units: list[bytes], four: bool = True) -> np.ndarray:
    code = b"\x00\x00\x00\x01" if four else b"\x00\x00\x01"
    return np.frombuffer(b"".join(code + u for u in units), dtype=np.uint8)


def test_frames_and_keyframes_with_4_byte_codes() -> None:
    data = stream([SPS, PPS, nal(5), nal(1), nal(1), SPS, PPS, nal(5), nal(1)])
    ix = index_annexb(data)
    assert ix.frames == 5
    assert ix.keyframes.tolist() == [0, 3]
    assert ix.au_byte_range(0)[0] == 0


def test_3_byte_codes_and_mixed() -> None:
    units = [SPS, PPS, nal(5), nal(1), nal(1)]
    three = index_annexb(stream(units, four=False))
    assert three.frames == 3
    mixed = np.frombuffer(
        b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS + b"\x00\x00\x01" + nal(5) + b"\x00\x00\x00\x01" + nal(1),
        dtype=np.uint8,
    )
    ix = index_annexb(mixed)
    assert ix.frames == 2
    # the NAL units end where the next start code begins (its leading 00 included)
    assert bytes(mixed[ix.nal_start[2] : ix.nal_end[2]]) == nal(5)


def test_multi_slice_frames_are_one_frame_each() -> None:
    units = [SPS, PPS, nal(5), nal(5, first_mb0=False), nal(1), nal(1, first_mb0=False), nal(1, first_mb0=False)]
    ix = index_annexb(stream(units))
    assert ix.frames == 2
    assert (ix.au_end_nal - ix.au_first_nal).tolist() == [4, 3]


def test_torn_tail_keeps_the_partial_frame_as_the_last() -> None:
    whole = stream([SPS, PPS, nal(5), nal(1, body=bytes(range(1, 200)))]).tobytes()
    ix = index_annexb(np.frombuffer(whole[:-50], dtype=np.uint8))
    assert ix.frames == 2
    cut = index_annexb(np.frombuffer(whole[: whole.rindex(b"\x00\x00\x00\x01") + 3], dtype=np.uint8))
    assert cut.frames == 1  # a start code with nothing after it adds no frame


def test_empty_file_and_garbage(tmp_path: Path) -> None:
    empty = tmp_path / "e.h264"
    empty.write_bytes(b"")
    assert index_file(empty).frames == 0
    rng = np.random.default_rng(1)
    garbage = rng.integers(2, 256, 10_000).astype(np.uint8)  # no 00 00 01 in it
    assert index_annexb(garbage).frames == 0
    assert index_annexb(np.frombuffer(b"\x00\x00\x01", dtype=np.uint8)).frames == 0


def test_a_libx264_stream(tmp_path: Path) -> None:
    from camera_core.recording.libx264 import H264Encoder, H264Params

    encoder = H264Encoder(H264Params(64, 48, 30.0))
    path = tmp_path / "clip.h264"
    with path.open("wb") as f:
        for i in range(40):
            image = np.full((48 * 3 // 2, 64), (16 + 5 * i) % 256, dtype=np.uint8)
            for packet in encoder.encode(image, "I420"):
                f.write(packet)
        for packet in encoder.flush():
            f.write(packet)
    import av

    with av.open(str(path), format="h264") as c:
        keys = [p.is_keyframe for p in c.demux(video=0) if p.size]
    ix = index_file(path)
    assert ix.frames == len(keys) == 40
    assert ix.au_keyframe.tolist() == keys
