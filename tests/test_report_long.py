"""A long recording's figure: lines thinned to a few thousand points that still show every spike,
the histogram still counting every interval, and the report's fits equal to numpy's."""

from __future__ import annotations

import numpy as np
import pytest

from camera_core.tools.report import stats
from camera_core.tools.report.figure_data import MAX_LINE_POINTS, IntervalSeries, OffsetSeries, thinned, thinned_offsets


def long_series(n: int) -> IntervalSeries:
    iv = np.full(n, 33.3)
    iv[n // 2] = 133.3  # a drop gap
    iv[n * 3 // 4] = 1.0  # a short interval
    frames = np.arange(1, n + 1)
    return IntervalSeries(
        "cam0", 0, "t", 33.3, frames / 30.0, iv, frames, frames[[n // 2]], np.array([3]), np.zeros(1), iv[[n // 2]]
    )


def test_a_long_series_is_thinned_keeping_its_extremes_and_drop_marks() -> None:
    s = thinned(long_series(100_000))
    assert s.t_s.size == s.interval_ms.size == s.frame_numbers.size <= MAX_LINE_POINTS
    assert s.interval_ms.max() == pytest.approx(133.3) and s.interval_ms.min() == pytest.approx(1.0)
    assert np.all(np.diff(s.t_s) >= 0)
    assert s.drop_frames.tolist() == [50_001]


def test_a_short_series_is_left_whole() -> None:
    s = long_series(MAX_LINE_POINTS)
    assert thinned(s).interval_ms.size == MAX_LINE_POINTS
    o = OffsetSeries("cam1 - cam0", np.arange(10.0), np.arange(10.0))
    assert thinned_offsets(o) is o


def test_closed_form_fits_match_numpy_polyfit() -> None:
    rng = np.random.default_rng(1)
    index = np.cumsum(1 + (rng.random(50_000) < 0.001)) - 1
    sensor = 10**12 + np.round(index * 33_333_366.7 + rng.normal(0, 40_000, index.size)).astype(np.int64)
    expected = np.polyfit((index - index[0]).astype(float), (sensor - sensor[0]).astype(float), 1)[0]
    assert stats.fitted_period_ns(sensor, index) == pytest.approx(expected, rel=1e-12)
    a_index, b_index = index, index[::2] + 1
    offsets = stats.pair_offsets(sensor, a_index, sensor[::2], b_index)
    _, ia, ib = np.intersect1d(a_index, b_index, assume_unique=True, return_indices=True)
    assert offsets.a_frames.tolist() == ia.tolist() and offsets.b_frames.tolist() == ib.tolist()
