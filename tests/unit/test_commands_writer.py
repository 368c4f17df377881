"""The protocol writer (commands/writer.py): preview lines written on the feed's own thread when
that cannot block or overtake anything, queued otherwise."""

from __future__ import annotations

import fcntl
import os
from concurrent.futures import Future
from pathlib import Path

from camera_core.commands.writer import ProtocolWriter


def read_available(fd: int) -> bytes:
    os.set_blocking(fd, False)
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except BlockingIOError:
        pass
    return b"".join(chunks)


def test_a_preview_line_is_written_at_once_when_nothing_waits() -> None:
    read_fd, write_fd = os.pipe()
    writer = ProtocolWriter(write_fd)  # its thread never started: only a direct write can reach the pipe
    line = b'{"preview": "' + b"x" * 30_000 + b'"}\n'
    assert writer.write_preview_now(0, line)
    assert read_available(read_fd) == line
    assert writer.stats()["preview_frames_sent"] == {"0": 1}
    os.close(read_fd)
    os.close(write_fd)


def test_a_preview_line_never_overtakes_a_queued_reply() -> None:
    read_fd, write_fd = os.pipe()
    writer = ProtocolWriter(write_fd)
    writer.put_reply(Future())  # a command still being worked on
    assert not writer.write_preview_now(0, b'{"preview": 1}\n')
    assert read_available(read_fd) == b""
    os.close(read_fd)
    os.close(write_fd)


def test_a_preview_line_is_not_written_where_it_could_block() -> None:
    read_fd, write_fd = os.pipe()
    size = fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ)
    os.write(write_fd, b"." * (size - 1000))  # the master is behind: less room than the line needs
    writer = ProtocolWriter(write_fd)
    assert not writer.write_preview_now(0, b"y" * 2000 + b"\n")
    assert read_available(read_fd) == b"." * (size - 1000)  # nothing of the line, not even a part
    assert writer.write_preview_now(0, b"z" * 2000 + b"\n")  # room again once read
    os.close(read_fd)
    os.close(write_fd)


def test_output_that_is_not_a_pipe_is_left_to_the_writer_thread(tmp_path: Path) -> None:
    with open(tmp_path / "out", "wb") as out:
        writer = ProtocolWriter(out.fileno())
        assert not writer.write_preview_now(0, b'{"preview": 1}\n')
