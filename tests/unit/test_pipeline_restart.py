"""camera_core/watchdog.py (camera_core/pipeline/restart.py after issue 13's move): when a lost
camera is tried again and how long it was without frames."""

from __future__ import annotations

from camera_core.pipeline.restart import Outage, RestartBackoff


def test_waits_double_up_to_the_cap() -> None:
    backoff = RestartBackoff(first_s=0.5, max_s=3.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_reset_starts_again_from_the_first_wait() -> None:
    backoff = RestartBackoff(first_s=1.0, max_s=30.0)
    backoff.next_delay()
    backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 1.0


def test_a_first_wait_above_the_cap_is_cut_to_the_cap() -> None:
    backoff = RestartBackoff(first_s=60.0, max_s=5.0)
    assert [backoff.next_delay(), backoff.next_delay()] == [5.0, 5.0]


def test_downtime_runs_from_the_last_frame_before_the_loss_to_the_first_after() -> None:
    outage = Outage(last_frame_at=100.0)
    assert outage.downtime_s(first_frame_at=103.25) == 3.25


def test_downtime_is_never_negative() -> None:
    assert Outage(last_frame_at=10.0).downtime_s(first_frame_at=9.0) == 0.0
