"""Fake picamera2.encoders. As in the real package, H264Encoder is the V4L2 encoder on VC4 and an alias
of LibavH264Encoder on Pi 5 (PICAMERA2_FAKE_PLATFORM=pisp)."""

from ..platform import Platform, get_platform
from .encoder import Encoder, Quality
from .jpeg_encoder import JpegEncoder, MJPEGEncoder
from .libav_h264_encoder import LibavH264Encoder
from .multi_encoder import MultiEncoder

if get_platform() == Platform.VC4:
    from .h264_encoder import H264Encoder
else:
    from .libav_h264_encoder import LibavH264Encoder as H264Encoder  # type: ignore[assignment]

__all__ = ["Encoder", "H264Encoder", "JpegEncoder", "LibavH264Encoder", "MJPEGEncoder", "MultiEncoder", "Quality"]
