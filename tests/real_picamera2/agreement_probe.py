"""Runs the picamera2 calls camera_core makes against whichever `picamera2` this interpreter imports
(the real one under run_real.sh, or the fake with tests/fakes first on PYTHONPATH) and prints what it
saw as one JSON object; test_real_agreement.py runs it both ways and compares.

Every value printed is something the project relies on (names, types, shapes, units, which errors),
not something that differs by design between a virtual camera and the fake's sensor (sizes of raw
modes, exposure values).
"""

from __future__ import annotations

import json
import threading
from fractions import Fraction
from typing import Any

import picamera2
from picamera2 import MappedArray, Picamera2
from picamera2.encoders import H264Encoder, LibavH264Encoder
from picamera2.outputs import Output

MAIN, LORES = (1456, 1088), (320, 240)
FRAME_US = 33333
WAIT_S = 15.0


def failure(call: Any) -> str | None:
    """`Type: message` of what `call()` raised, or None."""
    try:
        call()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def video_config(cam: Picamera2) -> dict[str, Any]:
    """The configuration the project's picamera2 source asks for."""
    return cam.create_video_configuration(
        main={"size": MAIN, "format": "YUV420"},
        lores={"size": LORES, "format": "YUV420"},
        raw=None,
        buffer_count=6,
        controls={"FrameDurationLimits": (FRAME_US, FRAME_US)},
        display=None,
        encode="main",
        sensor={},
    )


def enum_name(value: Any) -> str:
    return str(getattr(value, "name", value)).rsplit(".", 1)[-1]


