"""The slave protocol's wire format: command lines parsed into typed requests (with clear errors),
and the reply, event and preview-frame messages the slave writes back. No I/O here."""

from __future__ import annotations

import json
import math
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from camera_core.timing import checked_start_time, is_finite_number

# Error codes (SPEC §6). Exceptions of camera_core carry theirs in `code`.
INVALID_JSON = "INVALID_JSON"
UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
INVALID_ARGUMENT = "INVALID_ARGUMENT"
LINE_TOO_LONG = "LINE_TOO_LONG"
INTERNAL_ERROR = "INTERNAL_ERROR"

#: Longest accepted id string; ids are echoed, so they must stay small.
MAX_ID_LENGTH = 256
#: Largest magnitude of a numeric id (a 64-bit integer's range; beyond it clients disagree).
MAX_ID_NUMBER = 2**63


class ProtocolError(Exception):
    """A command line that cannot be run; answered with status `error` and `code`."""

    def __init__(self, code: str, message: str, request_id: str | int | float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


# -- typed commands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartRecording:
    camera_id: int | None = None
    at: float | None = None
    #: Seconds of frames before the start to begin with (pre-trigger); None: the setting.
    pretrigger_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class StopRecording:
    camera_id: int | None = None


@dataclass(frozen=True, slots=True)
class TakeSnapshot:
    camera_id: int | None = None


@dataclass(frozen=True, slots=True)
class GetStatus:
    camera_id: int | None = None


@dataclass(frozen=True, slots=True)
class TogglePreview:
    camera_id: int | None = None
    #: None toggles each selected camera's stream.
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class Subscribe:
    enabled: bool = True
    #: Event names to receive; None means all.
    events: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Quit:
    pass


@dataclass(frozen=True, slots=True)
class SelfTest:
    #: Clip length; None: the self_test_seconds setting.
    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class SetControls:
    """Exposure, gain, white balance or their lock; None keeps a setting, 0 or [] makes it automatic."""

    camera_id: int | None = None
    exposure_us: float | None = None
    analogue_gain: float | None = None
    colour_gains: tuple[float, ...] | None = None
    lock_after_frames: int | None = None


Command = (
    StartRecording
    | StopRecording
    | TakeSnapshot
    | GetStatus
    | TogglePreview
    | Subscribe
    | Quit
    | SelfTest
    | SetControls
)


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed command line. `has_id` tells an absent id from an id of null."""

    command: Command
    id: str | int | float | None = None
    has_id: bool = False


# -- argument validation ----------------------------------------------------------------------------


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = 2, 40, 40, 4, 4


def _show(value: Any) -> str:
    """A short rendering of a bad value for an error message (bounded for huge or deep values)."""
    return _SHORT.repr(value)


def _camera_id(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"'{name}' must be a camera number (a whole number >= 0), got {_show(value)}")
    return value


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"'{name}' must be true or false, got {_show(value)}")
    return value


def _unix_time(name: str, value: Any) -> float:
    return checked_start_time(value, name, _show(value))


def _seconds(name: str, value: Any) -> float:
    if not is_finite_number(value) or not 0.2 <= value <= 600:
        raise ValueError(f"'{name}' must be a number of seconds from 0.2 to 600, got {_show(value)}")
    return float(value)


def _pretrigger(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 60:
        raise ValueError(f"'{name}' must be a number of seconds from 0 to 60, got {_show(value)}")
    return float(value)


def _event_names(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or len(value) > 64:
        raise ValueError(f"'{name}' must be a list of event names, got {_show(value)}")
    return tuple(value)


def _number_up_to(limit: float) -> Callable[[str, Any], float]:
    def check(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= limit:
            raise ValueError(f"'{name}' must be a number from 0 (automatic) to {limit:g}, got {_show(value)}")
        return float(value)

    return check


def _colour_gains(name: str, value: Any) -> tuple[float, ...]:
    ok = isinstance(value, list) and len(value) in (0, 2)
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 32 for v in value)
    if not ok:
        raise ValueError(
            f"'{name}' must be [red, blue] gains above 0 and up to 32, or [] (automatic), got {_show(value)}"
        )
    return tuple(float(v) for v in value)


def _frame_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise ValueError(f"'{name}' must be a whole number of frames from 0 (never) to 1000000, got {_show(value)}")
    return value


_Validator = Callable[[str, Any], Any]

#: command name -> (class, {argument: validator})
COMMANDS: dict[str, tuple[type, dict[str, _Validator]]] = {
    "start_recording": (
        StartRecording,
        {"camera_id": _camera_id, "at": _unix_time, "pretrigger_seconds": _pretrigger},
    ),
    "stop_recording": (StopRecording, {"camera_id": _camera_id}),
    "take_snapshot": (TakeSnapshot, {"camera_id": _camera_id}),
    "get_status": (GetStatus, {"camera_id": _camera_id}),
    "toggle_preview": (TogglePreview, {"camera_id": _camera_id, "enabled": _boolean}),
    "subscribe": (Subscribe, {"enabled": _boolean, "events": _event_names}),
    "quit": (Quit, {}),
    "self_test": (SelfTest, {"seconds": _seconds}),
    "set_controls": (
        SetControls,
        {
            "camera_id": _camera_id,
            "exposure_us": _number_up_to(1e7),
            "analogue_gain": _number_up_to(64),
            "colour_gains": _colour_gains,
            "lock_after_frames": _frame_count,
        },
    ),
}

#: success status of each command
SUCCESS_STATUS: dict[str, str] = {
    "start_recording": "recording_started",
    "stop_recording": "recording_stopped",
    "take_snapshot": "snapshot_taken",
    "get_status": "status_report",
    "toggle_preview": "preview_toggled",
    "subscribe": "subscribed",
    "quit": "shutdown",
    "self_test": "self_test_report",
    "set_controls": "controls_set",
}

COMMAND_NAMES: dict[type, str] = {cls: name for name, (cls, _) in COMMANDS.items()}


def command_name(command: Command) -> str:
    return COMMAND_NAMES[type(command)]


def _request_id(obj: dict[str, Any]) -> tuple[str | int | float | None, bool]:
    if "id" not in obj:
        return None, False
    value = obj["id"]
    ok = value is None or (isinstance(value, str) and len(value) <= MAX_ID_LENGTH)
    ok = ok or (is_finite_number(value) and abs(value) <= MAX_ID_NUMBER)
    if not ok:
        raise ProtocolError(
            INVALID_ARGUMENT,
            f"'id' must be a string of at most {MAX_ID_LENGTH} characters or a number within ±2^63, got {_show(value)}",
        )
    return value, True


def parse_line(line: bytes | str) -> Request:
    """One command line -> Request, or ProtocolError saying what was wrong and what is allowed."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError as exc:
        raise ProtocolError(INVALID_JSON, f"the line is not UTF-8 text (byte {exc.start})") from None
    try:
        obj = json.loads(text)
    except RecursionError:
        raise ProtocolError(INVALID_JSON, "the JSON is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ProtocolError(INVALID_JSON, f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise ProtocolError(INVALID_JSON, f"not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(
            INVALID_JSON, f'a command must be a JSON object like {{"command": "get_status"}}, got a {_kind(obj)}'
        )
    request_id, has_id = _request_id(obj)
    name = obj.get("command")
    if name is None:
        raise ProtocolError(INVALID_ARGUMENT, f"'command' is missing; commands: {', '.join(COMMANDS)}", request_id)
    if not isinstance(name, str):
        raise ProtocolError(INVALID_ARGUMENT, f"'command' must be a string, got a {_kind(name)}", request_id)
    spec = COMMANDS.get(name)
    if spec is None:
        raise ProtocolError(
            UNKNOWN_COMMAND, f"unknown command {name[:60]!r}; commands: {', '.join(COMMANDS)}", request_id
        )
    cls, validators = spec
    args: dict[str, Any] = {}
    for key, value in obj.items():
        if key in ("command", "id"):
            continue
        validator = validators.get(key)
        if validator is None:
            allowed = ", ".join(validators) or "none"
            raise ProtocolError(
                INVALID_ARGUMENT, f"{name} takes no argument {key[:60]!r}; arguments: {allowed}", request_id
            )
        if value is None:
            continue
        try:
            args[key] = validator(key, value)
        except (ValueError, RecursionError) as exc:
            raise ProtocolError(INVALID_ARGUMENT, f"{name}: {exc}", request_id) from None
    return Request(cls(**args), request_id, has_id)


def _kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number", dict: "object"}.get(
        type(value), "null"
    )


# -- messages the slave writes ------------------------------------------------------------------------


def timestamp_iso() -> str:
    """Local time with its UTC offset, microseconds: 2026-01-31T12:00:00.123456+01:00."""
    return datetime.now().astimezone().isoformat(timespec="microseconds")


def status_message(
    status: str, data: dict[str, Any], request_id: str | int | float | None = None, has_id: bool = False
) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "status", "status": status, "timestamp": timestamp_iso(), "data": data}
    if has_id:
        message["id"] = request_id
    return message


