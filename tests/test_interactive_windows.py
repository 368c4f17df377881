"""Interactive mode in real preview windows: a virtual X display (Xvfb), keys pressed with xdotool,
the windows photographed with ffmpeg's x11grab and checked by their pixels."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from interactive_support import (
    OutputReader,
    csv_rows,
    finish,
    main_camera,
    session_dir,
    small_run_args,
    wait_recorded_rows,
    wait_until,
)

from camera_core.config.loader import load_settings
from camera_core.display.banner import draw_message
from camera_core.frames.framecode import read_code
from camera_core.frames.overlay import draw_info_lines
from camera_core.system import overlay_style
from camera_core.tools.verify import verify_recording

# Qt on X can, rarely and only on a loaded machine (seen twice in about 40 runs), leave a freshly
# opened window unpainted for good: the screenshot stays white while keys still work. That is a
# display-stack glitch, not ours (docs/known_issues.md); such a run is repeated once, and only for
# that symptom. Any other failure, or the same one twice, fails the test.
pytestmark = pytest.mark.flaky(reruns=1, only_rerun=[r"timed out after .* waiting for .* in window"])

TOOLS = {"Xvfb": "xvfb", "xdotool": "xdotool", "ffmpeg": "ffmpeg", "openbox": "openbox"}


def require_tools() -> None:
    missing = [pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None]
    if not missing:
        return
    message = f"needs the Debian packages {', '.join(missing)} (.ci/run installs them)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; they are missing in CI")
    pytest.skip(message)


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb display; its number is chosen by Xvfb and read from -displayfd once it is ready."""
    require_tools()
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1400x600x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as ready:
        number = ready.readline().strip()
    if not number:
        server.kill()
        pytest.fail(f"Xvfb did not start: {server.communicate()[1].decode(errors='replace')[-500:]}")
    window_manager = start_window_manager(f":{number}")
    try:
        yield f":{number}"
    finally:
        window_manager.terminate()
        window_manager.wait(timeout=10)
        server.terminate()
        server.wait(timeout=10)


def start_window_manager(display: str) -> subprocess.Popen[bytes]:
    """openbox on the display, as on a desktop (Qt windows on a bare X server without a window
    manager can stop repainting after a move); returns once openbox has finished starting."""
    ready = Path(tempfile.mkdtemp()) / "ready"
    manager = subprocess.Popen(
        ["openbox", "--sm-disable", "--startup", f"touch {ready}"],
        env={**os.environ, "DISPLAY": display},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(ready.exists, "openbox to start", timeout=30)
    return manager


class X:
    """xdotool and x11grab on one display."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.env = {**os.environ, "DISPLAY": display}
        self.last_shot: np.ndarray | None = None

    def run(self, *args: str) -> str:
        return subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=30, check=True).stdout

    def window(self, name: str) -> int:
        """Wait until a window titled `name` is mapped; its id."""
        pattern = f"^{name}( - REC)?$"  # the title says when the camera records
        return int(self.run("xdotool", "search", "--sync", "--onlyvisible", "--name", pattern).split()[0])

    def geometry(self, window: int) -> tuple[int, int, int, int]:
        values = dict(
            line.split("=") for line in self.run("xdotool", "getwindowgeometry", "--shell", str(window)).split()
        )
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def key(self, window: int, key: str) -> None:
        self.run("xdotool", "windowfocus", "--sync", str(window), "key", key)

    def shot_when(self, window: int, good: Callable[[np.ndarray], bool], what: str) -> np.ndarray:
        """Photograph the window until `good(shot)`; that shot (fails after the timeout)."""
        found: list[np.ndarray] = []

        def check() -> bool:
            shot = self.screenshot(window)
            self.last_shot = shot
            if good(shot):
                found.append(shot)
            return bool(found)

        wait_until(check, f"{what} in window {window}")
        return found[0]

    def screenshot(self, window: int) -> np.ndarray:
        """The window's pixels as BGR, grabbed by window id (positions reported under a
        reparenting window manager are offset by the frame, the window's own pixels are not)."""
        png = subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "0", "-window_id", str(window),
             "-i", self.display, "-frames:v", "1", "-c:v", "png", "-f", "image2pipe", "-"],
            capture_output=True, timeout=30, check=True, env=self.env,
        ).stdout  # fmt: skip
        return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)


