"""JSON Schemas of every slave-protocol message, built here and shipped as schema.json beside this
file. `python -m camera_core.commands.schema` rewrites schema.json and prints the Markdown blocks of
docs/protocol.md; tests validate real slave output against schema.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("schema.json")
DRAFT = "https://json-schema.org/draft/2020-12/schema"

CAMERA_ID = {"type": "integer", "minimum": 0, "description": "a camera number; omitted or null = every camera"}
REQUEST_ID = {"type": ["string", "number", "null"], "maxLength": 256, "description": "echoed in the reply"}
ERROR_CODES = [
    "INVALID_JSON",
    "UNKNOWN_COMMAND",
    "INVALID_ARGUMENT",
    "ALREADY_RECORDING",
    "NOT_RECORDING",
    "CAMERA_NOT_FOUND",
    "CAMERA_BUSY",
    "NO_CAMERAS",
    "LOW_DISK_SPACE",
    "LINE_TOO_LONG",
    "OUTPUT_DIR_UNWRITABLE",
    "CAMERA_OPEN_FAILED",
    "INTERNAL_ERROR",
]


def _obj(properties: dict[str, Any], required: list[str], *, extra: bool = True, **more: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": extra, **more}


def _command(name: str, args: dict[str, Any], description: str) -> dict[str, Any]:
    props = {"command": {"const": name}, "id": REQUEST_ID, **args}
    return _obj(props, ["command"], extra=False, description=description)


COMMANDS: dict[str, dict[str, Any]] = {
    "start_recording": _command(
        "start_recording",
        {
            "camera_id": CAMERA_ID,
            "at": {
                "type": ["number", "null"],
                "exclusiveMinimum": 0,
                "description": "Unix time (s); frames before it are not recorded (synchronized start)",
            },
            "pretrigger_seconds": {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": 60,
                "description": "begin with the frames of this many seconds before the start, from the "
                "pre-trigger buffer (at most the pretrigger_seconds setting); omitted: the setting",
            },
        },
        "Start recording; reply recording_started.",
    ),
    "stop_recording": _command(
        "stop_recording", {"camera_id": CAMERA_ID}, "Stop and finalize; reply recording_stopped."
    ),
    "take_snapshot": _command("take_snapshot", {"camera_id": CAMERA_ID}, "JPEG snapshot(s); reply snapshot_taken."),
    "get_status": _command("get_status", {"camera_id": CAMERA_ID}, "Status; reply status_report. Readiness probe."),
    "toggle_preview": _command(
        "toggle_preview",
        {"camera_id": CAMERA_ID, "enabled": {"type": ["boolean", "null"], "description": "omitted: toggle"}},
        "Start/stop preview_frame lines for a camera; reply preview_toggled.",
    ),
    "subscribe": _command(
        "subscribe",
        {
            "enabled": {"type": ["boolean", "null"], "description": "false turns events off; default true"},
            "events": {"type": ["array", "null"], "items": {"type": "string"}, "description": "names; default all"},
        },
        "Turn unsolicited event lines on or off; reply subscribed.",
    ),
    "quit": _command("quit", {}, "Reply shutdown, then finalize every file and exit 0."),
    "self_test": _command(
        "self_test",
        {"seconds": {"type": ["number", "null"], "minimum": 0.2, "maximum": 600, "description": "clip length"}},
        "Record a short clip per camera, verify it (frames = rows), delete it; reply self_test_report.",
    ),
    "set_controls": _command(
        "set_controls",
        {
            "camera_id": CAMERA_ID,
            "exposure_us": {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": 1e7,
                "description": "µs; 0 = automatic",
            },
            "analogue_gain": {"type": ["number", "null"], "minimum": 0, "maximum": 64, "description": "0 = automatic"},
            "colour_gains": {
                "type": ["array", "null"],
                "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 32},
                "maxItems": 2,
                "description": "[red, blue]; [] = automatic white balance",
            },
            "lock_after_frames": {
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": 1000000,
                "description": "fix the automatic ones after this many frames from now; 0 = never",
            },
        },
        "Change exposure, gain, white balance or their lock (omitted: unchanged); reply controls_set.",
    ),
}


def _reply(status: str, data: dict[str, Any], description: str) -> dict[str, Any]:
    props = {
        "type": {"const": "status"},
        "status": {"const": status},
        "timestamp": {"type": "string", "format": "date-time"},
        "data": data,
        "id": REQUEST_ID,
    }
    return _obj(props, ["type", "status", "timestamp", "data"], extra=False, description=description)


_CAMERA_STATUS = _obj(
    {
        "camera_id": {"type": "integer"},
        "resolution": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
        "frames_captured": {"type": "integer", "minimum": 0},
        "frames_recorded": {"type": "integer", "minimum": 0},
        "hardware_drops": {"type": "integer", "minimum": 0},
        "hardware_fps": {"type": "number"},
        "collated_fps": {"type": "number"},
        "recording": {"type": "boolean"},
        "state": {"enum": ["running", "lost", "failed"], "description": "failed: its loop died (see last_error)"},
    },
    ["camera_id", "frames_captured", "frames_recorded", "hardware_drops", "hardware_fps", "collated_fps", "recording"],
)
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
_PROTOCOL_STATUS = _obj(
    {
        "replies_written": {"type": "integer"},
        "events_written": {"type": "integer"},
        "events_dropped": {"type": "integer"},
        "preview_frames_sent": _COUNTS,
        "preview_frames_skipped": _COUNTS,
        "preview_streaming": {"type": "array", "items": {"type": "integer"}},
        "subscribed": {"type": "boolean"},
    },
    ["events_dropped", "preview_frames_sent", "preview_frames_skipped", "preview_streaming", "subscribed"],
)
_RECORDING = _obj(
    {
        "camera_id": {"type": "integer"},
        "video": {"type": "string"},
        "timing_csv": {"type": ["string", "null"]},
        "frames": {"type": "integer", "minimum": 0},
        "hardware_drops": {"type": "integer", "minimum": 0},
        "encoder_overflows": {"type": "integer", "minimum": 0},
        "first_wall_clock_ns": {"type": ["integer", "null"]},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
    ["camera_id", "video", "frames", "hardware_drops", "errors"],
)

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_FLAGS_OR_NULL = {"type": ["array", "null"], "items": {"type": "string"}}
#: Host health (null where the host does not tell, e.g. no vcgencmd off a Raspberry Pi).
_HEALTH = {
    "cpu_temp_c": _NUMBER_OR_NULL,
    "throttled_raw": {"type": ["string", "null"], "description": "vcgencmd get_throttled, e.g. 0x50000"},
    "throttled_now": _FLAGS_OR_NULL,
    "throttled_since_boot": _FLAGS_OR_NULL,
    "load_1m": _NUMBER_OR_NULL,
    "load_5m": _NUMBER_OR_NULL,
    "load_15m": _NUMBER_OR_NULL,
    "memory_total_mb": _NUMBER_OR_NULL,
    "memory_available_mb": _NUMBER_OR_NULL,
    "time_unix": {"type": "number"},
}

REPLIES: dict[str, dict[str, Any]] = {
    "recording_started": _reply(
        "recording_started",
        _obj(
            {
                "cameras": {
                    "type": "array",
                    "items": _obj(
                        {
                            "camera_id": {"type": "integer"},
                            "video": {"type": "string"},
                            "timing_csv": {"type": ["string", "null"]},
                        },
                        ["camera_id", "video"],
                    ),
                },
                "at": {"type": ["number", "null"]},
            },
            ["cameras", "at"],
        ),
        "Answer to start_recording.",
    ),
    "recording_stopped": _reply(
        "recording_stopped",
        _obj({"recordings": {"type": "array", "items": _RECORDING}}, ["recordings"]),
        "Answer to stop_recording: what each camera wrote.",
    ),
    "snapshot_taken": _reply(
        "snapshot_taken",
        _obj(
            {"files": {"type": "array", "items": {"type": "string"}}, "directory": {"type": ["string", "null"]}},
            ["files"],
        ),
        "Answer to take_snapshot.",
    ),
    "status_report": _reply(
        "status_report",
        _obj(
            {
                "running": {"type": "boolean"},
                "recording": {"type": "boolean"},
                "backend": {"type": "string"},
                "session_dir": {"type": "string"},
                "free_disk_bytes": {"type": "integer"},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "failed_cameras": {"type": "array", "items": {"type": "integer"}},
                "health": {"type": ["object", "null"], "properties": _HEALTH},
                "cameras": {"type": "array", "items": _CAMERA_STATUS},
                "protocol": _PROTOCOL_STATUS,
            },
            ["running", "recording", "cameras", "protocol"],
        ),
        "Answer to get_status.",
    ),
    "preview_toggled": _reply(
        "preview_toggled",
        _obj(
            {
                "cameras": {
                    "type": "array",
                    "items": _obj(
                        {"camera_id": {"type": "integer"}, "enabled": {"type": "boolean"}}, ["camera_id", "enabled"]
                    ),
                },
                "size": {"type": "array", "items": {"type": "integer"}},
                "fps": {"type": "number"},
            },
            ["cameras"],
        ),
        "Answer to toggle_preview.",
    ),
    "subscribed": _reply(
        "subscribed",
        _obj({"enabled": {"type": "boolean"}, "events": {"type": ["array", "null"]}}, ["enabled"]),
        "Answer to subscribe.",
    ),
    "shutdown": _reply("shutdown", _obj({"reason": {"type": "string"}}, []), "Answer to quit; the slave then exits 0."),
    "self_test_report": _reply(
        "self_test_report",
        _obj(
            {
                "passed": {"type": "boolean"},
                "seconds": {"type": "number"},
                "cameras": {
                    "type": "array",
                    "items": _obj(
                        {
                            "camera_id": {"type": "integer"},
                            "passed": {"type": "boolean"},
                            "frames": {"type": "integer", "minimum": 0},
                            "rows": {"type": "integer", "minimum": 0},
                            "problems": {"type": "array", "items": {"type": "string"}},
                        },
                        ["camera_id", "passed", "frames", "rows", "problems"],
                    ),
                },
            },
            ["passed", "cameras"],
        ),
        "Answer to self_test: pass/fail per camera (the clip is deleted).",
    ),
    "controls_set": _reply(
        "controls_set",
        _obj(
            {
                "cameras": {
                    "type": "array",
                    "items": _obj(
                        {"camera_id": {"type": "integer"}, "controls": {"type": "object"}}, ["camera_id", "controls"]
                    ),
                }
            },
            ["cameras"],
        ),
        "Answer to set_controls: each camera's controls (the new values reach frames a few frames later).",
    ),
    "error": _reply(
        "error",
        _obj(
            {"code": {"enum": ERROR_CODES}, "message": {"type": "string", "minLength": 1}},
            ["code", "message"],
            extra=False,
        ),
        "Answer to any command line that failed; the slave keeps running.",
    ),
    "preview_frame": _reply(
        "preview_frame",
        _obj(
            {
                "camera_id": {"type": "integer"},
                "frame_number": {"type": "integer", "minimum": 0},
                "sensor_timestamp_ns": {"type": "integer"},
                "width": {"type": "integer", "minimum": 1},
                "height": {"type": "integer", "minimum": 1},
                "format": {"const": "jpeg"},
                "jpeg_base64": {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/jpeg"},
            },
            ["camera_id", "frame_number", "sensor_timestamp_ns", "width", "height", "format", "jpeg_base64"],
        ),
        "Unsolicited, after toggle_preview; never carries an id.",
    ),
}


def _event(name: str, data: dict[str, Any], required: list[str], description: str) -> dict[str, Any]:
    props = {
        "type": {"const": "event"},
        "event": {"const": name},
        "timestamp": {"type": "string", "format": "date-time"},
        "data": _obj(data, required),
    }
    return _obj(props, ["type", "event", "timestamp", "data"], extra=False, description=description)


_CAM = {"camera_id": {"type": "integer"}}
EVENTS: dict[str, dict[str, Any]] = {
    "frames_dropped": _event(
        "frames_dropped",
        {**_CAM, "dropped": {"type": "integer", "minimum": 1}, "total": {"type": "integer"}},
        ["camera_id", "dropped", "total"],
        "Sensor frames missed: one event per timestamp gap, sent by the capture thread when the frame "
        "after the gap arrives (`dropped`: in this gap; `total`: since the camera opened).",
    ),
    "frames_not_recorded": _event(
        "frames_not_recorded",
        {**_CAM, "count": {"type": "integer", "minimum": 1}, "total": {"type": "integer"}},
        ["camera_id", "count", "total"],
        "Frames of a recording the encoder queue had no room for: sent at the first frame of a run "
        "(`count` 1) and, when the run went on, once more as it ends (the next frame taken, or the "
        "recording stopping) with the rest of it; `total`: in this recording.",
    ),
    "camera_error": _event(
        "camera_error",
        {**_CAM, "message": {"type": "string"}},
        ["camera_id", "message"],
        "A camera's capture failed: sent whenever its `last_error` (get_status) changes.",
    ),
    "recording_first_frame": _event(
        "recording_first_frame",
        {**_CAM, "frames_recorded": {"type": "integer", "minimum": 1}},
        ["camera_id", "frames_recorded"],
        "A recording has written its first frame (after `at`, when given), sent by the recording "
        "thread right after writing it; `frames_recorded` counts the frames in its files (pre-trigger "
        "frames too).",
    ),
    "camera_failed": _event(
        "camera_failed",
        {**_CAM, "reason": {"type": "string", "minLength": 1}},
        ["camera_id", "reason"],
        "A camera's capture or processor loop died (the log has the traceback): the camera is "
        "failed (get_status: state failed) and is not restarted; the other cameras carry on.",
    ),
    "health_warning": _event(
        "health_warning",
        {
            "problems": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "health": {"type": "object", "description": "the reading, as get_status health"},
        },
        ["problems", "health"],
        "The host throttles (under-voltage, frequency cap, thermal) or its CPU reached cpu_temp_warn_c.",
    ),
}
#: Events other parts of camera_core publish on the system's event bus pass through too.
GENERIC_EVENT = _event("", {}, [], "Any other event of the system's event bus.")
GENERIC_EVENT["properties"]["event"] = {"type": "string"}


def build() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "title": "camera_core slave protocol",
        "commands": COMMANDS,
        "replies": REPLIES,
        "events": {**EVENTS, "*": GENERIC_EVENT},
    }


def load() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def schema_for(message: dict[str, Any]) -> dict[str, Any]:
    """The schema that an output line of the slave must satisfy."""
    schemas = load()
    if message.get("type") == "event":
        return schemas["events"].get(message.get("event"), schemas["events"]["*"])
    return schemas["replies"][message["status"]]


def markdown() -> str:
    parts = []
    for title, group in (("Commands", COMMANDS), ("Replies", REPLIES), ("Events", {**EVENTS, "*": GENERIC_EVENT})):
        parts.append(f"### {title}\n")
        for name, schema in group.items():
            parts.append(
                f"#### `{name}`\n\n{schema.get('description', '')}\n\n```json\n{json.dumps(schema, indent=2)}\n```\n"
            )
    return "\n".join(parts)


if __name__ == "__main__":
    SCHEMA_PATH.write_text(json.dumps(build(), indent=2) + "\n")
    if "--markdown" in sys.argv:
        print(markdown())
