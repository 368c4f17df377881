"""The camera system: every camera of a run, their loops on one event loop, recording, snapshots,
status and the session. Thread-safe; usable from Python code directly (a context manager too)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from camera_core.config.settings import Settings
from camera_core.errors import (
    AlreadyRecordingError,
    CameraCoreError,
    CameraNotFoundError,
    CameraOpenError,
    InvalidArgumentError,
    LowDiskSpaceError,
    NoCamerasError,
    NotRecordingError,
    OutputDirError,
)
from camera_core.events import DiskLow, EventBus, RecordingError, RecordingStopped
from camera_core.health import HealthMonitor
from camera_core.pipeline.camera_pipeline import CameraPipeline, CameraStatus, PipelineSettings
from camera_core.recording.factory import create_recorder, overlay_style
from camera_core.recording.recorder import RecordingResult, RecordingTarget
from camera_core.recording.snapshot import save_snapshot
from camera_core.session import Session
from camera_core.sources import create_sources
from camera_core.sources.base import CameraSource
from camera_core.sync.clocks import ClockMonitor
from camera_core.sync.start import synced_start_ns
from camera_core.timing import BootToWallClock, checked_start_time
from camera_core.unfinished_sessions import find_unfinished_sessions
from camera_core.util.files import free_bytes

log = logging.getLogger(__name__)

MB = 1_000_000  #: the unit of min_free_space_mb and stop_free_space_mb


def recording_stamp(directory: Path, basenames: Iterable[str]) -> str:
    """YYYYMMDD_HHMMSS, with a suffix when a recording of this second already exists."""
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    names = list(basenames)
    candidate, n = stamp, 1
    while any(any(directory.glob(f"{name}_{candidate}[._]*")) for name in names):
        n += 1
        candidate = f"{stamp}_{n}"
    return candidate


def _start_error(exc: BaseException, settings: Settings) -> BaseException:
    """What to tell the user when the cameras could not start: camera_core's own errors as they
    are, a backend that cannot be imported as a CameraOpenError that says what to install."""
    if isinstance(exc, ImportError):
        return CameraOpenError(
            f"backend {settings.camera_backend}: cannot import {exc.name or 'its module'} ({exc}); on a "
            "Raspberry Pi install it (sudo apt install python3-picamera2, see docs/pi_setup.md), "
            "elsewhere choose --backend sim or opencv"
        )
    if isinstance(exc, OSError) and not isinstance(exc, CameraCoreError):
        return OutputDirError(f"cannot write the session folder: {exc}; choose a writable --output-dir")
    return exc


@dataclass(frozen=True, slots=True)
class ClipResult:
    """One camera's part of `CameraSystem.record_clip`: its pipeline, what it recorded, and how
    often it had been lost before the clip (so a loss during the clip can be told)."""

    camera: CameraPipeline
    result: RecordingResult
    lost_before: int


@dataclass(slots=True)
class SystemStatus:
    """get_status's data (schema.json `status`): the system's fields and each camera's status."""

    running: bool
    recording: bool
    backend: str
    session_dir: str
    uptime_s: float
    free_disk_bytes: int
    warnings: list[str]
    unfinished_sessions: list[str]
    last_stop: dict[str, Any] | None
    clock: dict[str, Any]
    failed_cameras: list[int]
    health: dict[str, Any] | None
    cameras: list[CameraStatus]

    def as_dict(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in self.__slots__}
        out["cameras"] = [cam.as_dict() for cam in self.cameras]
        return out


