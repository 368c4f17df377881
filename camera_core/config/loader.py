"""Reads config.txt (`key = value`, `#` comments) into Settings, with file:line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from camera_core.config.settings import SETTING_FIELDS, Settings, parse_value, unknown_key_hint
from camera_core.errors import ConfigError

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config.txt"


def read_config_file(path: Path) -> dict[str, Any]:
    """Parsed values of one config file; ConfigError naming file, line and key on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), "-", f"cannot read the file ({exc.strerror})", "a readable text file") from exc
    values: dict[str, Any] = {}
    seen_at: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        where = f"{path}:{number}"
        if "=" not in content:
            raise ConfigError(
                where, content.split()[0], "line is not 'key = value'", "key = value lines and # comments"
            )
        key, _, raw = content.partition("=")
        key = key.strip()
        if key not in SETTING_FIELDS:
            raise ConfigError(
                where, key, f"unknown key '{key}'{unknown_key_hint(key)}", "the keys documented in config.txt"
            )
        if key in seen_at:
            raise ConfigError(where, key, f"set twice (first on line {seen_at[key]})", "each key once")
        seen_at[key] = number
        values[key] = parse_value(key, raw, where)
    return values


def load_settings(
    config_path: Path | None = None, overrides: dict[str, Any] | None = None, *, use_file: bool = True
) -> Settings:
    """Built-in defaults < config file < overrides (CLI flags)."""
    values: dict[str, Any] = {}
    if use_file:
        path = config_path or DEFAULT_CONFIG_PATH
        if config_path is not None or path.exists():
            values.update(read_config_file(path))
    values.update(overrides or {})
    return Settings(**values)
