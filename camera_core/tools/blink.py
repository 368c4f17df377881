"""`python -m camera_core blink`: flash an LED on a Raspberry Pi GPIO pin on the wall clock (on for
`--on-ms` at the start of every `--period-s`), for `synccheck` on a real rig. Needs lgpio
(preinstalled on Raspberry Pi OS; `apt install python3-lgpio`) or gpiozero; `--dry-run` runs the
same timing without a pin. Prints how late the edges were set (the OS's scheduling, not the LED's
accuracy, which synccheck never needs)."""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

Setter = Callable[[bool], None]
#: The edge is waited for by sleeping until this long before it, then spinning.
SPIN_S = 0.003


def open_pin(chip: int, pin: int) -> tuple[Setter, Callable[[], None]]:
    """(set level, release) through lgpio, else gpiozero; ImportError when neither is there."""
    try:
        import lgpio  # type: ignore[import-not-found]

        handle = lgpio.gpiochip_open(chip)
        lgpio.gpio_claim_output(handle, pin, 0)
        return (lambda on: lgpio.gpio_write(handle, pin, int(on))), (lambda: lgpio.gpiochip_close(handle))
    except ImportError:
        pass
    from gpiozero import LED  # type: ignore[import-not-found]

    led: Any = LED(pin)
    return (lambda on: led.on() if on else led.off()), led.close


def run(set_level: Setter, period_s: float, on_s: float, flashes: int | None, stop: threading.Event) -> list[float]:
    """Flash until `stop` (or `flashes` flashes); returns each rising edge's lateness in µs."""
    late_us: list[float] = []
    while not stop.is_set() and (flashes is None or len(late_us) < flashes):
        now = time.time()
        edge = math.ceil(now / period_s) * period_s
        if stop.wait(max(0.0, edge - now - SPIN_S)):
            break
        while time.time() < edge:  # the last SPIN_S: the scheduler's wake-up is too coarse
            pass
        set_level(True)
        late_us.append((time.time() - edge) * 1e6)
        stop.wait(max(0.0, edge + on_s - time.time()))
        set_level(False)
    set_level(False)
    return late_us


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_core blink", description=__doc__)
    parser.add_argument("--pin", type=int, default=17, help="BCM GPIO number (default 17)")
    parser.add_argument("--chip", type=int, default=0, help="gpiochip for lgpio (default 0; early Pi 5 kernels: 4)")
    parser.add_argument("--period-s", type=float, default=1.0, help="one flash every this many seconds (default 1)")
    parser.add_argument("--on-ms", type=float, default=100.0, help="flash length, ms (default 100)")
    parser.add_argument("--flashes", type=int, default=None, help="stop after this many flashes (default: Ctrl+C)")
    parser.add_argument("--dry-run", action="store_true", help="no GPIO: run the timing only")
    args = parser.parse_args(argv)
    if not 0 < args.on_ms / 1000 < args.period_s:
        parser.error(f"--on-ms {args.on_ms:g} must be more than 0 and less than --period-s {args.period_s:g} s")
    release: Callable[[], None] = lambda: None  # noqa: E731
    if args.dry_run:
        set_level: Setter = lambda on: None  # noqa: E731
    else:
        try:
            set_level, release = open_pin(args.chip, args.pin)
        except ImportError:
            print("blink: needs lgpio (apt install python3-lgpio) or gpiozero; --dry-run runs without", file=sys.stderr)
            return 2
        except Exception as exc:  # a busy or missing pin
            print(f"blink: GPIO{args.pin} on gpiochip{args.chip}: {exc}", file=sys.stderr)
            return 2
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        late = run(set_level, args.period_s, args.on_ms / 1000, args.flashes, stop)
    finally:
        release()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if late:
        arr = np.array(late)
        print(
            f"blink: {len(late)} flashes; rising edges late by {np.median(arr):.0f} µs median, "
            f"{np.percentile(arr, 99):.0f} µs p99, {arr.max():.0f} µs max"
        )
    return 0
