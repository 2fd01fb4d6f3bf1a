"""The trailing 30-day Sharpe added to btcn.core.kpis: consistent with the existing Sharpe."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from btcn.core import kpis as K

BAR = 3_600_000  # hourly bars keep the examples small


@given(
    rets=st.lists(st.floats(-0.02, 0.02, allow_nan=False), min_size=1, max_size=24 * 40),
    window=st.integers(2, 35),
)
def test_rolling_equals_trailing_on_the_cut_data(rets: list[float], window: int) -> None:
    nav = 1000 * np.cumprod(1 + np.array(rets))
    ts = np.arange(len(rets), dtype=np.int64) * BAR
    days, rolling = K.rolling_daily_sharpe(ts, nav, bar_ms=BAR, nav_start=1000, window_days=window)
    assert days.shape == rolling.shape
    for i, day in enumerate(days):
        cut = ts + BAR <= day + K.DAY_MS  # bars that closed by the end of that day
        want = K.trailing_sharpe(ts[cut], nav[cut], bar_ms=BAR, nav_start=1000, window_days=window)
        got = rolling[i]
        assert (math.isnan(want) and math.isnan(got)) or got == want


def test_trailing_sharpe_uses_the_last_window_of_daily_returns() -> None:
    day_rets = np.array([0.01, -0.02, 0.03, 0.0, 0.01])
    nav = 100 * np.cumprod(1 + day_rets)
    ts = np.arange(5, dtype=np.int64) * K.DAY_MS
    # Returns are rebuilt from NAV, so equal to rounding.
    assert K.trailing_sharpe(ts, nav, bar_ms=K.DAY_MS, nav_start=100, window_days=3) == (
        pytest.approx(K.sharpe(day_rets[-3:]), rel=1e-12)
    )
    assert K.trailing_sharpe(ts, nav, bar_ms=K.DAY_MS, nav_start=100) == pytest.approx(
        K.sharpe(day_rets), rel=1e-12
    )
    assert math.isnan(K.trailing_sharpe(ts[:0], nav[:0], bar_ms=K.DAY_MS, nav_start=100))
