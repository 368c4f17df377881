"""The picamera2 fake (tests/fakes) behaves like picamera2's real API where camera_core relies on it."""

from __future__ import annotations

import importlib
import io
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import av
import numpy as np
import pytest

from camera_core.frames import framecode

FAKES = str(Path(__file__).resolve().parent / "fakes")


def _import_fakes_privately() -> dict[str, ModuleType]:
    """Import the fake picamera2/libcamera, then hide them again so that other test modules still see a
    machine without picamera2; the fixture below puts them back for this module's tests only."""

    def ours() -> list[str]:
        return [n for n in sys.modules if n.split(".")[0] in ("picamera2", "libcamera")]

    before = {n: sys.modules.pop(n) for n in ours()}  # a real picamera2 already imported (on a Pi)
    sys.path.insert(0, FAKES)
    try:
        for name in ("picamera2", "picamera2.encoders", "picamera2.outputs"):
            importlib.import_module(name)
    finally:
        sys.path.remove(FAKES)
        fakes = {n: sys.modules.pop(n) for n in ours()}
        sys.modules.update(before)
    return fakes


FAKE_MODULES = _import_fakes_privately()
picamera2 = FAKE_MODULES["picamera2"]
fake = FAKE_MODULES["picamera2._fake"]
Picamera2 = picamera2.Picamera2
MappedArray = picamera2.MappedArray
Encoder = FAKE_MODULES["picamera2.encoders"].Encoder
H264Encoder = FAKE_MODULES["picamera2.encoders"].H264Encoder
LibavH264Encoder = FAKE_MODULES["picamera2.encoders"].LibavH264Encoder
Output = FAKE_MODULES["picamera2.outputs"].Output
FileOutput = FAKE_MODULES["picamera2.outputs"].FileOutput
PyavOutput = FAKE_MODULES["picamera2.outputs"].PyavOutput

FAST = {"Model": "imx296", "size": (1456, 1088), "fps": 200.0}  # 5 ms frames keep the tests short
SMALL = (320, 240)
TIMEOUT = 5.0


@pytest.fixture(autouse=True)
def _fresh_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    assert picamera2.__file__ is not None and picamera2.__file__.startswith(FAKES)
    monkeypatch.syspath_prepend(FAKES)
    for name, module in FAKE_MODULES.items():
        monkeypatch.setitem(sys.modules, name, module)
    fake.reset_fake()
    yield
    fake.reset_fake()


def open_fast(num: int = 0, **video: Any) -> Picamera2:
    fake.configure_fake(cameras=[FAST, FAST])
    cam = Picamera2(num)
    video.setdefault("main", {"size": SMALL, "format": "YUV420"})
    video.setdefault("controls", {"FrameRate": 200})
    cam.configure(cam.create_video_configuration(**video))
    return cam


class Collector(Output):
    """Counts encoded frames (outputframe args as the real Output base) and signals when it has `want`."""

    def __init__(self, want: int) -> None:
        super().__init__()
        self.want = want
        self.frames: list[tuple[bytes, bool, int | None]] = []
        self.done = threading.Event()

    def outputframe(
        self, frame: Any, keyframe: bool = True, timestamp: int | None = None, packet: Any = None, audio: bool = False
    ) -> None:
        self.frames.append((bytes(frame), keyframe, timestamp))
        if len(self.frames) >= self.want:
            self.done.set()


def post_events(cam: Picamera2, count: int) -> tuple[list[dict[str, Any]], threading.Event]:
    """Collect metadata of the first `count` frames from post_callback."""
    seen: list[dict[str, Any]] = []
    done = threading.Event()

    def post(request: Any) -> None:
        if len(seen) < count:
            seen.append(request.get_metadata())
            if len(seen) == count:
                done.set()

    cam.post_callback = post
    return seen, done


def test_camera_info_open_errors_and_close() -> None:
    fake.configure_fake(cameras=[{"Model": "imx296"}, {"Model": "imx708", "size": (4608, 2592)}])
    info = Picamera2.global_camera_info()
    assert [set(c) for c in info] == [{"Model", "Location", "Rotation", "Id", "Num"}] * 2
    assert [(c["Model"], c["Num"]) for c in info] == [("imx296", 0), ("imx708", 1)]
    with pytest.raises(IndexError):
        Picamera2(2)
    with Picamera2(0) as cam:
        assert cam.camera_properties["Model"] == "imx296"
        assert cam.camera_properties["PixelArraySize"] == (1456, 1088)
        assert cam.camera_controls["FrameDurationLimits"][0] == int(1e6 / 60.38)
        with pytest.raises(RuntimeError, match="Camera __init__ sequence did not complete"):
            Picamera2(0)  # busy
    Picamera2(0).close()  # free again after close
    fake.configure_fake(fail_open={1})
    with pytest.raises(RuntimeError, match="Camera __init__ sequence did not complete"):
        Picamera2(1)