def error_message(
    code: str, text: str, request_id: str | int | float | None = None, has_id: bool = False
) -> dict[str, Any]:
    return status_message("error", {"code": code, "message": text}, request_id, has_id)


def event_message(name: str, data: dict[str, Any], time_unix: float) -> dict[str, Any]:
    return {
        "type": "event",
        "event": name,
        "timestamp": datetime.fromtimestamp(time_unix).astimezone().isoformat(timespec="microseconds"),
        "data": data,
    }


def preview_message(
    camera_id: int, frame_number: int, sensor_timestamp_ns: int, width: int, height: int, jpeg_base64: str
) -> dict[str, Any]:
    data = {
        "camera_id": camera_id,
        "frame_number": frame_number,
        "sensor_timestamp_ns": sensor_timestamp_ns,
        "width": width,
        "height": height,
        "format": "jpeg",
        "jpeg_base64": jpeg_base64,
    }
    return status_message("preview_frame", data)


def _json_default(value: Any) -> Any:
    if hasattr(value, "__fspath__"):
        return str(value)
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def encode_line(message: dict[str, Any]) -> bytes:
    """A message as one protocol line (compact JSON, newline-terminated; non-finite numbers as null)."""
    return encode_json(message).encode("utf-8") + b"\n"


def encode_json(value: Any) -> str:
    """Compact JSON text of a value as protocol lines write it (non-finite numbers as null)."""
    try:
        return json.dumps(value, separators=(",", ":"), default=_json_default, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), separators=(",", ":"), default=_json_default)


def status_line(
    status: str,
    data_json: str,
    more_data: dict[str, Any],
    request_id: str | int | float | None = None,
    has_id: bool = False,
) -> bytes:
    """The line of `status_message(status, data)`, where data is the JSON object `data_json` (text
    encoded before, e.g. by the status snapshot) with the keys of `more_data` added after its own."""
    parts = ['{"type":"status","status":', encode_json(status), ',"timestamp":', encode_json(timestamp_iso())]
    parts += [',"data":', data_json[:-1]]
    for i, (key, value) in enumerate(more_data.items()):
        parts += ["," if i or data_json != "{}" else "", encode_json(key), ":", encode_json(value)]
    parts.append("}")
    if has_id:
        parts += [',"id":', encode_json(request_id)]
    parts.append("}\n")
    return "".join(parts).encode("utf-8")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
