"""The pre-trigger buffer: the last seconds of encoded frames, kept in memory from a keyframe on,
each with its metadata (its future timing row), so a take can begin before its start command.

Frames are kept as whole GOPs (a keyframe and the frames after it). The oldest GOP is dropped as
soon as the GOPs after it still cover the wanted seconds, and whenever the bytes held pass the
memory limit (the newest GOP is always kept)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from camera_core.recording.frames import EncodedFrame


@dataclass(slots=True)
class _Gop:
    frames: list[EncodedFrame] = field(default_factory=list)
    bytes: int = 0

    @property
    def first_ns(self) -> int:
        return self.frames[0].meta.sensor_ns


class PretriggerBuffer:
    """Encoded frames of the last `seconds`, at most `max_bytes` of them (recording thread only,
    except `stats`, which reads counters)."""

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._span_ns = int(seconds * 1e9)
        self._gops: deque[_Gop] = deque()
        self.bytes = 0
        self.frames = 0
        self.dropped_gops = 0
        #: Seconds of frames held (updated by the recording thread; read by status).
        self.seconds_held = 0.0

    def append(self, frame: EncodedFrame) -> None:
        if frame.keyframe:
            self._gops.append(_Gop())
        elif not self._gops:
            return  # the buffer begins at a keyframe
        gop = self._gops[-1]
        gop.frames.append(frame)
        gop.bytes += len(frame.data)
        self.bytes += len(frame.data)
        self.frames += 1
        self._trim(frame.meta.sensor_ns)
        self.seconds_held = (frame.meta.sensor_ns - self._gops[0].first_ns) / 1e9 + frame.meta.frame_duration_us / 1e6

    def _trim(self, newest_ns: int) -> None:
        gops = self._gops
        while len(gops) > 1 and (gops[1].first_ns <= newest_ns - self._span_ns or self.bytes > self.max_bytes):
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        gop = self._gops.popleft()
        self.bytes -= gop.bytes
        self.frames -= len(gop.frames)
        self.dropped_gops += 1

    def take_from(self, cut_ns: int) -> list[EncodedFrame]:
        """Every frame from the newest keyframe at or before `cut_ns` (or the oldest one held), and
        empty the buffer."""
        gops = self._gops
        while len(gops) > 1 and gops[1].first_ns <= cut_ns:
            gops.popleft()
        frames = [f for gop in gops for f in gop.frames]
        self.clear()
        return frames

    def clear(self) -> None:
        self._gops.clear()
        self.bytes = self.frames = 0
        self.seconds_held = 0.0

    def stats(self) -> dict[str, object]:
        return {
            "pretrigger_seconds": self.seconds,
            "pretrigger_bytes": self.bytes,
            "pretrigger_frames": self.frames,
            "pretrigger_seconds_held": round(self.seconds_held, 3),
        }
