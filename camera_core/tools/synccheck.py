"""`python -m camera_core synccheck SESSION...`: proof of sync from an LED that every camera sees.

For each camera the LED's brightness in every frame is read from the video (a given region, or the
flat patch whose brightness changes most). A frame that an LED edge falls into is partly lit: its
brightness says where in the exposure the edge is, so each edge's time is known to a fraction of a
frame on the camera's own timestamps. The same edges seen by two cameras differ only by the two
clocks' disagreement; so per camera, against the first one:
- timestamp offset: how far apart its frames are by their wall-clock timestamps,
- LED offset: how far apart its exposures really are (timestamp offset minus clock error),
- clock error: the difference, which no timestamp shows.
Timestamps are taken as each frame's exposure start (libcamera's SensorTimestamp definition).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import numpy as np

from camera_core.frames.burnin import frame_number_box
from camera_core.frames.framecode import code_region
from camera_core.frames.overlay_style import OverlayStyle
from camera_core.tools.sync_sessions import CameraTake, SessionError, load_takes

BLOCK = 8
#: Brightness shares below this count as dark, above 1 - this as fully lit.
DARK = 0.004
#: An edge between two exposures is placed in the middle of the gap; precise when the gap is this short.
PRECISE_GAP_NS = 200_000


class LedNotFound(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Region:
    x: int
    y: int
    w: int
    h: int

    @classmethod
    def parse(cls, text: str) -> Region:
        try:
            x, y, w, h = (int(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"region {text!r}: expected X,Y,W,H in pixels") from None
        if w <= 0 or h <= 0 or x < 0 or y < 0:
            raise argparse.ArgumentTypeError(f"region {text!r}: needs X,Y >= 0 and W,H > 0")
        return cls(x, y, w, h)


@dataclass(frozen=True, slots=True)
class Edge:
    rising: bool
    time_ns: float
    precise: bool


@dataclass(slots=True)
class CameraResult:
    host: str
    camera_id: int
    session: str
    frames: int
    led_offset_us: float | None = None
    timestamp_offset_us: float | None = None
    clock_error_us: float | None = None
    #: Standard error of the clock error (from the spread over edges), µs.
    clock_error_se_us: float | None = None
    edges: int = 0
    edges_matched: int = 0
    region: list[int] = field(default_factory=list)
    error: str | None = None


# -- reading the LED ---------------------------------------------------------------------------


def decode_gray(videos: list[Path]) -> Iterator[np.ndarray]:
    """Every frame's luma, all files in order."""
    for video in videos:
        fmt = "h264" if video.suffix == ".h264" else None
        with av.open(str(video), format=fmt) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="yuv420p")[: frame.height]  # Y as coded, no range scaling


