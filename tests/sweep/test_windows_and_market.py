from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from btcn.backtest.market import build_market, market_atr, rethreshold
from btcn.data.candles import load_candles
from btcn.data.signals import EMPTY_SIGNALS
from btcn.errors import InvalidInputError, UsageError
from btcn.sweep.windows import make_windows, parse_walk_forward
from tests.sweep.conftest import write_candles

DAY = 86_400_000


def test_parse_walk_forward() -> None:
    assert parse_walk_forward("90d:30d") == (90 * DAY, 30 * DAY)
    assert parse_walk_forward(" 36h : 12h ") == (36 * 3_600_000, 12 * 3_600_000)
    for bad, needle in (("90d", "expected TRAIN:TEST"), ("90d:x", "invalid duration"),
                        ("0d:1d", "positive"), ("1500ms:1d", "whole seconds")):  # fmt: skip
        with pytest.raises(UsageError, match=needle):
            parse_walk_forward(bad)


def test_windows_roll_by_the_test_length_and_leave_out_the_tail() -> None:
    w = make_windows(0, 100 * DAY, 30 * DAY, 20 * DAY)
    assert [(x.train_start_ms // DAY, x.test_start_ms // DAY, x.test_end_ms // DAY) for x in w] == [
        (0, 30, 50), (20, 50, 70), (40, 70, 90)]  # fmt: skip
    with pytest.raises(UsageError, match="needs 50d of data, the period holds 40d"):
        make_windows(0, 40 * DAY, 30 * DAY, 20 * DAY)
    with pytest.raises(ValueError):
        make_windows(0, 1, 0, 1)


@given(
    st.integers(0, 10**12), st.integers(1, 10**9), st.integers(10**7, 10**9), st.integers(1, 10**10)
)
def test_windows_never_overlap_and_never_look_ahead(
    t0: int, train: int, test: int, span: int
) -> None:
    try:
        ws = make_windows(t0, t0 + span, train, test)
    except UsageError:
        assert train + test > span
        return
    assert len(ws) == (span - train) // test
    for i, w in enumerate(ws):
        assert w.index == i
        assert w.train_start_ms < w.train_end_ms == w.test_start_ms < w.test_end_ms
        assert (
            w.train_end_ms - w.train_start_ms == train and w.test_end_ms - w.test_start_ms == test
        )
        assert t0 <= w.train_start_ms and w.test_end_ms <= t0 + span
        if i:  # the test windows tile the period end to end
            assert w.test_start_ms == ws[i - 1].test_end_ms
    assert t0 + span - ws[-1].test_end_ms < test


@pytest.mark.parametrize(("window", "periods", "floor", "mult"), [
    ("24h", 14, 0.005, 0.2), ("4h", 3, 0.001, 0.5), ("1h", 1, 0.0, 1.0), ("12h", 30, 0.02, 0.0)])  # fmt: skip
def test_rethreshold_equals_building_the_market_with_those_settings(
    tmp_path, window: str, periods: int, floor: float, mult: float
) -> None:
    from btcn.core.durations import parse_duration_ms

    path = write_candles(tmp_path / "c.csv", 6 * 288, skip=slice(700, 760))  # a gap: ATR restarts
    spot = load_candles([path], gaps="warn")
    assert len(spot.segments()) == 2
    base = build_market(spot, None, None, EMPTY_SIGNALS, atr_window_ms=86_400_000, atr_periods=14,
                        threshold_floor=0.005, atr_multiplier=0.2)  # fmt: skip
    ms = parse_duration_ms(window)
    want = build_market(spot, None, None, EMPTY_SIGNALS, atr_window_ms=ms, atr_periods=periods,
                        threshold_floor=floor, atr_multiplier=mult)  # fmt: skip
    got = rethreshold(base, atr_window_ms=ms, atr_periods=periods, threshold_floor=floor,
                      atr_multiplier=mult)  # fmt: skip
    for name in ("atr", "atr_used", "thr"):
        assert np.array_equal(getattr(got, name), getattr(want, name), equal_nan=True), name
    assert got.spot_close is base.spot_close  # the candle arrays are shared, not copied
    assert base.thr is not got.thr


def test_market_atr_rejects_a_window_off_the_bar_grid(tmp_path) -> None:
    spot = load_candles([write_candles(tmp_path / "c.csv", 300)])
    m = build_market(spot, None, None, EMPTY_SIGNALS, atr_window_ms=3_600_000, atr_periods=2,
                     threshold_floor=0.005, atr_multiplier=0.2)  # fmt: skip
    with pytest.raises(InvalidInputError, match="not a multiple"):
        market_atr(m, atr_window_ms=420_000, atr_periods=2)
