"""`ProcessStage`: the PyAV encoder stage run in a worker process (recording/encoder_worker.py) at a
lower priority (`encoder_process = true`, `encoder_process_nice`).

The recording thread copies each admitted I420 frame into a free slot of a shared-memory ring (a
memfd: no name in /dev/shm, gone with the last process holding it, even after a kill -9) and sends
a 16-byte message; encoded packets come back over a pipe, in order, and are paired with the frames'
metadata exactly as in `PyAVStage` (one packet per frame, no B-frames). Packets are read when the
next frame is handed over, when a slot is needed, and at a flush, so the timing rows of a frame are
written one frame later than in-process, never out of order.

Nothing waits forever: a worker that does not answer within `REPLY_TIMEOUT_S` is killed; a worker
that died (killed, crashed) fails the take being written (it halts with what its files hold and
the camera reports `recording_halted`), and the next frame starts a new worker.
"""

from __future__ import annotations

import fcntl
import json
import logging
import mmap
import os
import select
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np

from camera_core.frames.frame import Frame
from camera_core.recording.encoder_worker import (
    CONTROL,
    KIND_FAILED,
    KIND_FLUSHED,
    KIND_FREED,
    KIND_PACKET,
    KIND_READY,
    OP_FLUSH,
    OP_FRAME,
    REPLY,
    frame_bytes,
    write_all,
)
from camera_core.recording.encoders import EncoderStage
from camera_core.recording.frames import EncodedFrame, EncodedFrameSink, FrameMeta
from camera_core.recording.libx264 import H264Params, to_i420

log = logging.getLogger(__name__)

#: Frames the shared ring holds at most. Frames waiting for the encoder wait in the pipeline's own
#: queue (`encoder_queue_frames`); the ring only keeps the worker fed, and slots are reused lowest
#: first, so only as many pages are ever touched as frames were in the ring at once.
MAX_RING_SLOTS = 8
#: How long a worker may take to answer (start-up, a slot freed, a flush) before it is killed.
REPLY_TIMEOUT_S = 20.0
#: How long a worker may take to end after it was told to.
EXIT_TIMEOUT_S = 5.0
#: Reply pipe size asked for (Linux F_SETPIPE_SZ), so the worker rarely waits to hand over a packet.
PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031


