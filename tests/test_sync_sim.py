"""Sync between sim cameras in one process, the sync columns of the timing CSV, and the LED proof."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from camera_core.config import Settings
from camera_core.errors import ConfigError
from camera_core.frames.framecode import code_region, read_code
from camera_core.recording.timing_log import COLUMNS
from camera_core.sources import create_sources
from camera_core.sources.sim import SimParams, SimSource, create_sim_sources
from camera_core.sync.led import Led, led_box
from camera_core.system import CameraSystem
from camera_core.tools.synccheck import main as synccheck
from tests.conftest import wait_for_frames
from tests.sync_support import free_udp_port, timing_rows, true_offset_us

FPS = 30.0
PERIOD_US = 1e6 / FPS


def sync_settings(small_settings: Callable[..., Settings], **changes: object) -> Settings:
    base: dict[str, object] = {
        "resolution_preset": 7,
        "sim_realtime": True,
        "sim_cameras": 2,
        "sync_frames": 30,
        "sync_period_frames": 10,
        "sync_port": free_udp_port(),
        "sim_led": True,
        "sim_led_period_s": 0.5,
        "sim_led_on_ms": 100.0,
        "min_free_space_mb": 0,
        "stop_free_space_mb": 0,
    }
    base.update(changes)
    return small_settings(**base)


def record(settings: Settings, frames: int) -> tuple[Path, dict[str, object]]:
    """Start recording at once (before the sync point), record `frames` frames per camera."""
    with CameraSystem(settings) as system:
        system.start_recording()
        wait_for_frames(system, frames)
        status = system.status()
        system.stop_recording()
        assert system.session is not None
        return system.session.directory, status


def run_synccheck(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = synccheck([*args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_two_synced_sim_cameras_start_at_the_sync_point_and_stay_together(
    small_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    session, status = record(sync_settings(small_settings, sync_role="server"), 120)
    rows = timing_rows(session)
    assert list(rows[0][0])[-4:] == ["sync_ready", "sync_timer_us", "sync_error_us", "exposure_us"]
    for cam_rows in rows.values():
        assert all(r["sync_ready"] == "1" for r in cam_rows)  # nothing before the sync point is recorded
        first_timer = int(cam_rows[0]["sync_timer_us"])
        assert -PERIOD_US / 2 < first_timer <= PERIOD_US / 2  # the first frame is the sync point
    assert rows[1][0]["sync_error_us"] != ""  # the client reports its phase error
    first = [int(r[0]["sensor_timestamp_ns"]) for r in rows.values()]
    assert abs(first[1] - first[0]) <= 100_000  # the same frame, by timestamps
    truth = true_offset_us(rows[1], rows[0])
    assert abs(truth) <= 100

    code, report = run_synccheck(capsys, str(session))
    assert code == 0
    cams = report["cameras"]
    assert [c["camera_id"] for c in cams] == [0, 1]
    assert cams[0]["led_offset_us"] == 0
    assert abs(cams[1]["led_offset_us"]) <= 100  # the LED proves it
    assert abs(cams[1]["led_offset_us"] - truth) <= 100  # and is right
    assert cams[1]["edges_matched"] >= 4
    by_id = {c["camera_id"]: c for c in status["cameras"]}
    assert by_id[0]["sync_role"] == "server" and by_id[1]["sync_role"] == "client"
    assert by_id[1]["sync_ready"] is True and by_id[1]["sync_messages"] > 0


def test_synccheck_measures_the_true_offset_of_free_running_cameras(
    small_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = sync_settings(small_settings, sync_role="off")
    sources = create_sim_sources(settings)
    # Start the second camera about 11.7 ms after the first: a known, large offset.
    late = sources[1]
    assert isinstance(late, SimSource)
    start = late.start

    def start_later() -> None:
        start()
        late._t0 += 11_700_000

    late.start = start_later  # type: ignore[method-assign]
    with CameraSystem(settings, sources=sources) as system:
        system.start_recording()
        wait_for_frames(system, 100)
        system.stop_recording()
        assert system.session is not None
        session = system.session.directory
    rows = timing_rows(session)
    assert all(r["sync_ready"] == "" for r in rows[0])  # no sync: the columns stay empty
    truth = true_offset_us(rows[1], rows[0])
    assert abs(truth) > 5_000
    code, report = run_synccheck(capsys, str(session))
    assert code == 0
    cam1 = report["cameras"][1]
    assert abs(cam1["led_offset_us"] - truth) <= 100
    assert abs(cam1["clock_error_us"]) <= 100  # one host, one clock


def test_a_host_clock_error_shows_in_synccheck_only(
    small_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Two hosts (two systems) synced by wall clock, the client's clock 2 ms fast: by timestamps
    they agree, the LED shows the client exposing 2 ms early, and the difference is that host's."""
    port = free_udp_port()
    server = sync_settings(small_settings, sync_role="server", sim_cameras=1, sync_port=port, sync_frames=45)
    client = server.replace(sync_role="client", sim_clock_offset_us=2000.0, output_dir=str(tmp_path / "b"))
    with CameraSystem(client) as b, CameraSystem(server) as a:
        a.start_recording()
        b.start_recording()
        wait_for_frames(a, 100)
        wait_for_frames(b, 100)
        a.stop_recording()
        b.stop_recording()
        assert a.session is not None and b.session is not None
        folders = [a.session.directory, b.session.directory]
    code, report = run_synccheck(capsys, f"hostA={folders[0]}", f"hostB={folders[1]}")
    assert code == 0
    host_b = report["cameras"][1]
    assert host_b["host"] == "hostB"
    assert abs(host_b["timestamp_offset_us"]) <= 100
    assert host_b["led_offset_us"] == pytest.approx(-2000, abs=200)
    assert host_b["clock_error_us"] == pytest.approx(2000, abs=200)