def led_series(take: CameraTake, region: Region | None) -> tuple[np.ndarray, list[int]]:
    """The LED's mean luma per frame and its bounding box [x, y, w, h]."""
    if region is not None:
        values = [
            float(g[region.y : region.y + region.h, region.x : region.x + region.w].mean())
            for g in decode_gray(take.videos)
        ]
        if not values:
            raise LedNotFound(f"{take.label}: the video has no frames")
        return np.array(values), [region.x, region.y, region.w, region.h]
    means: list[np.ndarray] = []
    flat_count: np.ndarray | None = None
    height = 0
    for gray in decode_gray(take.videos):
        height = gray.shape[0]
        h, w = (gray.shape[0] // BLOCK) * BLOCK, (gray.shape[1] // BLOCK) * BLOCK
        blocks = gray[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).astype(np.float32)
        means.append(blocks.mean(axis=(1, 3)))
        flat = (blocks.max(axis=(1, 3)) - blocks.min(axis=(1, 3))) <= 12
        flat_count = flat.astype(np.int32) if flat_count is None else flat_count + flat
    if not means or flat_count is None:
        raise LedNotFound(f"{take.label}: the video has no frames")
    stack = np.stack(means)  # (frames, by, bx)
    always_flat = flat_count >= 0.95 * len(means)
    # Not the frame code cells of sim videos (bottom edge): they are flat and change too.
    code_top = code_region(BLOCK * stack.shape[2], height)[1]
    always_flat[max(0, code_top - BLOCK + 1) // BLOCK :, :] = False
    # Nor the burned-in frame number (top right: a black box whose digits change), with room for a
    # font up to twice the default size.
    x0, _, _, y1 = frame_number_box(BLOCK * stack.shape[2], OverlayStyle(font_scale_base=1.2, thickness_base=2))
    always_flat[: y1 // BLOCK + 1, max(0, x0 - BLOCK) // BLOCK :] = False
    swing = np.percentile(stack, 98, axis=0) - np.percentile(stack, 2, axis=0)
    swing[~always_flat] = 0
    # The patch that changes most and flashes like an LED (on, then off again at the same level):
    # a scene's edge moving across a flat patch changes it too, but not like that.
    best = np.unravel_index(int(np.argmax(swing)), swing.shape)
    while swing[best] >= 30 and not flashes(stack[:, best[0], best[1]]):
        swing[best] = 0
        best = np.unravel_index(int(np.argmax(swing)), swing.shape)
    if swing[best] < 30:
        raise LedNotFound(f"{take.label}: no LED found (no flat patch changes brightness); give --region X,Y,W,H")
    series = stack[:, best[0], best[1]]
    centred = stack - stack.mean(axis=0)
    ref = series - series.mean()
    corr = (centred * ref[:, None, None]).sum(axis=0) / (np.sqrt((centred**2).sum(axis=0) * (ref**2).sum()) + 1e-9)
    mask = always_flat & (corr > 0.99) & (swing > 0.8 * swing[best])
    ys, xs = np.nonzero(mask)
    box = [int(xs.min()) * BLOCK, int(ys.min()) * BLOCK, int(np.ptp(xs) + 1) * BLOCK, int(np.ptp(ys) + 1) * BLOCK]
    return stack[:, mask].mean(axis=1), box


def flashes(series: np.ndarray) -> bool:
    """The patch's brightness goes up and comes down again, and is off at the same level before and
    after (within a fifth of its swing), as an LED's does."""
    low, high = float(np.percentile(series, 2)), float(np.percentile(series, 98))
    lit = series > (low + high) / 2
    rises = np.nonzero(~lit[:-1] & lit[1:])[0]
    falls = np.nonzero(lit[:-1] & ~lit[1:])[0]
    if rises.size == 0 or falls.size == 0:
        return False
    # off before the first rise and after the last fall, without the frames next to an edge
    # (partly lit)
    before = series[: rises[0]][~lit[: rises[0]]]
    after = series[falls[-1] + 2 :][~lit[falls[-1] + 2 :]]
    if before.size == 0 or after.size == 0:
        return True  # the clip begins or ends at a flash: nothing to compare
    return abs(float(np.median(before)) - float(np.median(after))) <= 0.2 * (high - low)


def lit_shares(values: np.ndarray) -> np.ndarray:
    """Brightness as the share of the exposure with the LED on (0 dark .. 1 fully lit)."""
    values = np.asarray(values, dtype=np.float64)
    lo, hi = np.percentile(values, 2), np.percentile(values, 98)
    if hi - lo < 10:
        raise LedNotFound("the LED never changes brightness in this video")
    off = float(np.median(values[values <= lo + 0.1 * (hi - lo)]))
    on = float(np.median(values[values >= hi - 0.1 * (hi - lo)]))
    return np.clip((values - off) / (on - off), 0.0, 1.0).astype(np.float64)


def find_edges(take: CameraTake, shares: np.ndarray) -> list[Edge]:
    """LED edges on the camera's wall-clock timestamps. An edge inside a frame's exposure is placed
    exactly by that frame's brightness; one between exposures only to the gap (not precise)."""
    rows = take.rows[: len(shares)]
    times = take.wall_ns()[: len(shares)]
    exposure = [_exposure_ns(r) for r in rows]
    edges: list[Edge] = []
    for k in range(1, len(rows)):
        if int(rows[k].get("dropped_since_last") or 0):
            continue  # not contiguous: the edge may have been in a lost frame
        before, now = shares[k - 1], shares[k]
        if before <= DARK < now:  # rising edge in frame k (or in the gap before it)
            if now < 1 - DARK and k + 1 < len(rows) and shares[k + 1] > DARK:
                edges.append(Edge(True, times[k] + exposure[k] * (1 - float(now)), True))
            elif now >= 1 - DARK:
                edges.append(_gap_edge(True, times[k - 1] + exposure[k - 1], times[k]))
        elif now <= DARK < before:  # falling edge in frame k-1 (or in the gap after it)
            if before < 1 - DARK and k >= 2 and shares[k - 2] > DARK:
                edges.append(Edge(False, times[k - 1] + exposure[k - 1] * float(before), True))
            elif before >= 1 - DARK:
                edges.append(_gap_edge(False, times[k - 1] + exposure[k - 1], times[k]))
    return edges


def _gap_edge(rising: bool, gap_from: float, gap_to: float) -> Edge:
    """An edge between one exposure's end and the next one's start."""
    return Edge(rising, (gap_from + gap_to) / 2, abs(gap_to - gap_from) <= PRECISE_GAP_NS)


def _exposure_ns(row: dict[str, str]) -> float:
    value = row.get("exposure_us") or row.get("frame_duration_us") or "0"
    return float(value) * 1000.0


# -- comparing cameras -------------------------------------------------------------------------


def clock_error_ns(edges: list[Edge], ref_edges: list[Edge]) -> tuple[float, float, int] | None:
    """Median time difference of the same LED edges seen by two cameras, its standard error and
    how many edges matched; precise edges only when both cameras have some."""
    diffs: list[float] = []
    for precise_only in (True, False):
        mine = [e for e in edges if e.precise or not precise_only]
        theirs = [e for e in ref_edges if e.precise or not precise_only]
        for rising in (True, False):
            ref_times = np.array(sorted(e.time_ns for e in theirs if e.rising == rising))
            if len(ref_times) == 0:
                continue
            spacing = float(np.median(np.diff(ref_times))) if len(ref_times) > 1 else float("inf")
            for e in mine:
                if e.rising != rising:
                    continue
                i = int(np.argmin(np.abs(ref_times - e.time_ns)))
                d = e.time_ns - ref_times[i]
                if abs(d) < spacing / 4:
                    diffs.append(d)
        if diffs:
            break
    if not diffs:
        return None
    arr = np.array(diffs)
    se = float(arr.std(ddof=1) / np.sqrt(len(arr))) if len(arr) > 1 else float("nan")
    return float(np.median(arr)), se, len(arr)


def timestamp_offset_ns(times: list[int], ref_times: list[int]) -> float | None:
    """Median of (frame - the reference's nearest frame) by wall-clock timestamps, over the frames
    both cameras recorded."""
    ref = np.array(sorted(ref_times), dtype=np.int64)
    mine = np.array(times, dtype=np.int64)
    mine = mine[(mine >= ref[0]) & (mine <= ref[-1])] if len(ref) else mine[:0]
    if len(mine) == 0:
        return None
    idx = np.clip(np.searchsorted(ref, mine), 1, len(ref) - 1)
    left, right = ref[idx - 1], ref[idx]
    nearest = np.where(mine - left <= right - mine, left, right)
    return float(np.median(mine - nearest))


def check(takes: list[CameraTake], region: Region | None) -> list[CameraResult]:
    results: list[CameraResult] = []
    edges_of: list[list[Edge] | None] = []
    for take in takes:
        res = CameraResult(take.host, take.camera_id, str(take.session), len(take.rows))
        try:
            values, box = led_series(take, region)
            res.region = box
            edges = find_edges(take, lit_shares(values[: len(take.rows)]))
            res.edges = len(edges)
            edges_of.append(edges)
        except LedNotFound as exc:
            res.error = f"{take.label}: {exc}" if not str(exc).startswith(take.label) else str(exc)
            edges_of.append(None)
        results.append(res)
    ref_edges, ref_times = edges_of[0], takes[0].wall_ns()
    for take, res, seen in zip(takes, results, edges_of, strict=True):
        ts = timestamp_offset_ns(take.wall_ns(), ref_times)
        res.timestamp_offset_us = None if ts is None else round(ts / 1000, 1)
        if seen is None or ref_edges is None:
            res.error = res.error or "the first camera's LED was not found"
            continue
        found = clock_error_ns(seen, ref_edges)
        if found is None or ts is None:
            res.error = "no LED edge seen by both this camera and the first one"
            continue
        err, se, n = found
        res.clock_error_us = round(err / 1000, 1)
        res.clock_error_se_us = None if np.isnan(se) else round(se / 1000, 1)
        res.edges_matched = n
        res.led_offset_us = round((ts - err) / 1000, 1)
    return results


# -- command line ------------------------------------------------------------------------------


def format_text(results: list[CameraResult]) -> str:
    lines = [
        f"{'host':<24} {'camera':>6} {'LED offset µs':>14} {'timestamp offset µs':>20} {'clock error µs':>15} {'edges':>6}"
    ]
    for r in results:

        def num(v: float | None) -> str:
            return "-" if v is None else f"{v:+.1f}"

        se = f" ±{r.clock_error_se_us:.1f}" if r.clock_error_se_us is not None else ""
        lines.append(
            f"{r.host:<24} {r.camera_id:>6} {num(r.led_offset_us):>14} {num(r.timestamp_offset_us):>20} "
            f"{num(r.clock_error_us) + se:>15} {r.edges_matched:>6}"
        )
        if r.error:
            lines.append(f"  ! {r.error}")
    lines.append("Offsets against the first camera listed; clock error = timestamp offset - LED offset.")
    reference = results[0].host if results else ""
    for r in clock_errors(results):
        assert r.clock_error_us is not None
        side = "ahead of" if r.clock_error_us > 0 else "behind"
        lines.append(
            f"CLOCK ERROR: {r.host}: its wall clock is {abs(r.clock_error_us) / 1000:.3f} ms {side} {reference}'s "
            f"(its frames are exposed {abs(r.clock_error_us) / 1000:.3f} ms {'earlier' if r.clock_error_us > 0 else 'later'} than its timestamps say)"
        )
    return "\n".join(lines)


def clock_errors(results: list[CameraResult], floor_us: float = 100.0) -> list[CameraResult]:
    """Cameras whose clock error is clearly there: over `floor_us` and three standard errors."""
    return [
        r
        for r in results
        if r.clock_error_us is not None and abs(r.clock_error_us) > max(floor_us, 3 * (r.clock_error_se_us or 0))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m camera_core synccheck",
        description="Measure each camera's true exposure offset from an LED all cameras see, against "
        "what its timestamps claim (the difference is clock error). Offsets are against the first camera.",
    )
    parser.add_argument("sessions", nargs="+", metavar="SESSION", help="session folders, optionally NAME=FOLDER")
    parser.add_argument("--region", type=Region.parse, help="the LED's box X,Y,W,H in pixels (default: found)")
    parser.add_argument("--take", help="the take stamp YYYYMMDD_HHMMSS to use (default: each camera's latest)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--max-offset-us", type=float, help="exit 1 when a camera's LED offset exceeds this")
    args = parser.parse_args(argv)
    try:
        takes = load_takes(args.sessions, args.take)
    except SessionError as exc:
        print(f"synccheck: {exc}", file=sys.stderr)
        return 2
    results = check(takes, args.region)
    over = [
        r
        for r in results
        if args.max_offset_us is not None and r.led_offset_us is not None and abs(r.led_offset_us) > args.max_offset_us
    ]
    if args.json:
        print(json.dumps({"cameras": [asdict(r) for r in results], "ok": not over}, indent=2))
    else:
        print(format_text(results))
        for r in over:
            print(
                f"OVER LIMIT: {r.host} cam{r.camera_id}: LED offset {r.led_offset_us:+.1f} µs > {args.max_offset_us:g} µs"
            )
    if any(r.error for r in results):
        return 2
    return 1 if over else 0
