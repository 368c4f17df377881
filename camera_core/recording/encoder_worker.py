"""The encoder worker process (`encoder_process = true`): libx264 through PyAV in a child process at
a lower priority, so encoding never competes with the recorder's own threads for the GIL and yields
the CPU to the threads that answer commands.

Run by recording/encoder_process.py as `python -m camera_core.recording.encoder_worker ARGS_JSON`,
with three inherited file descriptors:
- a shared-memory file (memfd) of `slots` I420 frames, written by the parent;
- the control pipe (parent -> child): fixed-size messages (`CONTROL`): encode slot N with pts P
  (as a keyframe or not), flush, quit;
- the reply pipe (child -> parent): records of a header (`REPLY`) and a payload: encoded packets in
  order, "slot N is free again", "flushed", "ready", or the error that ended the worker.

The worker ends on `quit`, at the end of the control pipe (the parent is gone), or on an error
(reported first). It ignores SIGINT and SIGTERM: a Ctrl+C or a service stop reaches the whole
process group, and the parent, which is told too, flushes and ends the worker itself.
"""

from __future__ import annotations

import json
import mmap
import os
import signal
import struct
import sys

#: Control message: op, keyframe flag, slot, pts.
CONTROL = struct.Struct("<BBxxIq")
#: Reply record header: kind, keyframe flag, then the payload's length (or the slot freed).
REPLY = struct.Struct("<BBxxI")

OP_FRAME, OP_FLUSH, OP_QUIT = 1, 2, 3
#: Scheduling policies of the worker (`encoder_process_policy`): SCHED_OTHER at the nice value;
#: SCHED_BATCH (never preempts on waking); SCHED_IDLE (runs only when nothing else wants the CPU).
POLICIES = {"nice": 0, "batch": 3, "idle": 5}
KIND_READY, KIND_PACKET, KIND_FREED, KIND_FLUSHED, KIND_FAILED = 1, 2, 3, 4, 5


def frame_bytes(width: int, height: int) -> int:
    """Bytes of one I420 frame in the shared ring."""
    return width * height * 3 // 2


def read_exactly(fd: int, size: int) -> bytes:
    """`size` bytes from `fd`, or fewer at its end."""
    out = b""
    while len(out) < size:
        chunk = os.read(fd, size - len(out))
        if not chunk:
            break
        out += chunk
    return out


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def packet_record(data: bytes, keyframe: bool) -> bytes:
    return REPLY.pack(KIND_PACKET, keyframe, len(data)) + data


def serve(config: dict[str, object]) -> int:
    """The worker's loop; see the module docstring."""
    import av
    import numpy as np

    from camera_core.recording.libx264 import H264Params, make_codec_context

    ctl_fd, out_fd, shm_fd = int(config["ctl_fd"]), int(config["out_fd"]), int(config["shm_fd"])  # type: ignore[call-overload]
    params = H264Params(**config["params"])  # type: ignore[arg-type]
    slots = int(config["slots"])  # type: ignore[call-overload]
    size = frame_bytes(params.width, params.height)
    ring = mmap.mmap(shm_fd, size * slots)
    frames = np.frombuffer(ring, np.uint8).reshape(slots, params.height * 3 // 2, params.width)
    ctx = None
    try:
        write_all(out_fd, REPLY.pack(KIND_READY, 0, os.getpid()))
        while True:
            message = read_exactly(ctl_fd, CONTROL.size)
            if len(message) < CONTROL.size:
                return 0  # the parent is gone or closed the pipe
            op, keyframe, slot, pts = CONTROL.unpack(message)
            if op == OP_QUIT:
                return 0
            if op == OP_FLUSH:
                records: list[bytes] = []
                if ctx is not None:
                    records = [packet_record(bytes(p), bool(p.is_keyframe)) for p in ctx.encode(None)]
                    ctx = None
                write_all(out_fd, b"".join([*records, REPLY.pack(KIND_FLUSHED, 0, 0)]))
                continue
            if ctx is None:
                ctx = make_codec_context(params)
            video = av.VideoFrame.from_numpy_buffer(frames[slot], format="yuv420p")
            video.pts = pts
            if keyframe:
                video.pict_type = av.video.frame.PictureType.I
            packets = ctx.encode(video)  # libx264 has copied the picture when this returns
            del video
            records = [packet_record(bytes(p), bool(p.is_keyframe)) for p in packets]
            records.append(REPLY.pack(KIND_FREED, 0, slot))
            write_all(out_fd, b"".join(records))
    except BrokenPipeError:
        return 0  # the parent stopped reading: it is gone
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}".encode()[:4000]
        try:
            write_all(out_fd, REPLY.pack(KIND_FAILED, 0, len(text)) + text)
        except OSError:
            pass
        return 1


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    config = json.loads(argv[1])
    nice = int(config["nice"])
    if nice > 0:
        os.nice(nice)  # before libx264 starts its threads: they inherit it
    policy = str(config.get("policy", "nice"))
    if policy in POLICIES and policy != "nice":  # before libx264 starts its threads: they inherit it
        os.sched_setscheduler(0, POLICIES[policy], os.sched_param(0))
    return serve(config)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
