"""The picamera2 backend end to end against the picamera2 fake (tests/fakes), on both platforms:
vc4 (Pi 4: V4L2 H264Encoder) and pisp (Pi 5: H264Encoder is libx264 through PyAV)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import av
import numpy as np
import pytest

from camera_core.config import Settings
from camera_core.errors import CameraBusyError, NoCamerasError
from camera_core.frames.overlay import burn_frame_number, frame_number_box
from camera_core.sources import create_sources
from camera_core.sources.picamera2_source import Picamera2Source, wall_clock_ns, yuv420_to_i420
from camera_core.system import CameraSystem, overlay_style
from camera_core.tools.verify import decode_frames, verify_recording

ROOT = Path(__file__).resolve().parents[1]
FAKES = str(ROOT / "tests" / "fakes")
FAST = {"Model": "imx296", "size": (1456, 1088), "fps": 200.0}


def _import_fake_platform(platform: str) -> dict[str, ModuleType]:
    """A private copy of the fake picamera2/libcamera modules for one platform (read at import),
    removed from sys.modules again so other tests still see a machine without picamera2."""

    def ours() -> list[str]:
        return [n for n in sys.modules if n.split(".")[0] in ("picamera2", "libcamera")]

    before = {n: sys.modules.pop(n) for n in ours()}
    old_env = os.environ.get("PICAMERA2_FAKE_PLATFORM")
    os.environ["PICAMERA2_FAKE_PLATFORM"] = platform
    sys.path.insert(0, FAKES)
    try:
        for name in ("picamera2", "picamera2.encoders", "picamera2.outputs"):
            importlib.import_module(name)
    finally:
        sys.path.remove(FAKES)
        if old_env is None:
            os.environ.pop("PICAMERA2_FAKE_PLATFORM", None)
        else:
            os.environ["PICAMERA2_FAKE_PLATFORM"] = old_env
        fakes = {n: sys.modules.pop(n) for n in ours()}
        sys.modules.update(before)
    return fakes


PLATFORMS = {name: _import_fake_platform(name) for name in ("vc4", "pisp")}


@pytest.fixture(params=["vc4", "pisp"])
def fake(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The fake's test API (picamera2._fake) with that platform's modules importable as picamera2."""
    modules = PLATFORMS[request.param]
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv("LIBCAMERA_LOG_LEVELS", "untouched")
    api = modules["picamera2._fake"]
    api.reset_fake()
    api.configure_fake(cameras=[FAST, FAST])
    yield api
    api.reset_fake()


def settings_for(tmp_path: Path, **changes: Any) -> Settings:
    base: dict[str, Any] = {
        "camera_backend": "picamera2",
        "output_dir": str(tmp_path / "rec"),
        "resolution_preset": 6,  # 480x360: rows padded to 512 bytes on pisp, so strides matter
        "preview_preset": 7,
        "target_fps": 60.0,
        "show_preview": False,
        "disable_mp4_conversion": False,
        "discovery_retry_delay": 0.0,
        "log_level": "debug",
    }
    base.update(changes)
    return Settings(**base)


def all_closed(api: ModuleType) -> bool:
    return not api.STATE.acquired and not any(cam.is_open for cam in api.STATE.instances)


def wait_recorded(system: CameraSystem, frames: int) -> None:
    """Until every camera has written `frames` frames; woken by each captured frame (no sleeping)."""
    for cam in system.cameras:
        version = 0
        while int(cam.recorder.stats()["frames_recorded"]) < frames:
            version, frame = cam.latest.wait_newer(version, 5.0)
            assert frame is not None, f"cam{cam.camera_id} stopped delivering frames"


def luma_frames(video: Path) -> list[np.ndarray]:
    fmt = "h264" if video.suffix == ".h264" else None
    with av.open(str(video), format=fmt) as container:
        return [f.to_ndarray(format="gray") for f in container.decode(video=0)]


def burned_number_error(plane: np.ndarray, number: int, settings: Settings) -> float:
    """Mean difference between the decoded number box and `#number` drawn the same way."""
    style = overlay_style(settings)
    expected = np.full_like(plane, 128)
    burn_frame_number(expected, number, style)
    x0, y0, x1, y1 = frame_number_box(plane.shape[1], style)
    box = (slice(y0, y1), slice(x0, x1))
    return float(np.mean(np.abs(plane[box].astype(np.int16) - expected[box].astype(np.int16))))


