"""Pixel format families and buffer geometry (stride/frame size) for the fake picamera2."""

from __future__ import annotations

import math

YUV_FORMATS = {"NV21", "NV12", "YUV420", "YVU420", "YVYU", "YUYV", "UYVY", "VYUY"}
RGB_FORMATS = {"BGR888", "RGB888", "XBGR8888", "XRGB8888", "RGB161616", "BGR161616"}
_BAYER_ORDERS = ("BGGR", "GBRG", "GRBG", "RGGB")
BAYER_FORMATS = (
    {f"S{o}{d}" for o in _BAYER_ORDERS for d in (8, 10, 12, 16)}
    | {f"S{o}{d}_CSI2P" for o in _BAYER_ORDERS for d in (10, 12)}
    | {f"{o}_PISP_COMP1" for o in _BAYER_ORDERS}
)
MONO_FORMATS = {"R8", "R10", "R12", "R16", "R8_CSI2P", "R10_CSI2P", "R12_CSI2P"}
ALL_FORMATS = YUV_FORMATS | RGB_FORMATS | BAYER_FORMATS | MONO_FORMATS

# Formats whose pixels the fake actually renders (others get a zero-filled buffer of the right size).
RENDERED_FORMATS = {"YUV420", "YVU420", "RGB888", "BGR888", "XBGR8888", "XRGB8888"}


def is_YUV(fmt: str) -> bool:
    return fmt in YUV_FORMATS


def is_RGB(fmt: str) -> bool:
    return fmt in RGB_FORMATS


def is_Bayer(fmt: str) -> bool:
    return fmt in BAYER_FORMATS


def is_mono(fmt: str) -> bool:
    return fmt in MONO_FORMATS


def is_raw(fmt: str) -> bool:
    return is_Bayer(fmt) or is_mono(fmt)


def assert_format_valid(fmt: str) -> None:
    if fmt not in ALL_FORMATS:
        raise ValueError(f"Invalid format: {fmt}. Valid formats are: {ALL_FORMATS}")


def _align_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def stride_and_framesize(
    fmt: str, size: tuple[int, int], align: int, requested_stride: int | None = None
) -> tuple[int, int]:
    """Bytes per row and per frame as a Pi ISP would allocate them (rows padded to `align` bytes).

    A requested stride is honoured when it is at least the natural one (libcamera accepts that).
    """
    stride, framesize = _natural_stride_and_framesize(fmt, size, align)
    if requested_stride and requested_stride > stride:
        framesize = framesize // stride * requested_stride
        stride = requested_stride
    return stride, framesize


def _natural_stride_and_framesize(fmt: str, size: tuple[int, int], align: int) -> tuple[int, int]:
    w, h = size
    if fmt in ("YUV420", "YVU420", "NV12", "NV21"):
        stride = _align_up(w, 2 * align)  # the half-width chroma planes keep `align`
        return stride, stride * h * 3 // 2
    if fmt in ("YUYV", "YVYU", "UYVY", "VYUY"):
        stride = _align_up(w * 2, align)
        return stride, stride * h
    if fmt in ("BGR888", "RGB888"):
        stride = _align_up(w * 3, align)
    elif fmt in ("XBGR8888", "XRGB8888"):
        stride = _align_up(w * 4, align)
    elif fmt in ("BGR161616", "RGB161616"):
        stride = _align_up(w * 6, align)
    elif fmt.endswith("_PISP_COMP1"):
        stride = _align_up(w, align)
    elif fmt.endswith("_CSI2P"):
        bits = int(fmt.split("_")[0].lstrip("SBGR") or 8)
        stride = _align_up(math.ceil(w * bits / 8), align)
    elif is_raw(fmt):
        bits = int(fmt.lstrip("SBGR") or 8)
        stride = _align_up(w * (1 if bits == 8 else 2), align)
    else:
        raise RuntimeError(f"Format {fmt} not supported")
    return stride, stride * h
