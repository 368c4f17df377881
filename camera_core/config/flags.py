"""The command-line flags of the modes: one flag per setting, made from the settings table (so a
new setting gets its flag, its --help line and its config key at once), parsed into `Settings` with
the config file under them."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

from camera_core.config.loader import DEFAULT_CONFIG_PATH, load_settings
from camera_core.config.settings import SETTING_FIELDS, Settings, allowed_text, parse_value
from camera_core.errors import ConfigError

DESCRIPTION = "Record from one or more cameras with exact per-frame timing."


def _value_type(key: str, flag: str) -> Any:
    def convert(text: str) -> Any:
        try:
            return parse_value(key, text, flag)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(f"{exc.problem}; allowed: {exc.allowed}") from None

    convert.__name__ = key
    return convert


def bool_flag_help(key: str, flag: str, text: str, default: bool, has_neg: bool) -> tuple[str, str]:
    """--help of a boolean's flag and of its opposite: which one is the default, in words (never a
    bare "default: true" beside a flag that reads like its negation, such as --no-mp4)."""
    on, off = (
        (" This is the default.", "") if default else ("" if has_neg else " Off by default.", " This is the default.")
    )
    return (
        f"{text}.{on} (config key: {key} = true)",
        f"Opposite of {flag}.{off} (config key: {key} = false)",
    )


def build_parser(description: str = DESCRIPTION) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main_camera.py",
        description=description,
        epilog="Precedence: command-line flag > config file > built-in default.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"config file (default: {DEFAULT_CONFIG_PATH})",
    )
    defaults = Settings()
    for key, f in SETTING_FIELDS.items():
        m = f.metadata
        if not m["flags"]:
            continue
        default = getattr(defaults, key)
        if f.type == "bool":  # the first flag sets it true, `neg` false
            flag_help, neg_help = bool_flag_help(key, m["flags"][0], m["help"], default, bool(m["neg"]))
            parser.add_argument(
                *m["flags"],
                dest=key,
                action="store_const",
                const=True,
                default=argparse.SUPPRESS,
                help=flag_help,
            )
            if m["neg"]:
                parser.add_argument(
                    m["neg"],
                    dest=key,
                    action="store_const",
                    const=False,
                    default=argparse.SUPPRESS,
                    help=neg_help,
                )
        else:
            parser.add_argument(
                *m["flags"],
                dest=key,
                type=_value_type(key, m["flags"][0]),
                default=argparse.SUPPRESS,
                metavar=key.upper(),
                help=f"{m['help']}; {allowed_text(f)} (default: {default}; config key: {key})",
            )
    return parser


def nearest_flag_hint(parser: argparse.ArgumentParser, unknown: list[str]) -> str:
    """' (did you mean --target-fps?)' for the first unknown flag close to a known one, else ''."""
    flags = [o for action in parser._actions for o in action.option_strings]
    for word in unknown:
        if word.startswith("--"):
            close = difflib.get_close_matches(word.split("=", 1)[0], flags, n=1, cutoff=0.7)
            if close:
                return f" (did you mean {close[0]}?)"
    return ""


def parse_settings(argv: list[str], parser: argparse.ArgumentParser | None = None) -> Settings:
    """Flags and config file into Settings; exits 2 with a clear message on any bad value."""
    parser = parser or build_parser()
    namespace, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}{nearest_flag_hint(parser, unknown)}")
    args = vars(namespace)
    config_path = args.pop("config")
    try:
        settings = load_settings(config_path, args)
    except ConfigError as exc:
        print(f"main_camera.py: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    # config.txt's show_preview is interactive mode's; headless and slave open windows only when
    # --preview is on the command line (the seed: "no preview by default" in those modes).
    if settings.mode != "interactive" and settings.show_preview and "show_preview" not in args:
        settings = settings.replace(show_preview=False)
    return settings