class CameraSystem:
    """Cameras, loops, recording and the session of one run.

    >>> with CameraSystem(Settings(camera_backend="sim", show_preview=False)) as system:
    ...     system.start_recording()
    ...     system.take_snapshot()
    ...     results = system.stop_recording()
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        sources: list[CameraSource] | None = None,
        console: TextIO | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._given_sources = sources
        self._console = console
        self.clock = BootToWallClock()
        self.clocks = ClockMonitor(self.settings.clock_chronyc_host)
        self.events = EventBus()
        self.cameras: list[CameraPipeline] = []
        self.session: Session | None = None
        self.warnings: list[str] = []
        self.backend = ""
        self._loop = asyncio.new_event_loop()
        self._loop_thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._tasks: list[asyncio.Future[Any]] = []
        self._control = threading.RLock()
        self._started = False
        self._closed = False
        #: Set when stop() is called, before it waits for the control lock: ends a clip early.
        self._stop_requested = threading.Event()
        self._started_at = 0.0
        self.recordings: list[RecordingResult] = []
        #: Sessions in output_dir that did not finish cleanly (see the `recover` tool).
        self.unfinished_sessions: list[str] = []
        #: Why recording last stopped on its own (disk low/full, recorder error), for get_status.
        self.last_stop: dict[str, Any] | None = None
        self.health = HealthMonitor(
            self.events.publish,
            temp_limit_c=self.settings.cpu_temp_warn_c,
            log_s=self.settings.health_log_interval_s,
        )

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> CameraSystem:
        """Create the session, open and start every camera, and run the loops. Returns once frames flow."""
        with self._control:
            if self._started:
                return self
            s = self.settings
            self.session = self._create_session()
            try:
                self.session.open_log(s.log_level, self._console)
                self.session.clocks["start"] = self.clocks.state(fresh=True).as_dict()
                self._notice_unfinished_sessions()
                self._open_cameras()
            except BaseException as exc:
                problem = _start_error(exc, s)
                if problem is exc and isinstance(exc, Exception) and not isinstance(exc, CameraCoreError):
                    # unforeseen: keep the folder, its log holds the traceback, its manifest the error
                    log.error("could not start", exc_info=exc, extra={"console": False})
                    self.session.start_error = f"{type(exc).__name__}: {exc}"
                    self.session.finish()
                    self.session.close_log()
                    raise CameraOpenError(
                        f"the cameras could not be started: {type(exc).__name__}: {exc} "
                        f"(details in {self.session.log_path})"
                    ) from exc
                log.error("could not start: %s", problem, extra={"console": False})
                self.session.abandon()
                if problem is exc:
                    raise
                raise problem from exc
            self._loop_thread = threading.Thread(target=self._loop.run_forever, name="camera-loop", daemon=True)
            self._loop_thread.start()
            asyncio.run_coroutine_threadsafe(self._start_loops(), self._loop).result()
            self._started = True
            self._started_at = time.time()
            self.health.start()
            self._wait_first_frames(timeout=10.0)
            if s.auto_start_recording:
                self.start_recording()
        return self

    def _create_session(self) -> Session:
        s = self.settings
        try:
            return Session.create(Path(s.output_dir), s.session_prefix, s.as_dict(), int(s.session_reserve_mb * MB))
        except OSError as exc:
            where = Path(exc.filename) if exc.filename else Path(s.output_dir)
            raise OutputDirError(
                f"cannot create the session folder in {Path(s.output_dir).resolve()}: {exc.strerror or exc} "
                f"({where}); choose a writable folder with --output-dir (or output_dir in config.txt), "
                "or fix its permissions"
            ) from None

    def _notice_unfinished_sessions(self) -> None:
        assert self.session is not None
        found = find_unfinished_sessions(Path(self.settings.output_dir), exclude=self.session.directory)
        self.unfinished_sessions = [str(p) for p in found]
        for folder in found:
            message = (
                f"unfinished session {folder.name}: it did not stop cleanly (crash or power loss); "
                f"repair it with: python -m camera_core recover {folder}"
            )
            log.warning(message)
            self.warnings.append(message)

    def _open_cameras(self) -> None:
        assert self.session is not None
        sources = self._given_sources
        if sources is None:
            sources = create_sources(self.settings, self.warnings)
        if not sources:
            raise NoCamerasError("no cameras found")
        self.backend = sources[0].info.backend
        opened: list[CameraSource] = []
        try:
            for source in sources:
                try:
                    source.open()
                    opened.append(source)
                    source.start()
                except CameraCoreError:
                    raise
                except Exception as exc:
                    raise CameraOpenError(
                        f"cam{source.camera_id} ({source.info.backend}) could not be opened: "
                        f"{type(exc).__name__}: {exc}; is it connected, and not used by another program?"
                    ) from exc
        except BaseException:
            for source in opened:
                try:
                    source.close()
                except Exception:
                    log.exception("cam%d: close failed", source.camera_id)
            raise
        style = overlay_style(self.settings)
        pipeline = PipelineSettings.of(self.settings)
        for source in sources:
            recorder = create_recorder(source, self.settings, self.clock)
            cam = CameraPipeline(source, recorder, self.clock, pipeline, style=style, publish=self.events.publish)
            recorder.set_listener(functools.partial(self._on_recording_halted, cam))
            recorder.set_publisher(self.events.publish)
            recorder.prepare()
            self.cameras.append(cam)
            info = source.info
            self.session.cameras.append(dataclasses.asdict(info))
            log.info(
                "cam%d: %s %s %dx%d @ %.1f fps",
                info.camera_id,
                info.backend,
                info.model,
                info.width,
                info.height,
                info.fps,
            )
        self.session.warnings.extend(self.warnings)
        self.session.write_manifest()

    async def _start_loops(self) -> None:
        self._stopping = asyncio.Event()
        stopping = self._stopping
        for cam in self.cameras:
            cam.start_capture()  # a supervised thread per camera
            task = asyncio.ensure_future(cam.processor_loop(stopping))
            task.add_done_callback(functools.partial(cam.loop_ended, "processor", stopping))
            self._tasks.append(task)

    def _wait_first_frames(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for cam in self.cameras:
            remaining = max(0.0, deadline - time.monotonic())
            if cam.latest.wait_newer(0, remaining)[1] is None:
                log.warning("cam%d: no frame within %.0f s of starting", cam.camera_id, timeout)

    def stop(self) -> None:
        """Stop recording (finalizing every file), stop the loops and cameras, close the session."""
        self._stop_requested.set()  # a clip being recorded (record_clip) ends now instead of holding the lock
        with self._control:
            if self._closed or not self._started:
                return
            self._closed = True
            try:
                if self.is_recording:
                    self.stop_recording()
            finally:
                self.health.stop()
                asyncio.run_coroutine_threadsafe(self._stop_loops(), self._loop).result()
                for cam in self.cameras:  # _stop_loops has stopped the sources
                    cam.shutdown_pools()
                    try:
                        cam.recorder.close()
                    except Exception:
                        log.exception("cam%d: closing the recorder failed", cam.camera_id)
                    try:
                        cam.source.close()
                    except Exception:
                        log.exception("cam%d: close failed", cam.camera_id)
                self._loop.call_soon_threadsafe(self._loop.stop)
                if self._loop_thread is not None:
                    self._loop_thread.join(timeout=5)
                self._loop.close()
                if self.session is not None:
                    self.session.clocks["stop"] = self.clocks.state(fresh=True).as_dict()
                    self.session.finish()
                    log.info("session finished: %s", self.session.directory)
                    self.session.close_log()

    async def _stop_loops(self) -> None:
        assert self._stopping is not None
        self._stopping.set()
        for cam in self.cameras:
            cam.request_stop()
            cam.source.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def __enter__(self) -> CameraSystem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- commands --------------------------------------------------------------------------------

    def select(self, camera_id: int | None) -> list[CameraPipeline]:
        if camera_id is None:
            return list(self.cameras)
        if isinstance(camera_id, bool) or not isinstance(camera_id, int):
            raise InvalidArgumentError(f"camera_id must be a whole number, got {camera_id!r}")
        for cam in self.cameras:
            if cam.camera_id == camera_id:
                return [cam]
        known = ", ".join(str(c.camera_id) for c in self.cameras)
        raise CameraNotFoundError(f"no camera {camera_id}; cameras: {known}")

    @property
    def is_recording(self) -> bool:
        return any(cam.recorder.active for cam in self.cameras)

    def start_recording(
        self, camera_id: int | None = None, at: float | None = None, pretrigger_seconds: float | None = None
    ) -> list[dict[str, Any]]:
        """Start recording on one camera or all. `at` (Unix time): frames before it are not recorded,
        so hosts with agreeing clocks start on the same instant. `pretrigger_seconds` (default: the
        setting): begin with the frames of that many seconds before the start, from the pre-trigger
        buffer (which holds the setting's seconds at most)."""
        with self._control:
            self._require_running()
            assert self.session is not None
            cams = self.select(camera_id)
            busy = [c.camera_id for c in cams if c.recorder.active]
            if busy:
                raise AlreadyRecordingError(f"camera(s) {busy} already recording; stop_recording first")
            start_ns = None
            if at is not None:
                try:
                    start_ns = int(checked_start_time(at) * 1e9)
                except ValueError as exc:
                    raise InvalidArgumentError(str(exc)) from None
            start_ns = synced_start_ns((c.latest.get()[1] for c in cams), start_ns)
            pretrigger = self._pretrigger_for(pretrigger_seconds)
            directory = self.session.directory
            self._check_free_space(directory)
            names = [self._basename_prefix(c) for c in cams]
            stamp = recording_stamp(directory, names)
            started = []
            for cam, prefix in zip(cams, names, strict=True):
                target = RecordingTarget(
                    directory=directory,
                    basename=f"{prefix}_{stamp}",
                    write_csv=self.settings.enable_csv_timing_log,
                    convert_mp4=not self.settings.disable_mp4_conversion,
                    start_at_wall_ns=start_ns,
                    segment_seconds=self.settings.segment_seconds,
                    stop_free_bytes=self.stop_free_bytes,
                    pretrigger_seconds=pretrigger,
                )
                cam.recorder.start(target)
                first = target.segment_files(1)
                started.append(
                    {
                        "camera_id": cam.camera_id,
                        "video": first.h264_path.name,
                        "timing_csv": first.csv_path.name if target.write_csv else None,
                    }
                )
            return started

    def _pretrigger_for(self, seconds: float | None) -> float:
        """The pre-trigger seconds of a take: the setting, or less when asked (never more)."""
        held = self.settings.pretrigger_seconds
        if seconds is None:
            return held
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= held:
            if held <= 0:
                raise InvalidArgumentError(
                    f"pretrigger_seconds {seconds!r}: the pre-trigger buffer is off; "
                    "start camera_core with pretrigger_seconds > 0 (config.txt or --pretrigger-seconds)"
                )
            raise InvalidArgumentError(
                f"pretrigger_seconds must be a number from 0 to {held:g} (the buffer's length), got {seconds!r}"
            )
        return float(seconds)

    @property
    def stop_free_bytes(self) -> int:
        """The free-space floor below which recording stops (stop_free_space_mb)."""
        return int(self.settings.stop_free_space_mb * MB)

    def _check_free_space(self, directory: Path) -> None:
        """LowDiskSpaceError when the folder has less than min_free_space_mb free."""
        free = free_bytes(directory)
        s = self.settings
        key, need_mb = max(
            ("min_free_space_mb", s.min_free_space_mb),
            ("stop_free_space_mb", s.stop_free_space_mb),
            key=lambda kv: kv[1],
        )
        if free < need_mb * MB:
            message = f"only {free / MB:.1f} MB free in {directory}; recording needs at least {need_mb:.10g} MB ({key})"
            log.error("not recording: %s", message, extra={"console": False})  # the caller says it
            raise LowDiskSpaceError(message)

    def has_room_to_record(self) -> bool:
        """Whether start_recording would pass its free-space check now."""
        s = self.settings
        directory = self.session.directory if self.session else Path(s.output_dir)
        return free_bytes(directory) >= max(s.min_free_space_mb, s.stop_free_space_mb) * MB

    def _on_recording_halted(self, cam: CameraPipeline, reason: str, detail: str) -> None:
        """A recorder stopped itself (its thread calls this): tell subscribers, then finalize its
        files (and, when the disk is low or full, every camera's) on a thread of its own."""
        if reason in ("disk_low", "disk_full"):
            directory = self.session.directory if self.session else Path(self.settings.output_dir)
            self.events.publish(DiskLow(cam.camera_id, reason, detail, free_bytes(directory)))
        else:
            if reason == "output_missing" and self.session is not None and self.session.restore_directory():
                log.error(
                    "the session folder %s was deleted while recording: made again for the log and manifest; "
                    "the files recorded in it before are lost",
                    self.session.directory,
                )
            self.events.publish(RecordingError(cam.camera_id, reason, detail))
        threading.Thread(
            target=self._stop_after_halt, args=(cam, reason, detail), name="recording-auto-stop", daemon=True
        ).start()

    def _stop_after_halt(self, cam: CameraPipeline, reason: str, detail: str) -> None:
        with self._control:
            if self._closed or not self._started:
                return  # stop() finalizes every file itself
            disk = reason in ("disk_low", "disk_full")
            cams = [c for c in self.cameras if c.recorder.active and (disk or c is cam)]
            if disk:  # every camera the full disk stops gets its disk_low (a self-halted one has its own)
                directory = self.session.directory if self.session else Path(self.settings.output_dir)
                for other in [c for c in cams if c is not cam and not c.recorder.stats().get("recording_halted")]:
                    self.events.publish(
                        DiskLow(other.camera_id, reason, f"cam{cam.camera_id}: {detail}", free_bytes(directory))
                    )
            results = self._finalize_all(cams, reason)
            if not results:
                return
            self.last_stop = {"reason": reason, "detail": detail, "time_unix": time.time()}
            log.error("recording stopped (%s): %s", reason, detail)
            recordings = [
                {"camera_id": r.camera_id, "video": r.video, "frames": r.frames, "files": len(r.segments)}
                for r in results
            ]
            self.events.publish(RecordingStopped(reason, detail, recordings))

    def record_clip(self, folder: Path, seconds: float, label: str) -> list[ClipResult]:
        """Record `seconds` on every camera at once into `folder` (files `<camera>_<label>...`),
        for checks such as the self-test (camera_core/tools/self_test.py). Refused while recording."""
        with self._control:
            self._require_running()
            assert self.session is not None
            if self.is_recording:
                raise AlreadyRecordingError(f"recording is on; stop_recording before the {label}")
            self._check_free_space(self.session.directory)
            lost_before = {cam.camera_id: cam.lost_count for cam in self.cameras}
            started: list[CameraPipeline] = []
            try:
                for cam in self.cameras:
                    target = RecordingTarget(
                        directory=folder,
                        basename=f"{self._basename_prefix(cam)}_{label}",
                        write_csv=True,
                        convert_mp4=False,
                        stop_free_bytes=self.stop_free_bytes,
                    )
                    cam.recorder.start(target)
                    started.append(cam)
                self._stop_requested.wait(seconds)  # the clip's length, cut short by stop()
            finally:
                results = [ClipResult(cam, cam.recorder.stop(), lost_before[cam.camera_id]) for cam in started]
            return results

    def set_controls(self, camera_id: int | None = None, **changes: Any) -> list[dict[str, Any]]:
        """Change exposure, gain, white balance or their lock on one camera or all (see
        sources/controls.py); returns each camera's controls."""
        with self._control:
            self._require_running()
            cams = self.select(camera_id)
            for cam in cams:
                cam.source.set_controls(**changes)
            return [{"camera_id": cam.camera_id, "controls": cam.source.status().get("controls")} for cam in cams]

    def _basename_prefix(self, cam: CameraPipeline) -> str:
        info = cam.source.info
        return f"cam{info.camera_id}_{info.width}x{info.height}_{info.fps:.1f}fps"

    def stop_recording(self, camera_id: int | None = None) -> list[RecordingResult]:
        """Stop and finalize; returns what each camera wrote (also added to the manifest)."""
        with self._control:
            self._require_running(allow_closing=True)
            assert self.session is not None
            cams = [c for c in self.select(camera_id) if c.recorder.active]
            if not cams:
                raise NotRecordingError("not recording; start_recording first")
            return self._finalize_all(cams)

    def _finalize_all(self, cams: list[CameraPipeline], stop_reason: str | None = None) -> list[RecordingResult]:
        """End every camera's take on the same instant, then finalize them one by one (MP4
        conversion and checksums take time, during which no camera may record on)."""
        for cam in cams:
            cam.recorder.request_stop()
        results: list[RecordingResult] = []
        first_error: Exception | None = None
        for cam in cams:
            try:
                results.append(self._finalize(cam, stop_reason))
            except Exception as exc:  # finalize the others anyway
                log.exception("cam%d: finalizing failed", cam.camera_id)
                first_error = first_error or exc
        if first_error is not None and stop_reason is None:
            raise first_error
        return results

    def _finalize(self, cam: CameraPipeline, stop_reason: str | None = None) -> RecordingResult:
        assert self.session is not None
        result = cam.recorder.stop()
        if stop_reason is not None and result.stop_reason == "requested":
            result.stop_reason = stop_reason  # stopped with the others (the disk they share is low)
        self.recordings.append(result)
        try:
            self.session.add_recording({**result.as_dict(), "controls": cam.source.status().get("controls")})
        except OSError as exc:  # a full disk: the entry is kept and written with the next manifest
            log.error("manifest not written (%s); it is written again when the session ends", exc)
        return result

    def take_snapshot(self, camera_id: int | None = None) -> list[Path]:
        """A JPEG of every selected camera's newest frame, also while recording."""
        self._require_running()
        assert self.session is not None
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S_%f")[:-3]
        taken = [(cam, cam.full_frame()) for cam in self.select(camera_id)]
        shots = [(cam, frame) for cam, frame in taken if frame is not None]
        if not shots:
            return []
        quality = self.settings.snapshot_jpeg_quality
        directory = self.session.directory
        with ThreadPoolExecutor(len(shots), thread_name_prefix="snapshot") as pool:
            futures = [
                pool.submit(save_snapshot, frame, directory / f"snapshot_cam{cam.camera_id}_{stamp}.jpg", quality)
                for cam, frame in shots
            ]
            try:
                paths = [f.result() for f in futures]
            except OSError as exc:  # a full disk: no .part is left (save_snapshot removes it)
                raise LowDiskSpaceError(f"snapshot not saved in {directory}: {exc.strerror or exc}") from exc
        for (cam, frame), path in zip(shots, paths, strict=True):
            self.session.add_snapshot(
                {
                    "camera_id": cam.camera_id,
                    "file": path.name,
                    "sensor_timestamp_ns": frame.sensor_timestamp_ns,
                }
            )
            log.info("snapshot saved: %s", path.name)
        return paths

    def snapshot(self, camera_id: int | None = None) -> SystemStatus:
        """Any thread: the system's status now, typed (of one camera or all)."""
        s = self.settings
        out_dir = self.session.directory if self.session else Path(s.output_dir)
        return SystemStatus(
            running=self._started and not self._closed,
            recording=self.is_recording,
            backend=self.backend,
            session_dir=str(out_dir),
            uptime_s=round(time.time() - self._started_at, 3) if self._started else 0.0,
            free_disk_bytes=free_bytes(out_dir),
            warnings=list(self.warnings),
            unfinished_sessions=list(self.unfinished_sessions),
            last_stop=self.last_stop,
            clock=self.clocks.state().as_dict(),
            failed_cameras=[cam.camera_id for cam in self.cameras if cam.failure],
            health=self.health.status(),
            cameras=[cam.status() for cam in self.select(camera_id)],
        )

    def status(self) -> dict[str, Any]:
        """Any thread: the status as get_status's JSON object."""
        return self.snapshot().as_dict()

    def _require_running(self, allow_closing: bool = False) -> None:
        if not self._started or (self._closed and not allow_closing):
            raise RuntimeError("the camera system is not running; call start() first")
