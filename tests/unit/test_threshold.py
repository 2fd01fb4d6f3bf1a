from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from btcn.core.threshold import atr_series, threshold, threshold_array, true_range_24h


def naive_atr(high, low, close, bpc, periods, t):
    """Reference: build each 24h candle ending at t - k*bpc by hand and average their TRs."""
    trs = []
    for k in range(periods):
        end = t - k * bpc
        start = end - bpc + 1
        if start < 0:
            break
        hi = max(high[start : end + 1])
        lo = min(low[start : end + 1])
        if start - 1 >= 0:
            pc = close[start - 1]
            trs.append(max(hi, pc) - min(lo, pc))
        else:
            trs.append(hi - lo)
    return (sum(trs) / len(trs), len(trs)) if trs else (math.nan, 0)


@st.composite
def ohlc(draw):
    n = draw(st.integers(min_value=1, max_value=80))
    closes = draw(st.lists(st.floats(min_value=10, max_value=1000), min_size=n, max_size=n))
    spreads = draw(st.lists(st.floats(min_value=0, max_value=0.05), min_size=n, max_size=n))
    close = np.array(closes)
    opens = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(opens, close) * (1 + np.array(spreads))
    low = np.minimum(opens, close) * (1 - np.array(spreads))
    bpc = draw(st.integers(min_value=1, max_value=12))
    periods = draw(st.integers(min_value=1, max_value=6))
    return high, low, close, bpc, periods


@given(ohlc())
def test_atr_matches_a_hand_built_reference(data) -> None:
    high, low, close, bpc, periods = data
    atr, used = atr_series(high, low, close, bpc, periods)
    for t in range(close.shape[0]):
        ref, n = naive_atr(high, low, close, bpc, periods, t)
        assert used[t] == n
        if n == 0:
            assert math.isnan(atr[t])
        else:
            assert atr[t] == pytest.approx(ref, rel=1e-12)


@given(ohlc())
def test_atr_at_a_bar_does_not_depend_on_older_history(data) -> None:
    high, low, close, bpc, periods = data
    atr, _ = atr_series(high, low, close, bpc, periods)
    keep = periods * bpc + 1  # enough bars for every candle and its previous close
    if close.shape[0] > keep:
        tail_atr, _ = atr_series(high[-keep:], low[-keep:], close[-keep:], bpc, periods)
        assert tail_atr[-1] == atr[-1]  # bit for bit


def test_true_range_uses_the_previous_candles_close() -> None:
    # two 2-bar candles; the second gaps up above the first's close.
    high = np.array([10.0, 11.0, 20.0, 21.0])
    low = np.array([9.0, 10.0, 19.0, 20.0])
    close = np.array([10.0, 10.5, 20.0, 20.5])
    tr = true_range_24h(high, low, close, 2)
    assert math.isnan(tr[0])
    assert tr[1] == 2.0  # first candle: high - low
    assert tr[3] == 21.0 - 10.5  # max(21, 10.5) - min(19, 10.5)


def test_no_look_ahead() -> None:
    rng = np.random.default_rng(1)
    close = 100 + np.cumsum(rng.normal(size=200))
    high, low = close + 1, close - 1
    atr, _ = atr_series(high, low, close, 10, 3)
    high2 = high.copy()
    high2[150:] += 50  # change the future
    atr2, _ = atr_series(high2, low, close, 10, 3)
    assert np.array_equal(atr[:150], atr2[:150], equal_nan=True)


def test_threshold_floor_and_atr_term() -> None:
    assert threshold(math.nan, 100.0, 0.005, 0.2) == 0.005
    assert threshold(1.0, 100.0, 0.005, 0.2) == 0.005  # 0.2 * 1 / 100 = 0.002 < floor
    assert threshold(4.0, 100.0, 0.005, 0.2) == pytest.approx(0.008)


@given(
    st.lists(
        st.one_of(st.just(math.nan), st.floats(min_value=0, max_value=1e5)), min_size=1, max_size=30
    ),
    st.floats(min_value=1, max_value=1e5),
    st.floats(min_value=0, max_value=0.05),
    st.floats(min_value=0, max_value=2),
)
def test_threshold_array_equals_scalar_bit_for_bit(atrs, p, floor, mult) -> None:
    arr = threshold_array(np.array(atrs), np.full(len(atrs), p), floor, mult)
    for a, got in zip(atrs, arr, strict=True):
        assert got == threshold(a, p, floor, mult)
