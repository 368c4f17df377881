"""A recording's frames counted without decoding (a .h264's start-code index, an MP4's sample
tables), and a few of them decoded: the keyframes of evenly spread groups of pictures plus the
whole last group. What `verify` uses on recordings too long to decode every frame."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from camera_core.recording.annexb import AnnexBIndex, ByteSource, index_source
from camera_core.recording.mp4_reader import mp4_keyframes, mp4_pts_us
from camera_core.util.memory import release_free_memory


def _frame_ranges(index: AnnexBIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return index.code_start[index.au_first_nal], index.nal_end[index.au_end_nal - 1], index.keyframes


@dataclass(slots=True)
class FrameSampler:
    path: Path
    frames: int
    #: every frame's pts in µs (MP4 only)
    pts_us: np.ndarray | None
    #: .h264 only: each frame's bytes [start, stop) and the keyframes (the rest of the index is let go)
    au_start: np.ndarray | None = None
    au_stop: np.ndarray | None = None
    keyframes: np.ndarray | None = None

    @classmethod
    def open(cls, path: Path) -> FrameSampler:
        if path.suffix == ".h264":
            with ByteSource(path) as src:
                index = index_source(src)
            sampler = cls(path, index.frames, None, *_frame_ranges(index))
            del index
            release_free_memory()
            return sampler
        pts = mp4_pts_us(path)
        return cls(path, int(pts.size), pts)

    def sample_codes(self, keyframes: int, limit: int) -> Iterator[tuple[int, np.ndarray]]:
        """(frame index, gray image) of the sampled frames below `limit`, in order."""
        if self.au_start is not None:
            yield from self._sample_h264(keyframes, limit)
        else:
            yield from self._sample_mp4(keyframes, limit)

    def _sample_h264(self, count: int, limit: int) -> Iterator[tuple[int, np.ndarray]]:
        import av

        assert self.keyframes is not None and self.au_start is not None and self.au_stop is not None
        starts, stops = self.au_start, self.au_stop
        keys = self.keyframes
        keys = keys[keys < limit]
        if keys.size == 0:
            return
        last = int(keys[-1])
        chosen = np.unique(keys[np.linspace(0, keys.size - 1, min(count, keys.size)).astype(np.int64)])
        with ByteSource(self.path) as src:
            for k in chosen.tolist():
                if k == last:
                    break
                decoder = av.CodecContext.create("h264", "r")
                frames = decoder.decode(av.Packet(src.read(int(starts[k]), int(stops[k])).tobytes()))
                frames += decoder.decode(None)
                if frames:
                    yield k, frames[0].to_ndarray(format="gray")
            decoder = av.CodecContext.create("h264", "r")
            i = last
            for k in range(last, limit):
                for frame in decoder.decode(av.Packet(src.read(int(starts[k]), int(stops[k])).tobytes())):
                    yield i, frame.to_ndarray(format="gray")
                    i += 1
            for frame in decoder.decode(None):
                if i < limit:
                    yield i, frame.to_ndarray(format="gray")
                i += 1

    def _sample_mp4(self, count: int, limit: int) -> Iterator[tuple[int, np.ndarray]]:
        import av

        assert self.pts_us is not None
        pts = self.pts_us[:limit]
        keys = mp4_keyframes(self.path)
        keys = keys[keys < limit]
        if keys.size == 0:
            return
        last = int(keys[-1])
        chosen = np.unique(keys[np.linspace(0, keys.size - 1, min(count, keys.size)).astype(np.int64)])
        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            tb = stream.time_base
            if tb is None:
                return
            for k in [*(c for c in chosen.tolist() if c != last), last]:
                container.seek(int(pts[k] / 1e6 / tb), stream=stream, backward=True, any_frame=False)
                for frame in container.decode(stream):
                    if frame.pts is None:
                        continue
                    i = int(np.searchsorted(pts, round(frame.pts * tb * 1_000_000)))
                    if i >= limit:
                        break
                    yield i, frame.to_ndarray(format="gray")
                    if k != last:
                        break