PREVIEW = (640, 480)  # --preview-size 5: the windows are sized by the preview preset, not the 320x240 camera


def inked_match(image: np.ndarray, draw: Callable[[np.ndarray], None]) -> float:
    """Share of the fully inked pixels of an overlay (as `draw` paints it on a grey canvas) that
    `image` shows in the same place: about 1 where that overlay is on screen, about 0 elsewhere."""
    canvas = np.full(image.shape, 128, np.uint8)
    draw(canvas)
    inked = np.all((canvas == 0) | (canvas == 255), axis=2)
    assert inked.sum() >= 20, "the overlay inks too few pixels to compare"
    diff = np.abs(image.astype(int) - canvas.astype(int)).max(axis=2)
    return float((diff[inked] <= 40).mean())


def info_text(camera_id: int) -> Callable[[np.ndarray], None]:
    """The start of the preview's first info line, in the style the program reads from config.txt."""
    style = overlay_style(load_settings())
    return lambda canvas: draw_info_lines(canvas, [f"cam{camera_id}"], style)


def message(text: str) -> Callable[[np.ndarray], None]:
    return lambda canvas: draw_message(canvas, text)


def frame_code(image: np.ndarray) -> int:
    """The sim frame code in the window's bottom-left cells (the camera is 320x240)."""
    return read_code(cv2.resize(image, (320, 240), interpolation=cv2.INTER_AREA))