def test_two_cameras_record_snapshot_and_report_injected_drops_exactly(fake: ModuleType, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with CameraSystem(settings) as system:
        assert os.environ["LIBCAMERA_LOG_LEVELS"] == "*:WARN"
        system.start_recording()
        wait_recorded(system, 5)
        base = fake.sensor_stats(1)["sensor_frames"]
        injected = {base + 10, base + 11, base + 25}
        fake.configure_fake(drop_sequences={1: injected})
        snapshots = system.take_snapshot()  # while recording
        wait_recorded(system, 45)
        assert all(cam.recorder.active for cam in system.cameras)
        status = system.status()
        results = system.stop_recording()
        session_dir = system.session.directory if system.session else tmp_path
    assert all_closed(fake), "every Picamera2 is closed and released at the end"

    pi5 = sys.modules["picamera2.platform"].get_platform().name == "PISP"
    expected_encoder = "libx264" if pi5 else "V4L2 hardware"
    assert [c["resolution"] for c in status["cameras"]] == [[480, 360], [480, 360]]
    assert all(expected_encoder in str(c["encoder"]) for c in status["cameras"])
    manifest = json.loads(next(session_dir.glob("*.json")).read_text())
    assert all(expected_encoder in rec["encoder"] for rec in manifest["recordings"])

    assert len(snapshots) == 2
    for path in snapshots:
        with av.open(str(path)) as img:
            frame = next(img.decode(video=0))
            assert (frame.width, frame.height) == (480, 360)

    for result in results:
        video = session_dir / result.video
        assert video.suffix == ".mp4" and not video.with_suffix(".h264").exists()
        report = verify_recording(video, session_dir / str(result.timing_csv))
        assert report.ok, report.problems  # frames = rows, codes step by 1 + dropped_since_last, pts
        assert report.frames == result.frames >= 45
        codes = [f.code for f in decode_frames(video)]
        missing = set(range(codes[0], codes[-1] + 1)) - set(codes)
        assert result.hardware_drops == report.drops_reported == len(missing)
        if result.camera_id == 1:
            assert injected <= missing, "every injected drop is reported where it happened"
        lumas = luma_frames(video)
        for n in (0, 7, len(lumas) - 1):  # the burned-in number is the row's frame_number
            assert burned_number_error(lumas[n], n, settings) < burned_number_error(lumas[n], n + 1, settings)
            assert burned_number_error(lumas[n], n, settings) < 20


def test_camera_that_fails_to_open_is_reported_with_its_code(fake: ModuleType, tmp_path: Path) -> None:
    fake.configure_fake(fail_open={1})
    with pytest.raises(CameraBusyError) as info:
        CameraSystem(settings_for(tmp_path)).start()
    assert info.value.code == "CAMERA_BUSY"
    assert "camera 1 (imx296" in str(info.value)
    assert all_closed(fake), "camera 0, opened before, is closed again"


def test_no_camera_is_no_cameras_after_the_retries(fake: ModuleType, tmp_path: Path) -> None:
    fake.configure_fake(cameras=[])
    calls = []
    picamera2 = sys.modules["picamera2"].Picamera2
    original = picamera2.global_camera_info

    def counting() -> list[dict[str, Any]]:
        calls.append(1)
        return original()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(picamera2, "global_camera_info", staticmethod(counting))
        with pytest.raises(NoCamerasError) as info:
            CameraSystem(settings_for(tmp_path, discovery_retry=3, camera_backend="auto")).start()
    assert info.value.code == "NO_CAMERAS"
    assert len(calls) == 3


def test_other_sensor_uses_the_nearest_mode_and_reports_the_actual_size(fake: ModuleType, tmp_path: Path) -> None:
    imx708 = {
        "Model": "imx708",
        "size": (4608, 2592),
        "modes": [
            {"size": (1536, 864), "bit_depth": 10, "fps": 120.13},
            {"size": (2304, 1296), "bit_depth": 10, "fps": 56.03},
            {"size": (4608, 2592), "bit_depth": 10, "fps": 14.35},
        ],
    }
    fake.configure_fake(cameras=[imx708])
    settings = settings_for(tmp_path, resolution_preset=0, libcamera_log_level="ERROR")  # 1456x1088
    sources = create_sources(settings, [])
    assert os.environ["LIBCAMERA_LOG_LEVELS"] == "*:ERROR"
    source = sources[0]
    assert isinstance(source, Picamera2Source)
    try:
        source.open()
        info = source.info
        assert (info.width, info.height) == (1456, 818)  # the 16:9 1536x864 mode fitted into 1456x1088
        assert source.picam2.camera_configuration()["sensor"]["output_size"] == (1536, 864)
    finally:
        source.close()
    assert all_closed(fake)


def test_yuv420_with_padded_rows_becomes_tight_i420() -> None:
    width, height, stride = 6, 4, 8
    y = np.arange(height * width, dtype=np.uint8).reshape(height, width)
    u = np.full((height // 2, width // 2), 100, dtype=np.uint8)
    v = np.full((height // 2, width // 2), 200, dtype=np.uint8)
    buf = np.zeros((height * 3 // 2, stride), dtype=np.uint8)
    buf[:height, :width] = y
    chroma = buf[height:].reshape(height, stride // 2)
    chroma[: height // 2, : width // 2] = u
    chroma[height // 2 :, : width // 2] = v
    out = yuv420_to_i420(buf, width, height)
    flat = out.reshape(-1)
    assert out.shape == (6, 6)
    assert np.array_equal(out[:height], y)
    assert np.all(flat[24:30] == 100) and np.all(flat[30:36] == 200)


def test_frame_wall_clock_in_microseconds_is_converted() -> None:
    ns = 1_790_000_000_123_456_789
    assert wall_clock_ns({"FrameWallClock": ns}) == ns
    assert wall_clock_ns({"FrameWallClock": ns // 1000}) == ns // 1000 * 1000
    assert wall_clock_ns({}) is None


def test_pi_smoke_script_runs_against_the_fake(tmp_path: Path) -> None:
    """The script a Pi owner runs, here on the fake Pi 5 platform in its own process."""
    env = dict(os.environ, PICAMERA2_FAKE_PLATFORM="pisp")
    cmd = [sys.executable, str(ROOT / "benchmarks" / "pi_smoke.py"), "--fake", "--seconds", "1.5"]
    cmd += ["--output-dir", str(tmp_path), "--json", str(tmp_path / "smoke.json")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "smoke.json").read_text())
    assert report["passed"] and len(report["cameras"]) == 2
    for cam in report["cameras"]:
        assert cam["frames"] == cam["rows"] > 0
        assert "libx264" in cam["encoder"]
    assert "PASS" in proc.stdout


def test_camera_without_raw_modes_is_asked_for_the_preset_size(fake: ModuleType, tmp_path: Path) -> None:
    """A UVC-like camera: picamera2 lists its modes as [{"format": "NV12"}] without sizes (the old plan
    raised KeyError: 'size')."""
    fake.configure_fake(cameras=[{"Model": "usb-webcam", "size": (1280, 720), "fps": 200.0, "raw_formats": ["NV12"]}])
    source = create_sources(settings_for(tmp_path), [])[0]
    assert isinstance(source, Picamera2Source)
    try:
        source.open()
        assert source.picam2.sensor_modes == [{"format": "NV12"}]
        assert (source.info.width, source.info.height) == (480, 360)
    finally:
        source.close()
    assert all_closed(fake)


def test_verify_checks_frame_codes_only_where_the_manifest_says_sim(
    fake: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real camera's file never fails for lacking the sim's frame codes; the line says what was checked."""
    from camera_core.tools.verify import main as verify_main

    with CameraSystem(settings_for(tmp_path, disable_mp4_conversion=True)) as system:
        system.start_recording()
        wait_recorded(system, 5)
        system.stop_recording()
        session = system.session.directory if system.session else tmp_path
    manifest = json.loads((session / "manifest.json").read_text())
    assert manifest["cameras"][0]["backend"] == "picamera2"

    assert verify_main([str(session)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("frame codes not checked: recorded by picamera2" in line for line in lines)
    assert verify_main(["--codes", str(session)]) == 0  # the fake draws frame codes, so they check out
    assert all("frame codes checked (--codes)" in line for line in capsys.readouterr().out.splitlines())

    manifest["recordings"] = []  # killed before the manifest listed the takes: the file names say the camera
    for camera in manifest["cameras"]:
        camera["backend"] = "sim"  # as if a sim had recorded these frames: codes are checked
    (session / "manifest.json").write_text(json.dumps(manifest))
    assert verify_main([str(session)]) == 0
    assert all("frame codes checked (sim frames carry them)" in x for x in capsys.readouterr().out.splitlines())
    (session / "manifest.json").unlink()
    assert verify_main([str(session)]) == 0
    assert all("no manifest.json beside it" in line for line in capsys.readouterr().out.splitlines())


def test_a_snapshot_holds_every_camera_when_its_thread_wakes_late(
    fake: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The picamera2 source copies the main image only into the frame after a snapshot asks for it. On
    the real tier under load, the snapshot's thread woke after a newer frame without the image had
    replaced that one as the camera's latest, and the camera was silently left out of the snapshot."""
    with CameraSystem(settings_for(tmp_path)) as system:
        system.start_recording()
        wait_recorded(system, 5)
        for cam in system.cameras:
            prompt = cam.latest.wait_newer

            def late(version: int, timeout: float | None = None, prompt: Any = prompt) -> tuple[int, Any]:
                newer, _ = prompt(version, timeout)  # woken, but it runs only a frame later
                return prompt(newer, timeout)

            monkeypatch.setattr(cam.latest, "wait_newer", late)
        snapshots = system.take_snapshot()
        system.stop_recording()
    assert sorted(path.name.split("_")[1] for path in snapshots) == ["cam0", "cam1"]
    for path in snapshots:
        with av.open(str(path)) as img:
            assert (img.streams.video[0].width, img.streams.video[0].height) == (480, 360)
