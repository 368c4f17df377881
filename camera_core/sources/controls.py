"""Camera controls a rig needs: exposure time, analogue gain and white balance (colour gains),
each automatic or manual, and optionally locked after the first N frames at the values the
automatic algorithms then reached. Sync needs a fixed exposure that leaves room in the frame
(libcamera syncs frame starts only then), and matched images across cameras need equal settings."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from camera_core.errors import ConfigError

if TYPE_CHECKING:
    from camera_core.config.settings import Settings


@dataclass(frozen=True, slots=True)
class ControlSettings:
    """What the configuration asks for (None = automatic)."""

    exposure_us: int | None = None
    analogue_gain: float | None = None
    colour_gains: tuple[float, float] | None = None
    lock_after_frames: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> ControlSettings:
        return cls(
            exposure_us=round(settings.exposure_time_us) or None,
            analogue_gain=settings.analogue_gain or None,
            colour_gains=parse_colour_gains(settings.colour_gains),
            lock_after_frames=settings.lock_controls_after_frames,
        )

    def libcamera_controls(self) -> dict[str, Any]:
        """The manual values as libcamera controls (picamera2 switches the matching modes to manual)."""
        out: dict[str, Any] = {}
        if self.exposure_us is not None:
            out["ExposureTime"] = self.exposure_us
        if self.analogue_gain is not None:
            out["AnalogueGain"] = self.analogue_gain
        if self.colour_gains is not None:
            out["ColourGains"] = self.colour_gains
        return out


def check_offered(offered: dict[str, Any], controls: dict[str, Any], camera: str) -> None:
    """ConfigError naming the setting when the camera lacks a control the configuration sets."""
    keys = {"ExposureTime": "exposure_time_us", "AnalogueGain": "analogue_gain", "ColourGains": "colour_gains"}
    for name in controls:
        if name in keys and name not in offered:
            raise ConfigError(camera, keys[name], f"this camera has no {name} control", "0 or empty (automatic)")


def parse_colour_gains(text: str) -> tuple[float, float] | None:
    """`R,B` (red and blue gains, e.g. 2.0,1.8) or empty for automatic white balance."""
    if not text.strip():
        return None
    try:
        red, blue = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(
            "settings", "colour_gains", f"'{text}' is not two gains", "R,B such as 2.0,1.8, or empty"
        ) from None
    if not (0 < red <= 32 and 0 < blue <= 32):
        raise ConfigError("settings", "colour_gains", f"'{text}' is out of range", "gains above 0 and up to 32")
    return red, blue


class ControlState:
    """One camera's controls in force, from its frames' metadata; locks them after N frames.

    `observe(metadata)` is called for every frame; it returns the controls to set when the lock is
    due (once), else None."""

    def __init__(self, wanted: ControlSettings) -> None:
        self.wanted = wanted
        self._lock = threading.Lock()
        self._frames = 0
        self.locked: dict[str, Any] | None = None
        self.in_force: dict[str, Any] = {}

    def observe(self, metadata: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            self._frames += 1
            self.in_force = {
                "exposure_us": _num(metadata.get("ExposureTime")),
                "analogue_gain": _num(metadata.get("AnalogueGain")),
                "colour_gains": _pair(metadata.get("ColourGains")),
            }
            n = self.wanted.lock_after_frames
            if not n or self.locked is not None or self._frames < n:
                return None
            fixed: dict[str, Any] = {}
            if self.wanted.exposure_us is None and "ExposureTime" in metadata:
                fixed["ExposureTime"] = int(metadata["ExposureTime"])
            if self.wanted.analogue_gain is None and "AnalogueGain" in metadata:
                fixed["AnalogueGain"] = float(metadata["AnalogueGain"])
            if self.wanted.colour_gains is None and "ColourGains" in metadata:
                fixed["ColourGains"] = tuple(float(g) for g in metadata["ColourGains"])
            self.locked = fixed
            return fixed

    def change(
        self,
        *,
        exposure_us: float | None = None,
        analogue_gain: float | None = None,
        colour_gains: tuple[float, ...] | None = None,
        lock_after_frames: int | None = None,
    ) -> dict[str, Any]:
        """Change what is wanted while running (None keeps a setting; 0 or () makes it automatic)
        and return the libcamera controls that do it. A new lock count starts counting now."""
        out: dict[str, Any] = {}
        with self._lock:
            w = self.wanted
            locked = dict(self.locked or {})
            if exposure_us is not None:
                w = dataclasses.replace(w, exposure_us=round(exposure_us) or None)
                out["ExposureTime"] = round(exposure_us)  # 0: automatic again
                locked.pop("ExposureTime", None)
            if analogue_gain is not None:
                w = dataclasses.replace(w, analogue_gain=analogue_gain or None)
                out["AnalogueGain"] = float(analogue_gain)
                locked.pop("AnalogueGain", None)
            if colour_gains is not None:
                gains = (float(colour_gains[0]), float(colour_gains[1])) if colour_gains else None
                w = dataclasses.replace(w, colour_gains=gains)
                out.update({"ColourGains": gains} if gains else {"AwbEnable": True})
                locked.pop("ColourGains", None)
            if lock_after_frames is not None:
                w = dataclasses.replace(w, lock_after_frames=lock_after_frames)
                for key in locked:  # what the old lock fixed goes back to automatic
                    if key == "ColourGains":
                        out.setdefault("AwbEnable", True)
                    else:
                        out.setdefault(key, 0)
                self._frames, locked = 0, {}
                self.locked = None
            elif self.locked is not None:
                self.locked = locked
            self.wanted = w
        return out

    def status(self) -> dict[str, Any]:
        """What is in force and how it was chosen (manual, automatic, locked after N frames)."""
        with self._lock:
            w, locked = self.wanted, self.locked or {}

            def mode(manual: object, key: str) -> str:
                if manual is not None:
                    return "manual"
                return f"locked after {w.lock_after_frames} frames" if key in locked else "automatic"

            return {
                **self.in_force,
                "exposure_mode": mode(w.exposure_us, "ExposureTime"),
                "gain_mode": mode(w.analogue_gain, "AnalogueGain"),
                "white_balance_mode": mode(w.colour_gains, "ColourGains"),
            }


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _pair(value: object) -> list[float] | None:
    if isinstance(value, tuple | list) and len(value) == 2:
        return [float(value[0]), float(value[1])]
    return None