def test_configurations_are_shaped_like_the_real_ones() -> None:
    cam = Picamera2(0)
    video = cam.create_video_configuration()
    assert video["main"] == {"format": "XBGR8888", "size": (1280, 720), "preserve_ar": True}
    assert video["lores"] is None and video["raw"] == {"format": "SRGGB10_CSI2P", "size": (1280, 720)}
    assert video["controls"]["FrameDurationLimits"] == (33333, 33333)
    assert video["buffer_count"] == 6 and video["encode"] == "main" and video["queue"] is True
    assert str(video["colour_space"]) == "Rec709"
    assert str(cam.create_video_configuration(main={"size": (640, 480)})["colour_space"]) == "Smpte170m"
    assert cam.create_preview_configuration()["buffer_count"] == 4
    still = cam.create_still_configuration()
    assert still["main"]["format"] == "BGR888" and still["main"]["size"] == (1456, 1088)
    assert still["buffer_count"] == 1
    with pytest.raises(ValueError, match="Bad key"):
        cam.create_video_configuration(main={"fps": 30})

    odd = cam.create_video_configuration(main={"size": (1000, 700), "format": "YUV420"})
    Picamera2.align_configuration(odd)
    assert odd["main"]["size"] == (960, 700)  # 64-pixel multiple for YUV420 on VC4

    cfg = cam.create_video_configuration(main={"size": (1000, 700), "format": "RGB888"})
    cam.configure(cfg)
    main = cam.camera_config["main"]
    assert main["stride"] == 3008 and main["framesize"] == 3008 * 700  # 3000 bytes padded to 32
    assert cam.camera_config["raw"]["size"] == (1456, 1088)  # the raw stream is the sensor mode
    assert cam.camera_config["sensor"] == {"bit_depth": 10, "output_size": (1456, 1088)}
    modes = cam.sensor_modes
    assert set(modes[0]) == {"format", "unpacked", "bit_depth", "size", "fps", "crop_limits", "exposure_limits"}
    assert (str(modes[0]["format"]), modes[0]["size"], modes[0]["fps"]) == ("SRGGB10_CSI2P", (1456, 1088), 60.38)
    cam.configure(cfg)
    cam.start()
    with pytest.raises(RuntimeError, match="Camera must be stopped before configuring"):
        cam.configure(cfg)
    with pytest.raises(RuntimeError, match="not advertised"):
        cam.set_controls({"NoSuchControl": 1})
    cam.close()


