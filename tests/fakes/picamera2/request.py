"""CompletedRequest, MappedArray and Helpers of the fake picamera2 (same shapes and ownership rules)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import formats
from .controls import Controls

if TYPE_CHECKING:
    from ._sensor import FakeRequest, Stream
    from .picamera2 import Picamera2

_JPEG_COLOURSPACE = {"XBGR8888": "RGBX", "XRGB8888": "BGRX", "BGR888": "RGB", "RGB888": "BGR"}


def shaped_view(buffer: np.ndarray, fmt: str, size: tuple[int, int], stride: int) -> np.ndarray:
    """Zero-copy image view of a 1-D buffer, as picamera2's Helpers._make_array_shared."""
    w, h = size
    if fmt in ("BGR888", "RGB888", "XBGR8888", "XRGB8888"):
        bpp = 3 if fmt in ("BGR888", "RGB888") else 4
        array = buffer
        if stride != w * bpp:
            array = array.reshape((h, stride))[:, : w * bpp]
        return array.reshape((h, w, bpp))
    if fmt in ("BGR161616", "RGB161616"):
        array = buffer.reshape((h, stride))[:, : w * 6].view(np.uint16)
        return array.reshape((h, w, 3))
    if fmt in ("YUV420", "YVU420"):
        return buffer.reshape((h * 3 // 2, stride))
    if fmt in ("YUYV", "YVYU", "UYVY", "VYUY"):
        return buffer.reshape(h, stride // 2, 2)
    if formats.is_raw(fmt):
        return buffer.reshape((h, stride))
    raise RuntimeError("Format " + fmt + " not supported")


def _stream_of(request: CompletedRequest, stream: str | Stream) -> Stream:
    if isinstance(stream, str):
        found = request.stream_map.get(stream)
        if found is None:
            raise RuntimeError(f"Stream {stream!r} is not defined")
        return found
    return stream


class _MappedBuffer:
    """Context manager giving the stream's whole buffer as a 1-D uint8 array (no copy)."""

    def __init__(self, request: CompletedRequest, stream: str | Stream, write: bool = True) -> None:
        if request.request is None:
            raise RuntimeError("CompletedRequest has already been released")
        self._buffer = request.request.buffers[_stream_of(request, stream)]
        self._write = write

    def __enter__(self) -> np.ndarray:
        return self._buffer

    def __exit__(self, *exc: object) -> None:
        return None


class MappedArray:
    """`with MappedArray(request, "main") as m: m.array` is a writable view of the camera buffer."""

    def __init__(
        self, request: CompletedRequest, stream: str | Stream, reshape: bool = True, write: bool = True
    ) -> None:
        self._request = request
        self._stream = stream
        self._buffer = _MappedBuffer(request, stream, write=write)
        self._reshape = reshape
        self._array: np.ndarray | None = None

    def __enter__(self) -> MappedArray:
        array = self._buffer.__enter__()
        if self._reshape:
            if isinstance(self._stream, str):
                config = self._request.config[self._stream]
            else:
                c = self._stream.configuration
                config = {"format": c.pixel_format, "size": c.size, "stride": c.stride}
            array = self._request.picam2.helpers._make_array_shared(array, config)
        self._array = array
        return self

    def __exit__(self, *exc: object) -> None:
        self._array = None
        self._buffer.__exit__(*exc)

    @property
    def array(self) -> np.ndarray | None:
        return self._array


class CompletedRequest:
    """A finished frame. Holding a reference keeps its buffers from the camera; release() returns them."""

    def __init__(self, request: FakeRequest, picam2: Picamera2) -> None:
        self.request: FakeRequest | None = request
        self.ref_count = 1
        self.lock = picam2.request_lock
        self.picam2 = picam2
        self.stop_count: int = picam2.stop_count
        self.configure_count: int = picam2.configure_count
        self.config: dict[str, Any] = picam2.camera_config.copy()
        self.stream_map: dict[str, Any] = picam2.stream_map.copy()
        self.display = False

    def acquire(self) -> None:
        with self.lock:
            if self.ref_count == 0:
                raise RuntimeError("CompletedRequest: acquiring lock with ref_count 0")
            self.ref_count += 1

    def release(self) -> None:
        with self.lock:
            self.ref_count -= 1
            if self.ref_count < 0:
                raise RuntimeError("CompletedRequest: lock now has negative ref_count")
            if self.ref_count > 0:
                return
            picam2 = self.picam2
            request = self.request
            assert request is not None
            if picam2.camera is not None and self.stop_count == picam2.stop_count and picam2.started:
                request.reuse()
                for name, value in picam2.controls.get_libcamera_controls().items():
                    # libcamera needs ExposureTimeMode/AnalogueGainMode; picamera2 sets them for you.
                    if name in ("ExposureTime", "AnalogueGain"):
                        request.set_control(name + "Mode", 1 if value else 0)
                        if not value:
                            continue
                    request.set_control(name, value)
                picam2.controls = Controls(picam2)
                picam2.camera.queue_request(request)
            self.request = None
            self.config = {}
            self.stream_map = {}

    def make_buffer(self, name: str) -> np.ndarray:
        if self.stream_map.get(name) is None:
            raise RuntimeError(f"Stream {name!r} is not defined")
        with _MappedBuffer(self, name, write=False) as b:
            return np.array(b, dtype=np.uint8)

    def get_metadata(self) -> dict[str, Any]:
        assert self.request is not None
        return dict(self.request.metadata)

    def make_array(self, name: str) -> np.ndarray:
        if self.config.get(name) is None:
            raise RuntimeError(f"Stream {name!r} is not defined")
        with MappedArray(self, name) as m:
            assert m.array is not None
            return np.copy(m.array) if m.array.data.c_contiguous else np.ascontiguousarray(m.array)

    def save(
        self, name: str, file_output: Any, format: str | None = None, exif_data: dict[str, Any] | None = None
    ) -> None:
        """Save a JPEG of the named stream (the fake supports JPEG only; no EXIF)."""
        del exif_data
        config = self.config.get(name)
        if config is None:
            raise RuntimeError(f"Stream {name!r} is not defined")
        if self.picam2.helpers._get_format_str(file_output, format) not in ("jpg", "jpeg"):
            raise RuntimeError("the picamera2 fake can only save JPEG files")
        quality = self.picam2.options.get("quality", 90)
        data = encode_jpeg(self, name, quality)
        if isinstance(file_output, io.BufferedIOBase | io.BytesIO):
            file_output.write(data)
        else:
            with open(file_output, "wb") as f:
                f.write(data)


def encode_jpeg(request: CompletedRequest, name: str, quality: int) -> bytes:
    import simplejpeg

    fmt = request.config[name]["format"]
    width, height = request.config[name]["size"]
    with MappedArray(request, name) as m:
        array = m.array
        assert array is not None
        if fmt == "YUV420":
            y = array[:height, :width]
            reshaped = array.reshape((array.shape[0] * 2, array.strides[0] // 2))
            u = reshaped[2 * height : 2 * height + height // 2, : width // 2]
            v = reshaped[2 * height + height // 2 :, : width // 2]
            return simplejpeg.encode_jpeg_yuv_planes(y, u, v, quality)
        return simplejpeg.encode_jpeg(np.ascontiguousarray(array), quality, _JPEG_COLOURSPACE[fmt], "420")


class Helpers:
    """What CompletedRequest needs from Picamera2 (picamera2's request.Helpers)."""

    def __init__(self, picam2: Picamera2) -> None:
        self.picam2 = picam2

    def _make_array_shared(self, buffer: np.ndarray, config: dict[str, Any]) -> np.ndarray:
        return shaped_view(buffer, config["format"], tuple(config["size"]), config["stride"])  # type: ignore[arg-type]

    def make_array(self, buffer: np.ndarray, config: dict[str, Any]) -> np.ndarray:
        array = self._make_array_shared(buffer, config)
        return np.copy(array) if array.data.c_contiguous else np.ascontiguousarray(array)

    def _get_format_str(self, file_output: Any, format: str | None) -> str:
        if isinstance(format, str):
            return format.lower()
        if isinstance(file_output, str):
            return file_output.split(".")[-1].lower()
        if isinstance(file_output, Path):
            return file_output.suffix.lower().lstrip(".")
        raise RuntimeError("Cannot determine format to save")
