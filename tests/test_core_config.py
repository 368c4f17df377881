"""config.txt, flags and their precedence; bad input is a clear error with exit code 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from camera_core.cli import build_parser, parse_settings
from camera_core.config import SETTING_FIELDS, Settings, load_settings, read_config_file
from camera_core.config.loader import DEFAULT_CONFIG_PATH
from camera_core.errors import ConfigError
from tests.conftest import main_camera_cmd

SEED_KEYS = [
    "resolution_preset",
    "target_fps",
    "auto_start_recording",
    "disable_mp4_conversion",
    "output_dir",
    "session_prefix",
    "show_preview",
    "preview_preset",
    "show_frame_number",
    "font_scale_base",
    "thickness_base",
    "text_color_b",
    "text_color_g",
    "text_color_r",
    "margin_left",
    "line_start_y",
    "enable_csv_timing_log",
    "log_level",
    "console_output",
    "libcamera_log_level",
]

SEED_FLAGS = [
    "--resolution",
    "--target-fps",
    "--preview-size",
    "--output-dir",
    "--mode",
    "--session-prefix",
    "--auto-start-recording",
    "--no-auto-start-recording",
    "--preview",
    "--no-preview",
    "--console",
    "--no-console",
    "--libcamera-log-level",
    "--backend",
    "--sim-cameras",
    "--config",
    "--duration",
    "--mp4",
    "--no-mp4",
    "--log-level",
    "--discovery-retry",
]


def test_shipped_config_sets_every_key_to_its_default_with_a_comment() -> None:
    values = read_config_file(DEFAULT_CONFIG_PATH)
    assert set(values) == set(SETTING_FIELDS), "config.txt must list every key"
    assert set(SEED_KEYS) <= set(values)
    assert load_settings() == Settings()
    lines = DEFAULT_CONFIG_PATH.read_text().splitlines()
    for i, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert lines[i - 1].startswith("# "), f"config.txt line {i + 1} ({line}) has no comment above it"


@pytest.mark.parametrize(
    ("line", "key", "fragment"),
    [
        ("target_fps = fast", "target_fps", "a number from 1 to 120"),
        ("resolution_preset = 9", "resolution_preset", "a whole number from 0 to 7"),
        ("show_preview = maybe", "show_preview", "true or false"),
        ("log_level = loud", "log_level", "one of debug, info, warning, error, critical"),
        ("no_such_key = 1", "no_such_key", "unknown key"),
        ("just words", "just", "key = value"),
    ],
)
def test_bad_line_names_file_line_key_and_what_is_allowed(tmp_path: Path, line: str, key: str, fragment: str) -> None:
    cfg = tmp_path / "config.txt"
    cfg.write_text(f"# a comment\nsession_prefix = lab\n{line}\n")
    with pytest.raises(ConfigError) as info:
        read_config_file(cfg)
    message = str(info.value)
    assert f"{cfg}:3" in message and key in message and fragment in message


def test_key_set_twice_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.txt"
    cfg.write_text("target_fps = 25\ntarget_fps = 30\n")
    with pytest.raises(ConfigError, match="first on line 1"):
        read_config_file(cfg)


def test_precedence_flag_over_file_over_default(tmp_path: Path) -> None:
    cfg = tmp_path / "c.txt"
    cfg.write_text("target_fps = 25  # trailing comment\nsession_prefix = lab\n")
    s = parse_settings(["--config", str(cfg), "--target-fps", "12.5"])
    assert s.target_fps == 12.5  # flag
    assert s.session_prefix == "lab"  # file
    assert s.preview_preset == 7  # default
    assert parse_settings(["--config", str(cfg), "--mp4"]).disable_mp4_conversion is False
    assert parse_settings(["--config", str(cfg), "--no-mp4"]).disable_mp4_conversion is True


def test_help_lists_every_flag_with_default_and_config_key() -> None:
    text = build_parser().format_help()
    for flag in SEED_FLAGS:
        assert flag in text, flag
    assert "config key: target_fps" in text and "default: 30" in text


def test_bad_config_file_exits_2_naming_file_line_key_and_writes_nothing(tmp_path: Path) -> None:
    cfg = tmp_path / "config.txt"
    cfg.write_text("mode = headless\nsim_drop_rate = 2\n")
    out = tmp_path / "rec"
    proc = subprocess.run(
        main_camera_cmd("--config", str(cfg), "--backend", "sim", "--output-dir", str(out), "--duration", "1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert f"{cfg}:2" in proc.stderr and "sim_drop_rate" in proc.stderr and "from 0 to 0.9" in proc.stderr
    assert not out.exists()


def test_bad_flag_value_exits_2() -> None:
    proc = subprocess.run(main_camera_cmd("--resolution", "11"), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--resolution" in proc.stderr and "from 0 to 7" in proc.stderr


def test_settings_reject_bad_values_from_python() -> None:
    with pytest.raises(ConfigError, match="target_fps"):
        Settings(target_fps=0)
    with pytest.raises(ConfigError, match="camera_backend"):
        Settings(camera_backend="webcam")


@pytest.mark.parametrize("prefix", ["a/b", "../x", "/tmp/elsewhere", "..", ".hidden", "-x", "a b"])
def test_session_prefix_must_be_a_plain_folder_name(tmp_path: Path, prefix: str) -> None:
    out = tmp_path / "rec"
    flag = subprocess.run(
        main_camera_cmd("--backend", "sim", "--output-dir", str(out), "--duration", "1", f"--session-prefix={prefix}"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert flag.returncode == 2, flag.stderr
    assert "--session-prefix" in flag.stderr and "no '/'" in flag.stderr and "Traceback" not in flag.stderr
    cfg = tmp_path / "config.txt"
    cfg.write_text(f"camera_backend = sim\nsession_prefix = {prefix}\n")
    with pytest.raises(ConfigError) as caught:
        read_config_file(cfg)
    assert f"{cfg}:2: session_prefix:" in str(caught.value)
    assert not out.exists() and not (tmp_path / "x").exists()
    assert parse_settings(["--session-prefix", "lab_1.take-2"]).session_prefix == "lab_1.take-2"


def test_an_unknown_key_suggests_the_nearest(tmp_path: Path) -> None:
    cfg = tmp_path / "config.txt"
    cfg.write_text("target_fsp = 25\n")
    with pytest.raises(ConfigError, match=r"unknown key 'target_fsp' \(did you mean target_fps\?\)"):
        read_config_file(cfg)
    cfg.write_text("zzzz = 1\n")
    with pytest.raises(ConfigError) as caught:
        read_config_file(cfg)
    assert "did you mean" not in str(caught.value)


def test_help_of_boolean_flags_says_which_is_the_default() -> None:
    text = " ".join(build_parser().format_help().split())
    assert "(default: true" not in text and "(default: false" not in text
    no_mp4 = text.split("--no-mp4 Keep the raw", 1)[1].split("--mp4 ", 1)[0]
    assert "This is the default." in no_mp4 and "disable_mp4_conversion = true" in no_mp4
    mp4 = text.split("--mp4 Opposite of --no-mp4.", 1)[1].split("--output-dir", 1)[0]
    assert "This is the default." not in mp4 and "disable_mp4_conversion = false" in mp4
    console = text.split("--no-console Opposite of --console.", 1)[1][:40]
    assert console.startswith(" This is the default.")


def test_an_unknown_flag_suggests_the_nearest() -> None:
    proc = subprocess.run(main_camera_cmd("--target-fsp", "25"), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unrecognized arguments: --target-fsp 25 (did you mean --target-fps?)" in proc.stderr