@pytest.mark.parametrize("fmt", ["YUV420", "RGB888", "BGR888", "XBGR8888", "XRGB8888"])
def test_array_shapes_byte_order_and_frame_code(fmt: str, tmp_path: Path) -> None:
    w, h = 200, 100  # not a multiple of the alignment: rows carry padding
    cam = open_fast(main={"size": (w, h), "format": fmt})
    cam.start()
    with cam.captured_request() as request:
        array = request.make_array("main")
        with MappedArray(request, "main") as m:
            assert m.array is not None and np.shares_memory(
                m.array, request.request.buffers[request.stream_map["main"]]
            )
    stride = cam.camera_config["main"]["stride"]
    if fmt == "YUV420":
        assert array.shape == (h * 3 // 2, stride) and stride == 256
        seq = fake.read_frame_code(array, (w, h))
        expected_luma = fake.scene_rgb((w, h), seq)[:, :, 0]
        assert np.array_equal(array[: h - 16, :w], expected_luma[: h - 16])
    else:
        assert array.shape == (h, w, 4 if fmt.startswith("X") else 3)
        seq = fake.read_frame_code(array, (w, h))
        rgb = fake.scene_rgb((w, h), seq)
        order = fake.RGB_BYTE_ORDER[fmt]
        for channel in range(3):
            assert np.array_equal(array[: h - 16, :, order[channel]], rgb[: h - 16, :, channel])
        if fmt == "RGB888":
            assert order == (2, 1, 0)  # RGB888 is B,G,R in memory (OpenCV order)
    if fmt in ("YUV420", "BGR888"):
        import simplejpeg

        out = tmp_path / "still.jpg"
        md = cam.capture_file(str(out))
        assert "SensorTimestamp" in md and simplejpeg.decode_jpeg(out.read_bytes()).shape[:2] == (h, w)
    cam.close()


def test_callbacks_jobs_and_encoders_run_in_the_real_order() -> None:
    cam = open_fast()
    events: list[str] = []
    done = threading.Event()

    class Recorder(Encoder):
        def _encode(self, stream: Any, request: Any) -> None:
            events.append("encode")
            if events.count("encode") >= 3:
                done.set()

    def job() -> tuple[bool, None]:
        events.append("job")
        return (True, None)

    def pre(request: Any) -> None:
        events.append("pre")
        with MappedArray(request, "main") as m:
            m.array[:8, :8] = 7  # drawn before captures and the encoder see the frame

    cam.pre_callback = pre
    cam.post_callback = lambda request: events.append("post")
    encoder = Recorder()
    cam.start_encoder(encoder, Collector(1))
    cam.start()
    assert cam.capture_array()[0, 0] == 7
    cam.dispatch_functions([job], wait=TIMEOUT)
    assert done.wait(TIMEOUT)
    cam.stop_recording()
    first_job = events.index("job")
    # A job runs between pre_callback and post_callback of a pass with new frames, or (as in picamera2,
    # where dispatch_functions prods the loop when a completed request is queued) in a pass with none,
    # after a whole pass (its last encode) and before the next one starts.
    in_pass = events[first_job - 1] == "pre" and events[first_job + 1 : first_job + 3] == ["post", "encode"]
    prodded = events[first_job - 1] == "encode" and events[first_job + 1 : first_job + 2] in (["pre"], [])
    assert in_pass or prodded, events[max(0, first_job - 3) : first_job + 4]
    assert events[:3] == ["pre", "post", "encode"]


def test_timestamps_one_frame_apart_with_injected_drops() -> None:
    fake.configure_fake(drop_sequences={0: {5, 9}})
    cam = open_fast()
    codes: list[int] = []

    def pre(request: Any) -> None:
        with MappedArray(request, "main") as m:
            codes.append(fake.read_frame_code(m.array, SMALL))

    cam.pre_callback = pre
    seen, done = post_events(cam, 12)
    cam.start()
    assert done.wait(TIMEOUT)
    cam.stop()
    assert codes[:12] == [0, 1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 13]
    stamps = np.array([md["SensorTimestamp"] for md in seen])
    gaps = np.diff(stamps) // 5_000_000
    assert list(gaps) == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1, 1] and np.all(np.diff(stamps) % 5_000_000 == 0)
    assert all(md["FrameDuration"] == 5000 and isinstance(md["SensorTimestamp"], int) for md in seen)
    assert abs(stamps[-1] - time.clock_gettime_ns(time.CLOCK_BOOTTIME)) < 1_000_000_000
    assert abs(seen[-1]["FrameWallClock"] - time.time_ns()) < 1_000_000_000
    assert {"ExposureTime", "AnalogueGain", "DigitalGain", "ColourGains", "Lux", "ScalerCrop"} <= set(seen[0])
    assert fake.sensor_stats(0)["dropped_injected"] == 2


def test_held_requests_stall_the_camera_until_released() -> None:
    cam = open_fast(buffer_count=3)
    cam.start()
    held = [cam.capture_request(), cam.capture_request()]  # + the one the loop keeps queued = all 3
    before = fake.sensor_stats(0)["dropped_no_buffer"]
    assert fake.wait_for_stat(0, "dropped_no_buffer", before + 5, TIMEOUT)
    delivered = fake.sensor_stats(0)["delivered"]
    assert fake.wait_for_stat(0, "dropped_no_buffer", before + 10, TIMEOUT)
    assert fake.sensor_stats(0)["delivered"] == delivered  # nothing gets through while all are held
    for request in held:
        request.release()
    assert fake.wait_for_stat(0, "delivered", delivered + 3, TIMEOUT)
    cam.close()