def test_led_brightness_is_the_lit_share_of_the_exposure() -> None:
    led = Led(period_ns=1_000_000_000, on_ns=100_000_000)
    assert led.lit_fraction(0, 33_000_000) == 1.0
    assert led.lit_fraction(-10_000_000, 40_000_000) == pytest.approx(0.75)
    assert led.lit_fraction(90_000_000, 20_000_000) == pytest.approx(0.5)
    assert led.lit_fraction(200_000_000, 50_000_000) == 0.0
    assert led.lit_fraction(999_000_000, 2_000_000) == pytest.approx(0.5)  # the next flash


@pytest.mark.parametrize("size", [(320, 240), (640, 480), (1456, 1088)])
def test_led_stays_clear_of_the_frame_code_and_the_frame_number(size: tuple[int, int]) -> None:
    width, height = size
    x0, y0, x1, y1 = led_box(width, height)
    assert y1 <= code_region(width, height)[1]  # above the frame code row
    assert y0 > height // 4  # well below the burned-in frame number (top right)
    source = SimSource(0, SimParams(width, height, 30.0, realtime=False, led=Led(1_000_000_000, 999_999_999)))
    source.open()
    source.start()
    frame = source.read()
    assert frame is not None
    luma = frame.luma()
    assert read_code(luma) == 0
    assert abs(float(luma[y0:y1, x0:x1].mean()) - 235) < 1  # lit (the LED is off 1 ns a second)


def test_bad_sync_settings_are_clear_errors(small_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match=r"sync_group.*not a multicast address"):
        create_sim_sources(small_settings(sync_role="server", sync_group="192.168.1.1"))
    with pytest.raises(ConfigError, match="sim_led_on_ms"):
        create_sim_sources(small_settings(sim_led=True, sim_led_period_s=0.05, sim_led_on_ms=60))
    with pytest.raises(ConfigError, match="sync_role"):
        small_settings(sync_role="leader")
    with pytest.raises(ConfigError, match="not possible with OpenCV cameras"):
        create_sources(small_settings(sync_role="client", camera_backend="opencv"), [])


def test_old_readers_see_the_first_columns_unchanged() -> None:
    assert COLUMNS[:9] == (
        "frame_number",
        "write_time_unix",
        "sensor_timestamp_ns",
        "dropped_since_last",
        "total_hardware_drops",
        "wall_clock_ns",
        "pts_us",
        "frame_duration_us",
        "sensor_sequence",
    )
