"""Which recorder a camera gets: the one recording pipeline, with the encoder its source offers
(the camera's own H.264 encoder, picamera2's) or libx264 through PyAV."""

from __future__ import annotations

from camera_core.config.settings import Settings
from camera_core.frames.overlay_style import OverlayStyle
from camera_core.recording.encoders import EncoderStage, PyAVStage
from camera_core.recording.libx264 import H264Params
from camera_core.recording.pipeline import RecordingPipeline
from camera_core.sources.base import CameraSource
from camera_core.timing import BootToWallClock

#: Memory the pre-trigger buffer of one camera may hold at most (the oldest GOPs go first).
PRETRIGGER_MAX_BYTES = 64_000_000


def overlay_style(settings: Settings) -> OverlayStyle:
    return OverlayStyle(
        font_scale_base=settings.font_scale_base,
        thickness_base=settings.thickness_base,
        color_bgr=settings.text_color_bgr,
        margin_left=settings.margin_left,
        line_start_y=settings.line_start_y,
    )


def h264_params(source: CameraSource, settings: Settings) -> H264Params:
    info = source.info
    return H264Params(
        width=info.width,
        height=info.height,
        fps=info.fps,
        preset=settings.h264_preset,
        crf=settings.h264_crf,
        bitrate_kbps=settings.h264_bitrate_kbps,
        keyframe_interval=settings.keyframe_interval,
        threads=settings.h264_threads,
        worker_nice=settings.h264_worker_nice,
    )


def encoder_stage(source: CameraSource, settings: Settings) -> EncoderStage:
    host = source.encoder_host()
    if host is None:
        if settings.encoder_process:
            from camera_core.recording.encoder_process import ProcessStage

            params = h264_params(source, settings)
            return ProcessStage(
                params,
                nice=settings.encoder_process_nice,
                policy=settings.encoder_process_policy,
                slots=settings.encoder_queue_frames,
            )
        return PyAVStage(h264_params(source, settings))
    from camera_core.recording.picamera2_encoder import Picamera2Stage

    return Picamera2Stage(
        host,
        source.camera_id,
        fps=source.info.fps,
        bitrate_kbps=settings.h264_bitrate_kbps,
        keyframe_interval=settings.keyframe_interval,
        preset=settings.h264_preset,
        threads=settings.h264_threads,
    )


def create_recorder(
    source: CameraSource,
    settings: Settings,
    clock: BootToWallClock,
    *,
    pretrigger_seconds: float | None = None,
) -> RecordingPipeline:
    """The recorder of an opened source."""
    info = source.info
    return RecordingPipeline(
        source.camera_id,
        encoder_stage(source, settings),
        clock,
        width=info.width,
        height=info.height,
        fps=info.fps,
        style=overlay_style(settings) if settings.show_frame_number else None,
        queue_frames=settings.encoder_queue_frames,
        block_when_full=not source.paced,
        pretrigger_seconds=settings.pretrigger_seconds if pretrigger_seconds is None else pretrigger_seconds,
        pretrigger_max_bytes=PRETRIGGER_MAX_BYTES,
        holds_frame=source.holds_frame,
        on_started=source.on_recording_started,
    )