def test_stalled_camera_times_out_and_closes_after_flush() -> None:
    fake.configure_fake(stall_after={0: 3})
    cam = open_fast()
    cam.start()
    assert fake.wait_for_stat(0, "stalled", 1, TIMEOUT)
    cam.capture_metadata(wait=TIMEOUT)  # the newest delivered frame is still queued
    with pytest.raises(TimeoutError):
        cam.capture_metadata(wait=0.2)
    cam.cancel_all_and_flush()  # as on a real Pi, stop() would otherwise wait behind the stuck job
    cam.close()


def test_frame_rate_control_applies_a_few_frames_later() -> None:
    cam = open_fast()
    seen, done = post_events(cam, 30)
    cam.start()
    cam.set_controls({"FrameRate": 100})
    assert done.wait(TIMEOUT)
    cam.stop()
    durations = [md["FrameDuration"] for md in seen]
    assert durations[0] == 5000 and durations[-1] == 10000
    assert durations.index(10000) >= 2  # controls ride on recycled requests


@pytest.mark.parametrize("encoder_cls", [H264Encoder, LibavH264Encoder])
def test_h264_output_decodes_with_matching_pts_and_frame_codes(encoder_cls: type[Encoder], tmp_path: Path) -> None:
    fake.configure_fake(drop_sequences={0: {4}})
    cam = open_fast()
    codes: list[int] = []

    def pre(request: Any) -> None:
        with MappedArray(request, "main") as m:
            codes.append(fake.read_frame_code(m.array, SMALL))

    cam.pre_callback = pre
    video, pts = tmp_path / "v.h264", tmp_path / "v.pts"
    collector = Collector(20)
    encoder = encoder_cls(bitrate=2_000_000)
    output = FileOutput(str(video), pts=str(pts))
    cam.start_recording(encoder, [output, collector])
    assert collector.done.wait(TIMEOUT)
    cam.stop_recording()
    assert output.ptsoutput is not None
    output.ptsoutput.close()

    stamps_us = [t for _, _, t in collector.frames]
    assert stamps_us[0] == 0 and collector.frames[0][1] is True
    lines = pts.read_text().splitlines()
    assert lines == [f"{t // 1000}.{t % 1000:03}" for t in stamps_us]
    with av.open(str(video), format="h264") as container:
        decoded = [fake.read_frame_code(f.to_ndarray(format="gray")) for f in container.decode(video=0)]
    assert len(decoded) == len(collector.frames) == len(lines)
    assert decoded == codes[: len(decoded)]
    assert 4 not in decoded and decoded[:5] == [0, 1, 2, 3, 5]
    assert [t // 5000 for t in stamps_us] == [c - decoded[0] for c in decoded]  # pts gap = sensor gap


def test_pyav_output_muxes_real_timestamps(tmp_path: Path) -> None:
    cam = open_fast()
    mp4 = tmp_path / "v.mp4"
    collector = Collector(10)
    cam.start_recording(LibavH264Encoder(bitrate=2_000_000, framerate=200), [PyavOutput(str(mp4)), collector])
    assert collector.done.wait(TIMEOUT)
    cam.stop_recording()
    with av.open(str(mp4)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        times = [round(float(f.pts * stream.time_base) * 1e6) for f in frames]
    assert len(frames) == len(collector.frames)
    assert np.all(np.abs(np.diff(times) - 5000) <= 1)


def test_frame_code_matches_the_project_sim() -> None:
    plane = np.zeros((120, 320), dtype=np.uint8)
    framecode.draw_code(plane, 0x8000_0005)
    assert fake.read_frame_code(plane) == 0x8000_0005
    yuv = np.zeros((180, 320), dtype=np.uint8)
    fake.draw_frame_code(yuv, "YUV420", (320, 120), 123456)
    assert framecode.read_code(yuv[:120]) == 123456


def test_controls_and_configuration_helpers() -> None:
    cam = Picamera2(0)
    controls = picamera2.Controls(cam, {"FrameRate": 30})
    assert controls.make_dict() == {"FrameDurationLimits": (33333, 33333)}
    assert picamera2.Controls(cam, {"FrameRate": (10, 30)}).make_dict()["FrameDurationLimits"] == (33333, 100000)
    config = picamera2.CameraConfiguration(cam.create_video_configuration(), cam)
    config.size = (640, 480)
    assert config.main.size == (640, 480)
    with pytest.raises(RuntimeError, match="Invalid field"):
        config.fps = 30  # type: ignore[attr-defined]
    buf = io.BytesIO()
    FileOutput(buf).outputframe(b"x")  # not recording: nothing written
    assert buf.getvalue() == b""
    cam.close()
