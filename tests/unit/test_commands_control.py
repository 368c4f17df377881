"""The control thread (commands/control.py): jobs run one at a time in submission order on one
thread, each answered through its future; a failing job fails only its own future."""

from __future__ import annotations

import threading

import pytest

from camera_core.commands.control import ControlThread


def test_jobs_run_in_order_on_one_thread_and_answer_through_futures() -> None:
    control = ControlThread("control-test")
    gate = threading.Event()
    ran: list[tuple[int, str]] = []

    def job(n: int) -> int:
        if n == 0:
            assert gate.wait(10)
        ran.append((n, threading.current_thread().name))
        return n * n

    futures = [control.submit(lambda n=n: job(n)) for n in range(5)]
    assert control.pending == 5 and not futures[4].done()  # all wait behind the first
    gate.set()
    assert [f.result(10) for f in futures] == [0, 1, 4, 9, 16]
    assert ran == [(n, "control-test") for n in range(5)]
    assert control.close(5) and control.pending == 0


def test_a_failing_job_fails_its_future_and_the_thread_runs_on() -> None:
    control = ControlThread()
    bad = control.submit(lambda: 1 / 0)
    good = control.submit(lambda: "next")
    with pytest.raises(ZeroDivisionError):
        bad.result(10)
    assert good.result(10) == "next"
    assert control.close(5)


def test_close_runs_the_queued_jobs_then_refuses_new_ones() -> None:
    control = ControlThread()
    gate = threading.Event()
    first = control.submit(lambda: gate.wait(10))
    second = control.submit(lambda: "queued before close")
    closed: list[bool] = []
    closer = threading.Thread(target=lambda: closed.append(control.close(10)))
    closer.start()
    assert control.closing.wait(10)  # close() was called while the first job still runs
    assert not second.done()
    gate.set()
    closer.join(10)
    assert closed == [True]
    assert first.result(0) is True and second.result(0) == "queued before close"
    with pytest.raises(RuntimeError, match="closed"):
        control.submit(lambda: None)
