"""Typed, validated settings: one table drives config.txt, the CLI flags and --help."""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from camera_core.config.presets import RESOLUTION_PRESETS, describe_presets
from camera_core.errors import ConfigError

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
LIBCAMERA_LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR", "FATAL")
MODES = ("interactive", "headless", "slave")
BACKENDS = ("auto", "picamera2", "sim", "opencv")
H264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")
SYNC_ROLES = ("off", "server", "client")


def _opt(
    default: Any,
    help: str,
    *,
    flags: tuple[str, ...] = (),
    neg: str | None = None,
    choices: tuple[str, ...] | None = None,
    lo: float | None = None,
    hi: float | None = None,
) -> Any:
    """A settings field. `flags` are CLI spellings (a boolean's first flag sets it true); `neg` is
    the flag that sets a boolean false (--no-mp4 sets disable_mp4_conversion, --mp4 clears it)."""
    meta = {"help": help, "flags": flags, "neg": neg, "choices": choices, "lo": lo, "hi": hi}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Every setting of camera_core. Keys equal the config.txt keys."""

    # Recording
    resolution_preset: int = _opt(
        0, "Recording resolution preset 0-7 (" + describe_presets() + ")", flags=("--resolution",), lo=0, hi=7
    )
    target_fps: float = _opt(30.0, "Recording frames per second", flags=("--target-fps",), lo=1, hi=120)
    auto_start_recording: bool = _opt(
        False,
        "Start recording as soon as the cameras are ready",
        flags=("--auto-start-recording",),
        neg="--no-auto-start-recording",
    )
    disable_mp4_conversion: bool = _opt(
        True,
        "Keep the raw .h264 (power-loss resilient) instead of converting to .mp4",
        flags=("--no-mp4",),
        neg="--mp4",
    )
    output_dir: str = _opt("recordings", "Folder that receives the session folders", flags=("--output-dir",))
    session_prefix: str = _opt("session", "Prefix of session folder names", flags=("--session-prefix",))
    mode: str = _opt("interactive", "Execution mode", flags=("--mode",), choices=MODES)
    duration: float = _opt(
        0.0, "Stop and exit after this many seconds (0 = run until told)", flags=("--duration",), lo=0, hi=1e9
    )
    # Display and preview
    show_preview: bool = _opt(
        True,
        "Show preview windows in interactive mode (headless and slave: only with --preview on the command line)",
        flags=("--preview",),
        neg="--no-preview",
    )
    preview_preset: int = _opt(
        7, "Preview size preset 0-7 (same sizes as resolution)", flags=("--preview-size",), lo=0, hi=7
    )
    show_frame_number: bool = _opt(True, "Burn the frame number into recorded frames and the preview")
    font_scale_base: float = _opt(0.6, "Overlay font scale at 640 px width (scaled with the frame)", lo=0.05, hi=10)
    thickness_base: int = _opt(1, "Overlay text thickness at 640 px width", lo=1, hi=20)
    text_color_b: int = _opt(255, "Overlay text colour, blue 0-255", lo=0, hi=255)
    text_color_g: int = _opt(255, "Overlay text colour, green 0-255", lo=0, hi=255)
    text_color_r: int = _opt(255, "Overlay text colour, red 0-255", lo=0, hi=255)
    margin_left: int = _opt(10, "Overlay left margin in pixels (at 640 px width)", lo=0, hi=10000)
    line_start_y: int = _opt(30, "Overlay first text baseline in pixels (at 640 px width)", lo=0, hi=10000)
    # Diagnostics
    enable_csv_timing_log: bool = _opt(True, "Write the per-frame timing CSV beside each recording")
    # Logging
    log_level: str = _opt("info", "Python logging level", flags=("--log-level",), choices=LOG_LEVELS)
    console_output: bool = _opt(False, "Also log to the console (stderr)", flags=("--console",), neg="--no-console")
    libcamera_log_level: str = _opt(
        "WARN", "libcamera verbosity", flags=("--libcamera-log-level",), choices=LIBCAMERA_LOG_LEVELS
    )
    # Camera source
    camera_backend: str = _opt("auto", "Camera source", flags=("--backend",), choices=BACKENDS)
    discovery_retry: int = _opt(
        3, "Camera discovery attempts before NO_CAMERAS", flags=("--discovery-retry",), lo=1, hi=100
    )
    discovery_retry_delay: float = _opt(1.0, "Seconds between discovery attempts", lo=0, hi=60)
    picamera2_buffer_count: int = _opt(
        8, "Buffers per stream and Pi camera (fewer if the Pi reports Errno 12, out of CMA memory)", lo=3, hi=32
    )
    sim_cameras: int = _opt(2, "Number of simulated cameras", flags=("--sim-cameras",), lo=1, hi=16)
    sim_drop_rate: float = _opt(0.0, "Probability that a simulated sensor frame is dropped", lo=0, hi=0.9)
    sim_jitter_us: float = _opt(0.0, "Random timestamp jitter of simulated frames, microseconds", lo=0, hi=1e6)
    sim_seed: int = _opt(0, "Seed of the simulation (drops, jitter, content)", lo=0, hi=2**32 - 1)
    sim_realtime: bool = _opt(True, "Pace simulated frames by the clock (false: as fast as taken)")
    sim_fault_camera: int = _opt(0, "Simulated camera that the sim_stall/sim_error faults hit", lo=0, hi=15)
    sim_stall_after_frames: int = _opt(
        0,
        "Fault injection: that camera stops delivering after this many frames (0 = never; a restart cures it)",
        lo=0,
        hi=10**9,
    )
    sim_error_after_frames: int = _opt(
        0,
        "Fault injection: that camera raises an error after this many frames (0 = never; a restart cures it)",
        lo=0,
        hi=10**9,
    )
    opencv_devices: str = _opt(
        "0",
        "OpenCV cameras, comma-separated: USB camera indexes (0), /dev/video paths, or video files replayed as cameras",
        flags=("--opencv-devices",),
    )
    opencv_file_realtime: bool = _opt(True, "Replay video files at their own rate (false: as fast as taken)")
    opencv_file_wait_for_recording: bool = _opt(
        True, "A replayed video file shows its first frame until a recording starts, then plays"
    )
    sim_clock_offset_us: float = _opt(
        0.0,
        "Wall-clock error of this simulated host, µs (its frame wall-clock times and sync are off by it)",
        flags=("--sim-clock-offset-us",),
        lo=-1e9,
        hi=1e9,
    )
    sim_led: bool = _opt(
        False,
        "Simulated cameras see a shared LED driven by the true clock (for synccheck)",
        flags=("--sim-led",),
        neg="--no-sim-led",
    )
    sim_led_period_s: float = _opt(1.0, "The simulated LED flashes once every this many seconds", lo=0.01, hi=3600)
    sim_led_on_ms: float = _opt(
        100.0,
        "How long each simulated LED flash lasts, ms (at least a frame period gives partly lit frames)",
        lo=0.1,
        hi=3.6e6,
    )
    sim_exposure_us: float = _opt(
        0.0, "Exposure time of simulated frames, µs (0 = the whole frame duration)", lo=0, hi=1e7
    )
    sim_crash_after_frames: int = _opt(
        0,
        "Fault injection: that camera's capture loop dies after this many frames (an error nothing handles; "
        "the camera is reported failed, not restarted; 0 = never)",
        lo=0,
        hi=10**9,
    )
    # Encoding
    h264_preset: str = _opt("ultrafast", "libx264 preset (software encoding)", choices=H264_PRESETS)
    h264_crf: int = _opt(23, "libx264 constant rate factor when h264_bitrate_kbps is 0", lo=0, hi=51)
    h264_bitrate_kbps: int = _opt(0, "H.264 bitrate in kbit/s (0 = constant quality)", lo=0, hi=200000)
    h264_keyframe_interval: int = _opt(0, "Frames between keyframes (0 = one second)", lo=0, hi=10000)
    h264_threads: int = _opt(0, "libx264 threads (0 = automatic)", lo=0, hi=64)
    h264_worker_nice: int = _opt(
        0, "Nice value of libx264's worker threads: lower priority than the threads that answer (0 = off)", lo=0, hi=19
    )
    encoder_process: bool = _opt(
        False,
        "Encode with libx264 in a worker process per camera (PyAV path: sim, OpenCV), fed through shared "
        "memory, so encoding holds no GIL of the recorder and yields the CPU to the threads that answer",
    )
    encoder_process_nice: int = _opt(
        10, "Nice value of the encoder worker processes (encoder_process = true; 0 = as camera_core)", lo=0, hi=19
    )
    encoder_process_policy: str = _opt(
        "nice",
        "Scheduling of the encoder worker processes: nice (normal, at encoder_process_nice), batch "
        "(SCHED_BATCH) or idle (SCHED_IDLE: only CPU time nothing else wants)",
        choices=("nice", "batch", "idle"),
    )
    encoder_queue_frames: int = _opt(
        60, "Frames the encoder queue holds before frames are dropped (counted)", lo=2, hi=10000
    )
    pretrigger_seconds: float = _opt(
        0.0,
        "Begin every recording with the frames of this many seconds before its start, kept encoded in "
        "memory (0 = off; the encoder then runs all the time)",
        flags=("--pretrigger-seconds",),
        lo=0,
        hi=60,
    )
    # Unattended recording
    segment_seconds: float = _opt(
        0.0,
        "Split each camera's recording at a keyframe into numbered files of this many seconds (0 = one file)",
        flags=("--segment-seconds",),
        lo=0,
        hi=86400,
    )
    min_free_space_mb: float = _opt(
        500.0, "Free space (MB) the output folder needs to start recording (else LOW_DISK_SPACE)", lo=0, hi=10**7
    )
    stop_free_space_mb: float = _opt(
        100.0, "Recording stops cleanly, files finalized, when free space falls below this (MB)", lo=0, hi=10**7
    )
    warmup_frames: int = _opt(
        0, "Frames skipped after a camera (re)starts before anything is recorded or snapshotted", lo=0, hi=10000
    )
    camera_timeout_s: float = _opt(
        2.0, "Seconds without a frame before a camera counts as lost and is restarted", lo=0.1, hi=3600
    )
    camera_restart_max_s: float = _opt(
        30.0, "Longest wait between restart attempts of a lost camera (the wait doubles from 0.5 s)", lo=0.1, hi=3600
    )
    self_test: bool = _opt(
        False,
        "Record a short clip per camera, verify and delete it, report pass/fail, exit 0/1",
        flags=("--self-test",),
    )
    self_test_seconds: float = _opt(
        2.0, "Length of the self-test clip in seconds", flags=("--self-test-seconds",), lo=0.2, hi=600
    )
    self_test_max_drops: int = _opt(
        0, "The self-test fails a camera that drops more frames than this in its clip", lo=0, hi=10**6
    )
    session_reserve_mb: float = _opt(
        0.25,
        "Space (MB) a session sets aside at its start for its own manifest and log, released at its end "
        "so they are written even on a full disk (0 = none)",
        lo=0,
        hi=1000,
    )
    disk_resume_check_s: float = _opt(
        10.0,
        "Headless: after recording stopped for low disk space, check this often (s) and resume "
        "once min_free_space_mb is free again (0 = stay stopped)",
        lo=0,
        hi=86400,
    )
    health_log_interval_s: float = _opt(
        60.0,
        "Log CPU temperature, throttling, load and memory every this many seconds (0 = at start and on warnings only)",
        lo=0,
        hi=86400,
    )
    cpu_temp_warn_c: float = _opt(
        80.0, "A health_warning event (and log warning) when the CPU reaches this temperature, °C", lo=20, hi=150
    )
    # Snapshots and preview streaming
    snapshot_jpeg_quality: int = _opt(90, "JPEG quality of snapshots", lo=1, hi=100)
    preview_jpeg_quality: int = _opt(80, "JPEG quality of streamed preview frames", lo=1, hi=100)
    preview_stream_fps: float = _opt(30.0, "Maximum rate of streamed preview frames per camera", lo=0.1, hi=120)
    # Slave protocol
    protocol_max_line_bytes: int = _opt(
        1048576, "Longest command line the slave accepts, in bytes (longer: LINE_TOO_LONG)", lo=1024, hi=67108864
    )
    # Sync between cameras and hosts (docs/sync.md)
    sync_role: str = _opt(
        "off",
        "Frame sync (libcamera software sync): server (the first camera serves, the others follow), client or off",
        flags=("--sync-role",),
        choices=SYNC_ROLES,
    )
    sync_frames: int = _opt(
        100,
        "Frames after start until the sync point; recording starts there",
        flags=("--sync-frames",),
        lo=1,
        hi=100000,
    )
    sync_period_frames: int = _opt(30, "Sim sync: the server sends its timing every this many frames", lo=1, hi=10000)
    sync_min_adjustment_us: int = _opt(
        50, "Sim sync: a client corrects its phase only by at least this many µs", lo=0, hi=1000000
    )
    sync_group: str = _opt("239.255.255.250", "Sim sync: UDP multicast group of the sync messages")
    sync_port: int = _opt(10000, "Sim sync: UDP port of the sync messages", lo=1, hi=65535)
    sync_interface: str = _opt(
        "127.0.0.1", "Sim sync: address of the interface the messages use (127.0.0.1 keeps them on this machine)"
    )
    clock_chronyc_host: str = _opt(
        "",
        "Where chronyc asks chronyd for the clock state (a host or a socket path; empty: chronyc's default)",
        flags=("--chronyc-host",),
    )
    # Camera controls (docs/sync.md#camera-controls)
    exposure_time_us: float = _opt(
        0.0,
        "Exposure time, µs (0 = automatic); sync needs it shorter than the frame period",
        flags=("--exposure-us",),
        lo=0,
        hi=1e7,
    )
    analogue_gain: float = _opt(0.0, "Analogue gain (0 = automatic)", flags=("--analogue-gain",), lo=0, hi=64)
    colour_gains: str = _opt(
        "", "White balance as red,blue colour gains, e.g. 2.0,1.8 (empty = automatic)", flags=("--colour-gains",)
    )
    lock_controls_after_frames: int = _opt(
        0,
        "Fix the automatic exposure, gain and white balance at their values after this many frames (0 = never)",
        flags=("--lock-controls-after",),
        lo=0,
        hi=1000000,
    )
    trigger_fps: float = _opt(
        0.0,
        "External trigger: the pulse rate driving the camera (IMX296 XTR); frames and drops follow it (0 = free-running)",
        flags=("--trigger-fps",),
        lo=0,
        hi=1000,
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_value(f, getattr(self, f.name), where="Settings")

    @property
    def frame_size(self) -> tuple[int, int]:
        w, h, _ = RESOLUTION_PRESETS[self.resolution_preset]
        return w, h

    @property
    def preview_size(self) -> tuple[int, int]:
        w, h, _ = RESOLUTION_PRESETS[self.preview_preset]
        return w, h

    @property
    def text_color_bgr(self) -> tuple[int, int, int]:
        return (self.text_color_b, self.text_color_g, self.text_color_r)

    @property
    def keyframe_interval(self) -> int:
        return self.h264_keyframe_interval or max(1, round(self.target_fps))

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (validated)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SETTING_FIELDS: dict[str, dataclasses.Field[Any]] = {f.name: f for f in dataclasses.fields(Settings)}


def allowed_text(f: dataclasses.Field[Any]) -> str:
    """What a field accepts, in words, for error messages and --help."""
    m = f.metadata
    if f.name == "session_prefix":
        return SESSION_PREFIX_ALLOWED
    if m["choices"]:
        return "one of " + ", ".join(m["choices"])
    if f.type in ("bool", bool):
        return "true or false"
    kind = {"int": "a whole number", "float": "a number", "str": "text"}.get(str(f.type), str(f.type))
    if m["lo"] is not None and m["hi"] is not None:
        return f"{kind} from {_fmt(m['lo'])} to {_fmt(m['hi'])}"
    return kind


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_value(key: str, text: str, where: str) -> Any:
    """Turn the text of a config value or CLI argument into the field's type; ConfigError if it can't."""
    f = SETTING_FIELDS.get(key)
    if f is None:
        raise ConfigError(
            where, key, f"unknown key '{key}'{unknown_key_hint(key)}", "one of the keys listed in config.txt"
        )
    raw = text.strip()
    kind = str(f.type)
    try:
        if kind == "bool":
            low = raw.lower()
            if low not in _TRUE | _FALSE:
                raise ValueError
            value: Any = low in _TRUE
        elif kind == "int":
            value = int(raw)
        elif kind == "float":
            value = float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
        else:
            value = raw
            if f.metadata["choices"]:
                match = [c for c in f.metadata["choices"] if c.lower() == raw.lower()]
                if not match:
                    raise ValueError
                value = match[0]
    except ValueError:
        raise ConfigError(where, key, f"'{raw}' is not valid", allowed_text(f)) from None
    _check_value(f, value, where)
    return value


def _check_value(f: dataclasses.Field[Any], value: Any, where: str) -> None:
    m = f.metadata
    kind = str(f.type)
    ok_type = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "str": isinstance(value, str),
    }.get(kind, True)
    if not ok_type:
        raise ConfigError(where, f.name, f"{value!r} has the wrong type", allowed_text(f))
    if m["choices"] and value not in m["choices"]:
        raise ConfigError(where, f.name, f"'{value}' is not allowed", allowed_text(f))
    if m["lo"] is not None and not (m["lo"] <= value <= m["hi"]):
        raise ConfigError(where, f.name, f"{value} is out of range", allowed_text(f))
    if kind == "str" and not m["choices"] and f.name in ("output_dir", "session_prefix") and not value:
        raise ConfigError(where, f.name, "must not be empty", "non-empty text")
    if f.name == "session_prefix" and not SESSION_PREFIX_RE.fullmatch(value):
        raise ConfigError(where, f.name, f"'{value}' is not allowed", SESSION_PREFIX_ALLOWED)


#: a session folder's name starts with the prefix: one plain name, never a path (no '/', no '..')
SESSION_PREFIX_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SESSION_PREFIX_ALLOWED = (
    "a plain folder name of up to 100 letters, digits, '.', '_' and '-', starting with a letter or digit "
    "(no '/': the session folder is always made inside output_dir)"
)


def unknown_key_hint(key: str) -> str:
    """' (did you mean target_fps?)' for a key close to a known one, else ''."""
    close = difflib.get_close_matches(key, SETTING_FIELDS, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
