"""equity.html's figure: thinning, gaps, rebalance markers, bands and tick labels."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from btcn.backtest import decimate
from btcn.backtest.html import MAX_BUCKETS, Context, figure, pct_tickformat

BAR = 300_000


@st.composite
def series(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 3000))
    gaps = draw(st.lists(st.integers(1, max(1, n - 1)), max_size=4, unique=True))
    steps = np.full(n, BAR, dtype=np.int64)
    for g in gaps:
        if g < n:
            steps[g] = BAR * draw(st.integers(2, 500))
    steps[0] = 0
    ts = np.cumsum(steps) + 1_700_000_000_000
    seed = draw(st.integers(0, 2**31))
    v = np.random.default_rng(seed).normal(size=n).cumsum()
    return ts, v


@settings(max_examples=120, deadline=None)
@given(series(), st.integers(1, 400))
def test_thinning_keeps_extremes_and_draws_gaps(data: tuple, buckets: int) -> None:
    ts, v = data
    p = decimate.plan(ts, BAR, buckets)
    x = decimate.times(p, ts, BAR)
    lo_hi = decimate.extreme(p, v)
    lev = decimate.level(p, v)
    assert x.shape[0] == lo_hi.shape[0] == lev.shape[0] == p.rows
    assert np.all(np.diff(x) >= 0)
    runs = np.split(np.arange(ts.shape[0]), np.flatnonzero(np.diff(ts) != BAR) + 1)
    # one null row per gap, and each run's extremes and last value survive
    assert int(np.isnan(lev).sum()) == len(runs) - 1
    pieces = np.split(lo_hi, np.flatnonzero(np.isnan(lo_hi)))
    assert len(pieces) == len(runs)
    for run, piece in zip(runs, pieces, strict=True):
        kept = piece[np.isfinite(piece)]
        assert kept.max() == v[run].max() and kept.min() == v[run].min()
    assert lev[-1] == v[-1]
    if ts.shape[0] > buckets:
        assert p.rows <= 2 * (buckets + len(runs)) + len(runs)


@settings(max_examples=300, deadline=None)
@given(st.floats(1e-7, 5.0), st.integers(2, 10))
def test_percent_ticks_never_repeat(span: float, nticks: int) -> None:
    fmt = pct_tickformat(span, nticks)
    decimals = int(fmt[1:-1])
    raw = span / nticks  # plotly's tick step is a 1-2-5 number at least this large
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw * (1 - 1e-12))
    labels = [f"{-k * step * 100:.{decimals}f}" for k in range(nticks + 1)]
    assert len(set(labels)) == len(labels), (fmt, labels)


def _equity(n: int, gap_at: int | None = None) -> dict[str, np.ndarray]:
    steps = np.full(n, BAR, dtype=np.int64)
    steps[0] = 0
    if gap_at is not None:
        steps[gap_at] = BAR * 100
    ts = np.cumsum(steps) + 1_700_000_000_000
    rng = np.random.default_rng(3)
    nav = 100_000 + np.cumsum(rng.normal(0, 5, n))
    eq = {"ts_ms": ts, "nav_usdt": nav, "price_spot": 50_000 + np.cumsum(rng.normal(0, 20, n)),
          "funding_usdt": np.where(np.arange(n) % 96 == 95, 2.5, 0.0),
          "fees_usdt": np.where(np.arange(n) % 50 == 1, 1.0, 0.0),
          "net_delta_btc": rng.normal(0, 1e-5, n), "net_delta_pct_nav": rng.normal(0, 1e-3, n),
          "thr": np.full(n, 0.005), "drawdown": np.abs(rng.normal(0, 1e-3, n)),
          "liq_distance": np.full(n, 0.4), "margin_ratio": np.full(n, 1.5),
          "w_spot": 0.5 + rng.normal(0, 2e-3, n), "w_long": np.zeros(n),
          "w_short": 0.5 + rng.normal(0, 2e-3, n)}  # fmt: skip
    return eq


def _trade(bar: int, leg: str, action: str, side: str, liquidity: str) -> dict:
    return {"ts_ms": 1_700_000_000_000 + bar * BAR, "bar_index": bar, "leg": leg,
            "action": action, "side": side, "qty_btc": 0.01, "price": 50_000.0,
            "fee_usdt": 0.1, "liquidity": liquidity}  # fmt: skip


CTX = Context(targets=(0.5, 0.0, 0.5), nav_start=100_000.0, bar_ms=BAR, max_delta_drift=0.002,
              min_liq_distance=0.3, margin_target=1.5)  # fmt: skip


def test_one_marker_per_rebalance_with_side_and_liquidity() -> None:
    trades = [
        _trade(10, "BTC_SPOT", "BUY", "BUY", "maker"),
        _trade(10, "BTC_PERP_SHORT", "OPEN_SHORT", "SELL", "maker"),
        _trade(40, "BTC_SPOT", "SELL", "SELL", "maker"),
        _trade(41, "BTC_PERP_SHORT", "CLOSE_SHORT", "BUY", "taker"),  # legging: next bar
        _trade(90, "BTC_SPOT", "BUY", "BUY", "taker"),
        _trade(90, "BTC_PERP_SHORT", "OPEN_SHORT", "SELL", "taker"),
    ]
    fig = figure(_equity(200), trades, [], CTX, "t")
    marks = {t["name"]: t for t in fig["data"] if t["name"].startswith("rebalance")}
    assert sum(len(t["x"]) for t in marks.values()) == 3
    assert marks["rebalance: buy spot, maker"]["marker"]["symbol"] == "triangle-up"
    assert marks["rebalance: sell spot, taker"]["marker"]["symbol"] == "triangle-down-open"
    assert marks["rebalance: buy spot, taker"]["marker"]["symbol"] == "triangle-up-open"
    hover = marks["rebalance: sell spot, taker"]["text"][0]
    assert "BTC_SPOT SELL" in hover and "BTC_PERP_SHORT CLOSE_SHORT" in hover
    assert marks["rebalance: buy spot, maker"]["y"] == [1000.0]  # 2 × 0.01 BTC × 50,000


def test_every_panel_and_band_is_there_and_a_gap_is_a_gap() -> None:
    eq = _equity(400, gap_at=200)
    fig = figure(eq, [], [], CTX, "t")
    cols, layout = fig["cols"], fig["layout"]
    assert all(f"yaxis{i}" in layout for i in ("", 2, 3, 4, 5, 6, 7, 8))
    assert len(layout["annotations"]) == 7
    assert sum(v is None for v in cols["nav"]) == 1 and cols["nav"][200] is None
    bands = {(s["yref"], s["y0"]) for s in layout["shapes"]}
    assert {("y4", 0.002), ("y4", -0.002), ("y5", 0.3), ("y8", 1.5)} <= bands
    # the stack's parts sum to the net PnL line at every row
    parts = [np.array(cols[k], dtype=float) for k in ("funding", "fees", "price", "basis")]
    net = np.array(cols["net"], dtype=float)
    ok = np.isfinite(net)
    np.testing.assert_allclose(sum(parts)[ok], net[ok], atol=0.05)
    for t in fig["data"]:  # every series reference resolves to a column
        for k in ("x", "y", "customdata"):
            if isinstance(t.get(k), str):
                assert t[k][1:] in cols


def test_a_long_run_is_thinned() -> None:
    n = 28 * 30 * 288
    fig = figure(_equity(n), [], [], CTX, "t")
    assert len(fig["cols"]["x"]) <= 2 * MAX_BUCKETS + 2


def test_extremes_keep_their_order_and_empty_buckets_are_null() -> None:
    ts = np.arange(8, dtype=np.int64) * BAR
    v = np.array([0.0, 5.0, -5.0, 1.0, np.nan, np.nan, np.nan, np.nan])
    p = decimate.plan(ts, BAR, 2)  # two buckets of four bars
    out = decimate.extreme(p, v)
    assert out[:2].tolist() == [5.0, -5.0]  # the maximum came first
    assert np.isnan(out[2:]).all()
    assert decimate.extreme(p, -v)[:2].tolist() == [-5.0, 5.0]


def test_a_blocked_order_recurring_decision_after_decision_is_one_marker() -> None:
    def blocked(bar: int, leg: str = "BTC_PERP_SHORT") -> dict:
        return {"ts_ms": 1_700_000_000_000 + bar * BAR, "bar_index": bar, "leg": leg,
                "action": "OPEN_SHORT", "rule": "short_blocked", "signal": "LONG",
                "notional_usdt": 100.0 + bar}  # fmt: skip

    rows = [blocked(b) for b in range(10, 60)] + [blocked(200)] + [blocked(20, "BTC_SPOT")]
    fig = figure(_equity(300), [], rows, CTX, "t")
    (trace,) = [t for t in fig["data"] if t["name"].startswith("blocked")]
    assert len(trace["x"]) == 3
    assert "50 time(s) over 4.1 h" in trace["text"][0] and trace["y"][0] == 159.0
