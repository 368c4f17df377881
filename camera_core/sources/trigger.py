"""External trigger: a sensor driven by a pulse (the IMX296's XTR input, Raspberry Pi Global
Shutter Camera) takes one frame per pulse. Frame timing then comes from the pulse: frames are
counted against the trigger period the user gives (`trigger_fps`), not the FrameDuration the sensor
was programmed with, so a missed pulse or a lost frame shows as a drop. See docs/sync.md#external-trigger.

On a Pi the IMX296 driver switches to trigger mode with its module parameter
(/sys/module/imx296/parameters/trigger_mode = 1); camera_core checks it and says how to set it.
"""

from __future__ import annotations

from pathlib import Path

from camera_core.errors import ConfigError

#: The IMX296 driver's trigger-mode switch.
IMX296_TRIGGER_PARAMETER = Path("/sys/module/imx296/parameters/trigger_mode")


def trigger_period_us(trigger_fps: float) -> float | None:
    """The trigger period in µs, or None when the camera runs free (trigger_fps 0)."""
    return 1e6 / trigger_fps if trigger_fps > 0 else None


def check_trigger_mode(model: str, camera: str, parameter: Path | None = None) -> None:
    """ConfigError unless this camera can be triggered and its driver is in trigger mode."""
    parameter = parameter or IMX296_TRIGGER_PARAMETER
    if not model.lower().startswith("imx296"):
        raise ConfigError(
            camera,
            "trigger_fps",
            f"external trigger is supported on the IMX296 (Global Shutter Camera), not {model}",
            "0",
        )
    try:
        value = parameter.read_text().strip()
    except OSError:
        value = ""
    if value not in ("1", "Y"):
        raise ConfigError(
            camera,
            "trigger_fps",
            f"the imx296 driver is not in trigger mode ({parameter} is {value or 'missing'}); "
            f"enable it with: echo 1 | sudo tee {parameter}",
            "0, or trigger mode enabled",
        )