def red_dot(image: np.ndarray) -> bool:
    """The recording indicator: a red dot at the top right (below the burned-in frame number)."""
    h, w = image.shape[:2]
    corner = image[: h // 3, w - w // 6 :].astype(np.int16)
    red = (corner[:, :, 2] > 200) & (corner[:, :, 1] < 60) & (corner[:, :, 0] < 60)
    return int(red.sum()) >= 20


def start(x: X, out: Path, *extra: str) -> tuple[subprocess.Popen[bytes], OutputReader]:
    proc = subprocess.Popen(
        main_camera(*small_run_args(out, "--preview-size", "5", *extra)),
        env=x.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return proc, OutputReader.of_pipe(proc.stderr)  # type: ignore[arg-type]


def stop_and_report(x: X, proc: subprocess.Popen[bytes], err: OutputReader, out: Path) -> None:
    """Kill the program if a check failed while it ran; print what it said (shown on failure)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    print(f"exit status {proc.returncode}; stderr:\n{err.text}")
    if x.last_shot is not None:
        cv2.imwrite(str(out.parent / "last_shot.png"), x.last_shot)
        print(f"last screenshot: {out.parent / 'last_shot.png'}")
    for log in out.glob("session_*/session.log"):
        print(f"{log}:\n{log.read_text()[-3000:]}")


def test_keys_in_the_preview_window_record_snapshot_and_quit(display: str, tmp_path: Path) -> None:
    x = X(display)
    out = tmp_path / "rec"
    proc, err = start(x, out)
    try:
        err.wait_for(r"keys in a preview window")
        windows = [x.window(f"camera_core cam{i}") for i in range(2)]
        session = session_dir(out)
        assert [x.geometry(w)[2:] for w in windows] == [PREVIEW, PREVIEW]

        # The camera image: the sim frame code in the window's bottom-left cells counts up.
        first = frame_code(x.shot_when(windows[0], lambda s: 0 < frame_code(s) < 100_000, "a camera frame"))
        idle = x.shot_when(windows[0], lambda s: frame_code(s) > first, "the next camera frames")
        cv2.imwrite(str(tmp_path / "idle.png"), idle)
        assert inked_match(idle, info_text(0)) > 0.9, "the info overlay is not in the window"
        assert not red_dot(idle)

        x.key(windows[0], "r")
        err.wait_for(r"recording started \(2 cameras\)")
        wait_recorded_rows(session, cameras=2, rows=15)
        shown = x.shot_when(
            windows[1],
            lambda s: red_dot(s) and inked_match(s, message("recording started (2 cameras)")) > 0.9,
            "the red recording dot and the confirmation line",
        )
        cv2.imwrite(str(tmp_path / "recording.png"), shown)
        assert inked_match(shown, info_text(1)) > 0.9

        x.key(windows[1], "s")
        err.wait_for(r"snapshot saved \(2 cameras\)")
        x.key(windows[0], "r")
        err.wait_for(r"recording stopped: cam0 \d+ frames, cam1 \d+ frames")
        x.shot_when(windows[0], lambda s: not red_dot(s), "the red dot to go")
        x.key(windows[0], "q")
        err.wait_for("quitting")
        assert finish(proc) == 0
    finally:
        stop_and_report(x, proc, err, out)

    videos = sorted(session.glob("cam*.h264"))
    assert [v.name[:4] for v in videos] == ["cam0", "cam1"]
    for video in videos:
        report = verify_recording(video)
        assert report.ok and report.frames >= 15, report.as_dict()
    snapshots = sorted(session.glob("snapshot_cam*.jpg"))
    assert [s.name[:13] for s in snapshots] == ["snapshot_cam0", "snapshot_cam1"]
    # The snapshot is the plain camera frame: no info overlay there.
    plain = cv2.imread(str(snapshots[0]))
    assert plain.shape == (240, 320, 3)
    assert inked_match(cv2.resize(plain, PREVIEW), info_text(0)) < 0.5
    log = (session / "session.log").read_text()
    for line in ("recording started", "snapshot saved", "recording stopped", "stopping: q pressed"):
        assert line in log


def test_closing_a_window_quits_and_finalizes(display: str, tmp_path: Path) -> None:
    x = X(display)
    out = tmp_path / "rec"
    proc, err = start(x, out, "--auto-start-recording")
    try:
        window = x.window("camera_core cam1")
        session = session_dir(out)
        wait_recorded_rows(session, cameras=2, rows=10)
        close_window(x, window)
        err.wait_for("window closed: quitting")
        err.wait_for(r"recording stopped: cam0 \d+ frames, cam1 \d+ frames")
        assert finish(proc) == 0
    finally:
        stop_and_report(x, proc, err, out)
    for video in sorted(session.glob("cam*.h264")):
        assert verify_recording(video).ok


def close_window(x: X, window: int) -> None:
    """What a window manager's close button does: send WM_DELETE_WINDOW to the window."""
    subprocess.run(
        ["python3", str(Path(__file__).with_name("x11_close_window.py")), str(window)],
        env=x.env, check=True, timeout=30,
    )  # fmt: skip


def test_headless_preview_opens_windows_and_closing_them_keeps_recording(display: str, tmp_path: Path) -> None:
    x = X(display)
    out = tmp_path / "rec"
    proc, err = start(x, out, "--mode", "headless", "--preview")
    try:
        window = x.window("camera_core cam0")
        session = session_dir(out)
        x.shot_when(window, red_dot, "the recording dot in the headless preview")
        x.key(window, "q")
        err.wait_for("preview closed; the run goes on")
        rows = wait_recorded_rows(session, cameras=2, rows=1)
        grown = csv_rows_now(rows)
        wait_until(lambda: csv_rows_now(rows) > grown, "recording to go on after the preview closed")
        proc.send_signal(signal.SIGTERM)
        assert finish(proc) == 0
    finally:
        stop_and_report(x, proc, err, out)
    for video in sorted(session.glob("cam*.h264")):
        assert verify_recording(video).ok


def csv_rows_now(paths: list[Path]) -> int:
    return min(csv_rows(p) for p in paths)


def test_slave_preview_opens_windows_beside_the_protocol(display: str, tmp_path: Path) -> None:
    x = X(display)
    out = tmp_path / "rec"
    proc = subprocess.Popen(
        main_camera(*small_run_args(out, "--preview-size", "5", "--mode", "slave", "--preview")),
        env=x.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    err = OutputReader.of_pipe(proc.stderr)  # type: ignore[arg-type]
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(b'{"command": "start_recording", "id": 1}\n')
        proc.stdin.flush()
        assert b'"recording_started"' in proc.stdout.readline()
        window = x.window("camera_core cam0")
        x.shot_when(window, red_dot, "the recording dot in the slave preview")
        x.key(window, "q")
        err.wait_for("preview closed; the run goes on")
        proc.stdin.write(b'{"command": "get_status", "id": 2}\n{"command": "quit", "id": 3}\n')
        proc.stdin.flush()
        assert b'"status_report"' in proc.stdout.readline()  # the protocol still answers
        assert b'"shutdown"' in proc.stdout.readline()
        assert finish(proc) == 0
    finally:
        stop_and_report(x, proc, err, out)
    videos = sorted(session_dir(out).glob("cam*.h264"))
    assert len(videos) == 2 and all(verify_recording(v).ok for v in videos)