class Collect(Output):  # type: ignore[misc]
    """The project's sink output: every encoded frame's bytes, keyframe flag and timestamp."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[int, bool, Any]] = []
        self.enough = threading.Event()

    def outputframe(self, frame: Any, keyframe: bool = True, timestamp: Any = None, packet: Any = None, audio: bool = False) -> None:  # fmt: skip
        if not audio:
            self.frames.append((len(bytes(frame)), bool(keyframe), timestamp))
            if len(self.frames) >= 10:
                self.enough.set()


def probe() -> dict[str, Any]:
    seen: dict[str, Any] = {}
    info = Picamera2.global_camera_info()
    # Rotation is missing on the virtual cameras (a Pi's cameras have it); the project reads none of it.
    seen["global_camera_info"] = [sorted(k for k in c if k != "Rotation") for c in info]
    seen["models"] = [c["Model"] for c in info]
    seen["nums"] = [c["Num"] for c in info]
    seen["h264_is_libav"] = issubclass(H264Encoder, LibavH264Encoder)

    manager = Picamera2._cm  # camera_core's discovery resets it between attempts that find no camera
    seen["camera_manager"] = [type(manager.cameras).__name__, len(manager.cameras), callable(manager.reset)]
    cam = Picamera2(0)
    seen["camera_manager_while_open"] = sorted(manager.cameras)
    try:
        try:
            Picamera2(0)
            seen["open_busy_camera"] = None
        except RuntimeError as exc:  # camera_core quotes the message and its cause (CAMERA_BUSY)
            seen["open_busy_camera"] = [str(exc), exc.__cause__ is not None]
        seen["model_property"] = cam.camera_properties["Model"]
        modes = cam.sensor_modes
        seen["sensor_modes_are_dicts_with_format"] = all(isinstance(m, dict) and "format" in m for m in modes)
        cam.configure(video_config(cam))
        actual = cam.camera_configuration()
        seen["main"] = [list(actual["main"]["size"]), actual["main"]["format"], actual["main"]["stride"]]
        seen["lores"] = [list(actual["lores"]["size"]), actual["lores"]["format"], actual["lores"]["stride"]]
        space = actual["colour_space"]
        seen["colour_space"] = [enum_name(space.ycbcrEncoding), enum_name(space.range)]
        limits = cam.camera_controls["FrameDurationLimits"]
        seen["frame_duration_limits"] = [len(limits), type(limits[0]).__name__, limits[0] <= 16667]

        frames: list[dict[str, Any]] = []
        got = threading.Event()

        def pre_callback(request: Any) -> None:
            metadata = request.get_metadata()
            with MappedArray(request, "main") as m:
                shape, writable = list(m.array.shape), bool(m.array.flags.writeable)
                m.array[0, 0] = 255  # the project burns numbers in here
            frames.append({"metadata": metadata, "shape": shape, "writable": writable})
            if len(frames) >= 8:
                got.set()

        cam.pre_callback = pre_callback
        cam.start()
        seen["configure_while_started"] = (failure(lambda: cam.configure(video_config(cam))) or "").split(":")[0]
        if not got.wait(WAIT_S):
            raise TimeoutError("fewer than 8 frames in 15 s")
        meta = frames[-1]["metadata"]
        seen["metadata_types"] = {
            k: type(meta.get(k)).__name__
            for k in ("SensorTimestamp", "FrameDuration", "FrameWallClock", "ExposureTime")
        }
        seen["wall_clock_in_ns"] = int(meta["FrameWallClock"]) > 10**17
        seen["main_array"] = [frames[-1]["shape"], frames[-1]["writable"]]
        stamps = [int(f["metadata"]["SensorTimestamp"]) for f in frames[-4:]]
        durations = [int(f["metadata"]["FrameDuration"]) for f in frames[-4:]]
        seen["timestamps_step_by_frame_duration"] = all(
            b - a == d * 1000 for a, b, d in zip(stamps, stamps[1:], durations[1:], strict=False)
        )

        done: list[Any] = []
        job_done = threading.Event()
        cam.capture_request(signal_function=lambda job: (done.append(job), job_done.set()))
        if not job_done.wait(WAIT_S):
            raise TimeoutError("capture_request's signal_function never ran")
        request = done[0].get_result(timeout=0)
        with MappedArray(request, "lores", write=False) as m:
            seen["lores_array"] = list(m.array.shape)
        request.release()

        # The encoder as the recorder makes it: frame rate a Fraction, its own output; a float rate fails.
        seen["float_rate"] = failure(
            lambda: cam.start_encoder(LibavH264Encoder(framerate=30.0), Collect(), name="main")
        )
        cam.stop_encoder()
        encoder = H264Encoder(bitrate=4_000_000, repeat=True, iperiod=30, framerate=Fraction(30))
        encoder.preset, encoder.threads = "ultrafast", 1
        out = Collect()
        cam.start_encoder(encoder, out, name="main")
        if not out.enough.wait(WAIT_S):
            raise TimeoutError("fewer than 10 encoded frames in 15 s")
        cam.stop_encoder(encoder)
        seen["encoded_first_keyframe"] = out.frames[0][1]
        seen["encoded_timestamp_type"] = type(out.frames[0][2]).__name__
        seen["encoded_first_timestamp"] = out.frames[0][2]
        seen["encoded_timestamps_increase"] = all(a[2] < b[2] for a, b in zip(out.frames, out.frames[1:], strict=False))
        seen["firsttimestamp_is_sensor_us"] = isinstance(encoder.firsttimestamp, int) and encoder.firsttimestamp > 0

        cam.set_controls({"FrameDurationLimits": (50000, 50000)})
        count = len(frames)
        deadline_frames = count + 30
        changed = threading.Event()

        def watch(request: Any) -> None:
            frames.append({"metadata": request.get_metadata(), "shape": [], "writable": False})
            if frames[-1]["metadata"]["FrameDuration"] == 50000 or len(frames) > deadline_frames:
                changed.set()

        cam.pre_callback = watch
        if not changed.wait(WAIT_S):
            raise TimeoutError("no frame after set_controls in 15 s")
        seen["set_controls_frame_duration"] = frames[-1]["metadata"]["FrameDuration"]
        cam.cancel_all_and_flush()
        cam.stop()
        cam.pre_callback = None
    finally:
        cam.close()
    seen["camera_manager_after_close"] = sorted(manager.cameras)
    seen["closed_camera_reopens"] = failure(lambda: Picamera2(0).close())
    return seen


if __name__ == "__main__":
    print(json.dumps({"module": picamera2.__file__, "seen": probe()}))
