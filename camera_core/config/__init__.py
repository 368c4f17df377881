"""Configuration: presets, typed settings, config.txt loading."""

from camera_core.config.loader import DEFAULT_CONFIG_PATH, load_settings, read_config_file
from camera_core.config.presets import RESOLUTION_PRESETS, preset_size
from camera_core.config.settings import SETTING_FIELDS, Settings

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "RESOLUTION_PRESETS",
    "SETTING_FIELDS",
    "Settings",
    "load_settings",
    "preset_size",
    "read_config_file",
]
