"""libcamera software sync on a Raspberry Pi camera (picamera2), as picamera2's own
sync_recording.py does it: the `SyncMode` control (Server or Client) and `SyncFrames` go into the
video configuration; frames report `SyncReady` and `SyncTimer`; recording waits for SyncReady.

The hook for the picamera2 backend is three calls:
- `sync_controls(picam2, role, sync_frames, camera)` when building the configuration's controls
  (raises ConfigError when the camera has no SyncMode: libcamera's virtual cameras, Pi builds
  without software sync; never a silent unsynchronized recording);
- `sync_metadata(metadata)` for each frame's `Frame.extra`, `row_metadata(metadata)` for its timing
  row (SyncReady, SyncTimer, ExposureTime);
- `before_sync_point(role, metadata)` in the recorder's pre_callback: True = do not record it.
"""

from __future__ import annotations

from typing import Any

from camera_core.errors import ConfigError
from camera_core.sync.algorithm import SyncRole

#: libcamera's controls.rpi.SyncModeEnum values.
SYNC_MODE = {"off": 0, "server": 1, "client": 2}


def camera_role(setting: str, index: int) -> SyncRole:
    """The role of the host's `index`-th camera: `server` makes the first one the server and the
    others its clients."""
    if setting == "server":
        return "server" if index == 0 else "client"
    if setting == "client":
        return "client"
    return "off"


def sync_controls(picam2: Any, role: SyncRole, sync_frames: int, camera: str) -> dict[str, Any]:
    """The controls that put this camera in `role` ({} for off)."""
    if role == "off":
        return {}
    offered = picam2.camera_controls
    if "SyncMode" not in offered:
        raise ConfigError(
            camera,
            "sync_role",
            f"'{role}' needs libcamera's SyncMode control, which this camera does not offer "
            "(a virtual camera, or a libcamera without Raspberry Pi software sync)",
            "off here; sync needs a Raspberry Pi camera with libcamera v0.4.0+rpt or later",
        )
    controls: dict[str, Any] = {"SyncMode": _sync_mode_enum(role)}
    if "SyncFrames" in offered:
        controls["SyncFrames"] = sync_frames
    return controls


def _sync_mode_enum(role: SyncRole) -> Any:
    """controls.rpi.SyncModeEnum.Server/Client from libcamera (its plain value without it)."""
    try:
        from libcamera import controls  # type: ignore[import-not-found]

        enum = controls.rpi.SyncModeEnum
        return enum.Server if role == "server" else enum.Client
    except (ImportError, AttributeError):
        return SYNC_MODE[role]


def sync_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """SyncReady (bool) and SyncTimer (µs) of a frame, where the camera reports them."""
    out: dict[str, Any] = {}
    if "SyncReady" in metadata:
        out["SyncReady"] = bool(metadata["SyncReady"])
    if "SyncTimer" in metadata:
        out["SyncTimer"] = int(metadata["SyncTimer"])
    return out


def status_fields(sync: dict[str, Any]) -> dict[str, Any]:
    """get_status fields from the newest frame's sync metadata (empty before any)."""
    if not sync:
        return {}
    return {"sync_ready": bool(sync.get("SyncReady", False)), "sync_timer_us": sync.get("SyncTimer")}


def row_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """What a frame's timing row needs from its metadata: the sync state and the exposure time."""
    out = sync_metadata(metadata)
    if "ExposureTime" in metadata:
        out["ExposureTime"] = metadata["ExposureTime"]
    return out


def before_sync_point(role: SyncRole, metadata: dict[str, Any]) -> bool:
    """True for a frame that must not be recorded: sync is on and the camera has not said it is
    ready (a frame without SyncReady counts as not ready)."""
    return role != "off" and not metadata.get("SyncReady", False)
