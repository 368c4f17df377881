"""The protocol pieces without a process: line parsing and its error codes, the bounded line reader,
the writer's ordering and latest-only previews, and docs/protocol.md in step with schema.json."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from concurrent.futures import Future

import pytest
from slave_support import ROOT

from camera_core.commands import protocol
from camera_core.commands.lines import LineTooLong, read_lines
from camera_core.commands.protocol import (
    ProtocolError,
    StartRecording,
    TogglePreview,
    parse_line,
    status_message,
)
from camera_core.commands.schema import ERROR_CODES, build, load
from camera_core.commands.writer import ProtocolWriter
from camera_core.errors import CameraCoreError


def test_parse_gives_typed_commands() -> None:
    at = round(time.time()) + 5.5
    request = parse_line(f'{{"command": "start_recording", "at": {at}, "camera_id": 1, "id": "x"}}')
    assert request.command == StartRecording(camera_id=1, at=at)
    assert (request.id, request.has_id) == ("x", True)
    assert parse_line('{"command": "toggle_preview", "camera_id": 0}').command == TogglePreview(0, None)


@pytest.mark.parametrize(
    ("line", "code", "words"),
    [
        ('{"command": "start_recording", "at": NaN}', "INVALID_ARGUMENT", "Unix time"),
        ('{"command": "start_recording", "camera_id": true}', "INVALID_ARGUMENT", "camera number"),
        ('{"command": "get_status", "camera_id": -1}', "INVALID_ARGUMENT", "camera number"),
        ('{"command": "quit", "now": 1}', "INVALID_ARGUMENT", "arguments: none"),
        ('{"command": "get_status", "id": 1, "x": 1' + "0" * 5000 + "}", "INVALID_JSON", "not valid JSON"),
        ("[" * 100_000, "INVALID_JSON", "nested too deeply"),
        ('{"command": "get_status", "id": ' + "9" * 400 + "}", "INVALID_ARGUMENT", "'id' must be"),
        ('{"command": "quit", "id": ' + "9" * 4000 + "}", "INVALID_ARGUMENT", "'id' must be"),
        ('{"command": "start_recording", "at": ' + "9" * 400 + "}", "INVALID_ARGUMENT", "Unix time"),
        ('{"command": "start_recording", "at": 1e300}', "INVALID_ARGUMENT", "days ahead of"),
        ('{"command": "start_recording", "at": 1e18}', "INVALID_ARGUMENT", "within 24 hours of now"),
        ('{"command": "start_recording", "at": 1000}', "INVALID_ARGUMENT", "days behind"),
        ('{"command": "self_test", "seconds": ' + "9" * 400 + "}", "INVALID_ARGUMENT", "seconds from 0.2"),
    ],
)
def test_parse_errors_say_what_is_wrong(line: str, code: str, words: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_line(line)
    assert err.value.code == code and words in err.value.message


def test_an_overlong_line_is_skipped_without_being_kept() -> None:
    read_fd, write_fd = os.pipe()

    def feed() -> None:
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(b"first\n" + b"y" * 5_000_000 + b"\nlast")

    threading.Thread(target=feed).start()
    items = list(read_lines(read_fd, max_bytes=10_000))
    os.close(read_fd)
    assert items[0] == b"first" and items[2] == b"last"
    assert isinstance(items[1], LineTooLong) and items[1].length == 5_000_000


def test_writer_keeps_reply_order_and_previews_latest_only() -> None:
    read_fd, write_fd = os.pipe()
    writer = ProtocolWriter(write_fd)
    slow: Future[dict[str, object]] = Future()
    writer.put_reply(slow)
    fast: Future[dict[str, object]] = Future()
    fast.set_result(status_message("status_report", {}, 2, True))
    writer.put_reply(fast)
    writer.put_preview(0, b'{"frame": 1}\n')
    writer.put_preview(0, b'{"frame": 2}\n')  # replaces frame 1 before it was written
    writer.start()
    slow.set_result(status_message("recording_started", {}, 1, True))
    assert writer.drain(10)
    writer.close()
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        lines = [json.loads(line) for line in pipe]
    # The reply of the later command was ready first, yet leaves second; a preview frame may pass
    # a reply still being worked on, and only the newest frame is written.
    assert [m["id"] for m in lines if "id" in m] == [1, 2]
    assert [m for m in lines if "frame" in m] == [{"frame": 2}]
    assert writer.stats()["preview_frames_skipped"] == {"0": 1}


def test_schema_file_and_docs_are_current() -> None:
    assert load() == json.loads(json.dumps(build())), "run: python -m camera_core.commands.schema"
    doc = (ROOT / "docs" / "protocol.md").read_text()
    blocks = [json.loads(b) for b in re.findall(r"```json\n(\{\n.*?\n\})\n```", doc, re.S)]
    schemas = load()
    for group in ("commands", "replies", "events"):
        for name, schema in schemas[group].items():
            assert schema in blocks, f"docs/protocol.md lacks the schema of {group} {name}"


def test_schema_lists_every_error_code() -> None:
    def codes(cls: type[CameraCoreError]) -> set[str]:
        return {cls.code}.union(*(codes(sub) for sub in cls.__subclasses__()))

    wire = {protocol.INVALID_JSON, protocol.UNKNOWN_COMMAND, protocol.INVALID_ARGUMENT, protocol.LINE_TOO_LONG}
    assert codes(CameraCoreError) | wire <= set(ERROR_CODES)


def test_master_example_code_compiles() -> None:
    text = (ROOT / "docs" / "master_example.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    for block in blocks:
        compile(block, "docs/master_example.md", "exec")