def worker_environment() -> dict[str, str]:
    """This environment, with the folder camera_core was imported from first on PYTHONPATH, so the
    worker finds the same package wherever the program was started from (a checkout, any cwd)."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


class EncoderProcessError(RuntimeError):
    """The encoder worker process failed, died or stopped answering."""


class ProcessStage(EncoderStage):
    """libx264 in a niced worker process; see the module docstring. Same interface as `PyAVStage`;
    `encode`, `flush` and `discard` run on the pipeline's recording thread, `close` after it ended."""

    def __init__(
        self, params: H264Params, *, nice: int = 10, policy: str = "nice", slots: int = MAX_RING_SLOTS
    ) -> None:
        if not hasattr(os, "memfd_create"):
            raise EncoderProcessError("encoder_process needs Linux (memfd_create); set encoder_process = false")
        self.params = params
        self.nice = nice
        self.policy = policy
        self.slots = max(1, min(slots, MAX_RING_SLOTS))
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctl = self._out = -1
        self._ring: mmap.mmap | None = None
        self._frames: np.ndarray | None = None
        self._free: list[int] = []
        self._metas: deque[FrameMeta] = deque()
        self._buffer = bytearray()
        self._pts = 0
        self._open = False  # a codec is open in the worker (frames since the last flush)
        self._ready = False  # the worker has said it runs
        self.started = 0  # workers started (tests, status)

    @property
    def label(self) -> str:
        how = f"nice {self.nice}" if self.policy == "nice" else f"SCHED_{self.policy.upper()}, nice {self.nice}"
        return f"{self.params.label}, worker process at {how}"

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    # -- EncoderStage ----------------------------------------------------------------------------

    def attach(self, pipeline: EncodedFrameSink) -> None:
        """Start the worker with the pipeline: it loads PyAV while the cameras start, so a take's
        first frames never wait for it (under load that can take seconds: frames not recorded)."""
        self._start()

    def prepare(self) -> None:
        """Before a take (or the pre-trigger buffer) begins (no frame is being encoded): a new
        worker if the last one died, and wait until it is ready, so the take's first frames never
        pile up behind its start-up (seconds on a loaded machine: frames not recorded)."""
        if self._proc is None:
            self._start()
        while not self._ready:
            self._read([], block=True)

    def encode(self, frame: Frame, meta: FrameMeta) -> Iterator[EncodedFrame]:
        if self._proc is None:
            self._start()
        if not self._open:
            self._open, self._pts = True, 0
        ready: list[EncodedFrame] = []
        while not self._free:
            self._read(ready, block=True)
        slot = self._free.pop()
        assert self._frames is not None
        np.copyto(self._frames[slot], to_i420(frame.image, frame.pixel_format))  # no GIL held while copying
        self._metas.append(meta)
        self._send(CONTROL.pack(OP_FRAME, meta.split is not None, slot, self._pts))
        self._pts += 1
        self._read(ready, block=False)
        yield from ready

    def flush(self) -> Iterator[EncodedFrame]:
        """Every frame still inside the worker; it keeps running, and the next frame opens a new
        codec there (a keyframe)."""
        if self._proc is None or not self._open:
            return
        self._open = False
        self._send(CONTROL.pack(OP_FLUSH, 0, 0, 0))
        ready: list[EncodedFrame] = []
        while not self._read(ready, block=True, until_flushed=True):
            pass
        self._metas.clear()
        yield from ready

    def discard(self) -> None:
        """Drop the worker and the frames inside it (after a failure); the next frame starts a new one."""
        self._metas.clear()
        self._open = False
        self._end(kill=True)

    def close(self) -> None:
        """End the worker (the pipeline is closed, its recording thread ended); nothing is left behind."""
        self._end(kill=False)

    # -- the worker ------------------------------------------------------------------------------

    def _start(self) -> None:
        size = frame_bytes(self.params.width, self.params.height)
        shm = os.memfd_create(f"camera_core-encoder-{self.params.width}x{self.params.height}", os.MFD_CLOEXEC)
        ctl_r, ctl_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            os.ftruncate(shm, size * self.slots)
            try:
                fcntl.fcntl(out_w, _F_SETPIPE_SZ, PIPE_BYTES)
            except OSError:
                pass  # the default size only makes the worker wait for the reader a little more
            params = asdict(self.params) | {"worker_nice": 0}  # the whole worker runs niced
            config: dict[str, object] = {
                "ctl_fd": ctl_r,
                "out_fd": out_w,
                "shm_fd": shm,
                "slots": self.slots,
                "nice": self.nice,
            }
            config["policy"] = self.policy
            config["params"] = params
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "camera_core.recording.encoder_worker", json.dumps(config)],
                pass_fds=(ctl_r, out_w, shm),
                stdin=subprocess.DEVNULL,
                close_fds=True,
                env=worker_environment(),
            )
            self._ring = mmap.mmap(shm, size * self.slots)
        finally:
            for fd in (ctl_r, out_w, shm):
                os.close(fd)
        self._ctl, self._out = ctl_w, out_r
        os.set_blocking(out_r, False)
        self._frames = np.frombuffer(self._ring, np.uint8).reshape(
            self.slots, self.params.height * 3 // 2, self.params.width
        )
        self._free = list(range(self.slots - 1, -1, -1))  # pop() gives the lowest slot first
        self._buffer.clear()
        self._metas.clear()
        self.started += 1
        log.info("encoder worker process %d started (nice %d, %d slots)", self._proc.pid, self.nice, self.slots)

    def _send(self, message: bytes) -> None:
        try:
            write_all(self._ctl, message)
        except OSError as exc:
            raise self._died(f"could not be written to ({exc})") from None

    def _read(self, ready: list[EncodedFrame], *, block: bool, until_flushed: bool = False) -> bool:
        """Read what the worker has sent (waiting for something when `block`); packets go to `ready`
        with their metadata. True when a `flushed` record came in."""
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while True:
            try:
                chunk = os.read(self._out, PIPE_BYTES)
            except BlockingIOError:
                chunk = None
            if chunk == b"":
                raise self._died("ended")
            if chunk:
                self._buffer += chunk
                flushed = self._parse(ready)
                if flushed or not block or not until_flushed:
                    return flushed
                continue
            if not block:
                return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._end(kill=True)
                raise EncoderProcessError(f"the encoder worker process did not answer within {REPLY_TIMEOUT_S:g} s")
            select.select([self._out], [], [], min(remaining, 1.0))

    def _parse(self, ready: list[EncodedFrame]) -> bool:
        buffer, at, flushed = self._buffer, 0, False
        while len(buffer) - at >= REPLY.size:
            kind, flag, value = REPLY.unpack_from(buffer, at)
            payload = value if kind in (KIND_PACKET, KIND_FAILED) else 0
            if len(buffer) - at - REPLY.size < payload:
                break
            body = bytes(buffer[at + REPLY.size : at + REPLY.size + payload])
            at += REPLY.size + payload
            if kind == KIND_PACKET:
                if not self._metas:
                    raise EncoderProcessError("the encoder worker sent more packets than frames")
                ready.append(EncodedFrame(body, bool(flag), self._metas.popleft()))
            elif kind == KIND_FREED:
                self._free.append(value)
                self._free.sort(reverse=True)
            elif kind == KIND_FLUSHED:
                flushed = True
            elif kind == KIND_FAILED:
                del buffer[:at]
                self._end(kill=True)
                raise EncoderProcessError(f"the encoder worker process failed: {body.decode(errors='replace')}")
            elif kind == KIND_READY:
                self._ready = True
            else:
                raise EncoderProcessError(f"unknown record {kind} from the encoder worker")
        del buffer[:at]
        return flushed

    def _died(self, how: str) -> EncoderProcessError:
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        self._end(kill=True)
        text = f"exit code {code}" if code is not None and code >= 0 else f"signal {-code}" if code else "no exit code"
        return EncoderProcessError(f"the encoder worker process {how} ({text}); frames inside it are lost")

    def _end(self, *, kill: bool) -> None:
        proc, self._proc = self._proc, None
        for fd in (self._ctl, self._out):
            if fd >= 0:
                os.close(fd)  # the worker reads the end of its control pipe and exits
        self._ctl = self._out = -1
        if proc is not None:
            if kill:
                proc.kill()
            try:
                proc.wait(EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.error("encoder worker process %d did not end; killing it", proc.pid)
                proc.kill()
                proc.wait(EXIT_TIMEOUT_S)
        self._frames = None
        if self._ring is not None:
            try:
                self._ring.close()
            except BufferError:  # a view still exported: freed with it
                pass
            self._ring = None
        self._free = []
        self._open = self._ready = False
