"""The slave's output lines as typed messages: replies, events and preview frames (decoded to numpy
on first use), command lines, and matching a reply to its waiter."""

from __future__ import annotations

import base64
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import simplejpeg

from camera_core.client.errors import SlaveError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reply:
    status: str
    data: dict[str, Any]
    id: Any
    message: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status != "error"


@dataclass(frozen=True, slots=True)
class SlaveEvent:
    name: str
    data: dict[str, Any]
    timestamp: str
    slave: str = ""


@dataclass(slots=True)
class PreviewImage:
    """One streamed preview frame; `image` decodes the JPEG to a BGR numpy array on first use."""

    camera_id: int
    frame_number: int
    sensor_timestamp_ns: int
    width: int
    height: int
    jpeg: bytes
    slave: str = ""
    _image: np.ndarray | None = field(default=None, repr=False)

    @property
    def image(self) -> np.ndarray:
        if self._image is None:
            self._image = simplejpeg.decode_jpeg(self.jpeg, colorspace="BGR")
        return self._image


Message = Reply | SlaveEvent | PreviewImage


def parse_message(line: bytes | str, slave: str = "") -> Message:
    """One protocol line -> Reply, SlaveEvent or PreviewImage (ValueError if it is none of them)."""
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError(f"not a protocol message: {str(line)[:80]}")
    if obj.get("type") == "event":
        return SlaveEvent(str(obj.get("event")), obj.get("data") or {}, str(obj.get("timestamp")), slave)
    data = obj.get("data") or {}
    if obj.get("status") == "preview_frame":
        return PreviewImage(
            camera_id=int(data["camera_id"]),
            frame_number=int(data["frame_number"]),
            sensor_timestamp_ns=int(data["sensor_timestamp_ns"]),
            width=int(data["width"]),
            height=int(data["height"]),
            jpeg=base64.b64decode(data["jpeg_base64"]),
            slave=slave,
        )
    if obj.get("type") != "status":
        raise ValueError(f"not a protocol message: {str(line)[:80]}")
    return Reply(str(obj.get("status")), data, obj.get("id"), obj)


def read_message(line: bytes, slave: str) -> Message | None:
    """`parse_message`, or None (logged) for a line that is not a protocol message."""
    try:
        return parse_message(line, slave)
    except (ValueError, KeyError, TypeError):
        log.warning("slave %s wrote a line that is not a protocol message: %r", slave, line[:200])
        return None


def command_line(command: str, request_id: int, args: dict[str, Any]) -> bytes:
    """One command line with its id; None-valued arguments are left out."""
    message = {"command": command, "id": request_id, **{k: v for k, v in args.items() if v is not None}}
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


W = TypeVar("W")


def take_waiter(pending: OrderedDict[Any, W], reply: Reply) -> W | None:
    """Remove and return the waiter `reply` answers: the one of its id, or for an error without an id
    (a line the slave could not read) the oldest one."""
    if reply.id in pending:
        return pending.pop(reply.id)
    if reply.id is None and reply.status == "error" and pending:
        return pending.popitem(last=False)[1]
    return None


def reply_data(command: str, reply: Reply) -> dict[str, Any]:
    """The reply's data; SlaveError for an error reply."""
    if not reply.ok:
        raise SlaveError(command, str(reply.data.get("code")), str(reply.data.get("message")), reply.message)
    return reply.data
