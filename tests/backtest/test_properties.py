"""Hypothesis properties of the backtester (issue 3)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcn.backtest.ledger import Ledger
from btcn.backtest.outputs import collect
from btcn.contracts import PerpSpec, SpotSpec
from btcn.contracts.enums import Action, Leg, Signal
from btcn.data.signals import Signals
from tests.backtest.support import (
    BAR,
    T0,
    ZERO_FEES,
    FeeRates,
    candles,
    engine_params,
    funding_at,
    market,
    run,
)

D = Decimal


@st.composite
def scenarios(draw, *, with_signals: bool = True, rebalance: str | None = None):
    """A random market and settings; ``rebalance`` is drawn from both modes unless given."""
    n = draw(st.integers(min_value=30, max_value=400))
    seed = draw(st.integers(min_value=0, max_value=10_000))
    vol = draw(st.sampled_from([0.001, 0.004, 0.01]))
    rng = np.random.default_rng(seed)
    spot_close = 30_000 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    basis = 1 + rng.normal(0, 0.0004, n)
    perp_close = spot_close * basis
    n_f = draw(st.integers(min_value=0, max_value=max(0, n // 20)))
    f_bars = sorted(set(rng.integers(0, n, n_f).tolist()))
    f_rates = rng.normal(0.0001, 0.0003, len(f_bars)).round(8).tolist()
    sig = None
    if with_signals and draw(st.booleans()):
        k = draw(st.integers(min_value=1, max_value=8))
        times = sorted(set((T0 + rng.integers(0, n, k) * BAR + 1000).tolist()))
        vals = [draw(st.sampled_from([Signal.BUY, Signal.SELL, Signal.HOLD])) for _ in times]
        sig = Signals(tuple(int(t) for t in times), tuple(vals), "s", "s")
    targets = draw(
        st.sampled_from(
            [(0.5, 0.0, 0.5), (0.4, 0.2, 0.6), (1.0, 0.0, 0.0), (0.0, 0.3, 0.3), (0.3, 0.0, 0.9)]
        )
    )
    cooldown = draw(st.sampled_from([0, BAR, 12 * BAR]))
    leverage = draw(st.sampled_from(["3", "20", "80"]))
    fees = draw(
        st.sampled_from([ZERO_FEES, FeeRates(D("0.001"), D("0.001"), D("-0.0001"), D("0.0005"))])
    )
    m = market(candles(spot_close), candles(perp_close), funding_at(f_bars, f_rates),
               sig or Signals((), (), "e", "e"), atr_window_ms=12 * BAR, periods=3)  # fmt: skip
    mode = rebalance or draw(st.sampled_from(["book", "per_leg"]))
    p = engine_params(targets, fees=fees, leverage=leverage, cooldown_ms=cooldown,
                      apply_signal_logic=draw(st.booleans()), rebalance=mode,
                      max_delta_drift=draw(st.sampled_from([0.002, 0.05])))  # fmt: skip
    assert p.planner.rebalance == mode
    return m, p


def trades_key(out):
    return [
        (t.bar, t.leg, t.action, t.qty_btc, t.price, t.fee_usdt, t.liquidity)
        for t in out.ledger.trades
    ]


@pytest.mark.parametrize("mode", ["book", "per_leg"])
@settings(max_examples=60)
@given(data=st.data())
def test_event_skipping_equals_the_bar_by_bar_loop(mode, data) -> None:
    """The fast path equals the naive loop in each rebalance mode (passed explicitly: the
    PlannerParams default is not the settings default)."""
    m, p = data.draw(scenarios(rebalance=mode))
    fast = run(m, p)
    slow = run(m, p, naive=True)
    assert trades_key(fast) == trades_key(slow)
    for name, col in fast.columns.items():
        assert np.array_equal(col, slow.columns[name], equal_nan=True), name
    assert [(b.ts_ms, b.leg, b.rule) for b in fast.blocked] == [
        (b.ts_ms, b.leg, b.rule) for b in slow.blocked
    ]
    assert len(fast.liquidations) == len(slow.liquidations)


@settings(max_examples=60)
@given(scenarios())
def test_nav_reconstructed_from_trades_prices_and_funding(case) -> None:
    m, p = case
    out = run(m, p)
    res = collect(out, m, {"initial_nav_usdt": 100_000.0, "targets": list(p.planner.targets)})
    cash = 100_000.0
    spot = 0.0
    perp = 0.0  # long - short, BTC
    by_bar: dict[int, list[dict]] = {}
    for t in res.trades:
        by_bar.setdefault(t["bar_index"], []).append(t)
    f_by_bar = {
        int(b): (float(r), float(mk))
        for b, r, mk in zip(m.funding_bar, m.funding_rate, m.funding_mark, strict=True)
    }
    nav = res.equity["nav_usdt"]
    absorbed = {e.bar - out.first: float(e.absorbed_usdt) for e in out.liquidations}
    for i in range(nav.shape[0]):
        for t in by_bar.get(i, []):
            sign = 1.0 if t["side"] == "BUY" else -1.0
            # a spot buy's fee is taken in BTC (fee_btc), every other fee in USDT
            cash -= sign * t["qty_btc"] * t["price"] + (t["fee_usdt"] if t["fee_btc"] == 0 else 0.0)
            if t["leg"] == "BTC_SPOT":
                spot += sign * t["qty_btc"] - t["fee_btc"]
            else:
                perp += sign * t["qty_btc"]
        cash += absorbed.get(i, 0.0)
        if i in f_by_bar:
            rate, mark = f_by_bar[i]
            mark = m.perp_close[i] if np.isnan(mark) else mark
            cash += -rate * mark * perp
        expect = cash + spot * m.spot_close[i] + perp * m.perp_close[i]
        assert abs(expect - nav[i]) <= 1e-9 * abs(nav[i]) + 1e-6, (i, expect, nav[i])


@settings(max_examples=60)
@given(scenarios())
def test_spot_balances_never_go_negative(case) -> None:
    m, p = case
    out = run(m, p)
    assert (out.columns["spot_usdt"] >= 0).all()
    assert (out.columns["spot_qty_btc"] >= 0).all()
    assert out.ledger.spot_usdt >= 0 and out.ledger.spot.qty_btc >= 0


@st.composite
def hedged_paths(draw):
    n = draw(st.integers(min_value=20, max_value=300))
    moves = draw(st.lists(st.integers(min_value=-150, max_value=150), min_size=n, max_size=n))
    price = 20_000.0 + np.cumsum(np.array(moves, dtype=np.float64))  # whole-USDT grid
    price = np.maximum(price, 1000.0)
    f_bars = draw(st.lists(st.integers(min_value=0, max_value=n - 1), max_size=n // 8, unique=True))
    rates = [draw(st.integers(min_value=-50, max_value=80)) / 100_000 for _ in f_bars]
    fees = draw(
        st.sampled_from([ZERO_FEES, FeeRates(D("0.001"), D("0.001"), D("0.0002"), D("0.0005"))])
    )
    return price, sorted(f_bars), [r for _, r in sorted(zip(f_bars, rates, strict=True))], fees


@settings(max_examples=80)
@given(hedged_paths())
def test_hedged_book_nav_moves_by_funding_minus_fees_up_to_the_rounding_residue(case) -> None:
    """Book rebalance, zero basis, every bar trading 1 % through the previous close (so PostOnly
    orders fill at the close they were priced at), zero slippage.

    Proven bound: fills of bar i happen at p_{i-1} (the limit), so with net_i the net delta held
    over bar i (after its fills), NAV_t = NAV_0 + funding - fees + sum_{i<=t} net_i (p_i - p_{i-1});
    the planner keeps |net_i| <= half a contract + one spot step (the BTC fee of a spot buy is
    hedged), hence |NAV_t - (NAV_0 + funding - fees)| <= sum_{i<=t} |net_i| |p_i - p_{i-1}|.
    With zero fees the spot quantities are whole contracts and the residue is exactly 0."""
    price, f_bars, rates, fees = case
    c = candles(price, wick=0.01)
    spec_s = SpotSpec(
        step_btc=D("0.0001"), min_qty_btc=D(0), tick_usdt=D(1), min_notional_usdt=D(0)
    )
    spec_p = PerpSpec(multiplier_btc=D("0.0001"), tick_usdt=D(1))
    m = market(c, c, funding_at(f_bars, rates))
    p = engine_params((0.5, 0.0, 0.5), fees=fees, slippage="0", spot_spec=spec_s, perp_spec=spec_p,
                      rebalance="book")  # fmt: skip
    out = run(m, p)
    led = out.ledger
    assert abs(led.spot.qty_btc - led.short.qty_btc) <= D("0.00005") + spec_s.step_btc
    assert all(t.liquidity == "maker" for t in led.trades)
    assert not out.liquidations
    nav = out.columns["nav_usdt"]
    cum_funding = np.cumsum(out.columns["funding_usdt"])
    cum_fees = np.cumsum(out.columns["fees_usdt"])
    expect = 100_000.0 + cum_funding - cum_fees
    net = out.columns["net_delta_btc"]
    residue = np.concatenate([[0.0], np.cumsum(np.abs(net[1:]) * np.abs(np.diff(price)))])
    assert (np.abs(nav - expect) <= residue + 1e-6 + 1e-9 * nav).all()
    if fees is ZERO_FEES:
        assert (net == 0).all()
        np.testing.assert_allclose(nav, expect, rtol=1e-12, atol=1e-6)
    assert abs(float(led.funding_usdt) - float(cum_funding[-1])) <= 1e-9 * (
        1 + abs(float(cum_funding[-1]))
    )


@given(
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=10**7),
    st.sampled_from([Leg.BTC_SPOT, Leg.BTC_PERP_LONG, Leg.BTC_PERP_SHORT]),
    st.integers(min_value=0, max_value=50),
)
def test_round_trip_at_one_price_loses_exactly_the_fees(
    qty_units, price_cents, leg, fee_bp
) -> None:
    qty = D(qty_units) / 10_000
    price = D(price_cents) / 100
    rate = D(fee_bp) / 10_000
    led = Ledger(qty * price * 2 + 1, D("0.0001"))
    nav0 = led.spot_usdt
    opening, closing = {
        Leg.BTC_SPOT: (Action.BUY, Action.SELL),
        Leg.BTC_PERP_LONG: (Action.OPEN_LONG, Action.CLOSE_LONG),
        Leg.BTC_PERP_SHORT: (Action.OPEN_SHORT, Action.CLOSE_SHORT),
    }[leg]
    led.fill(0, 0, leg, opening, qty, price, rate, "taker")
    held = led.tracker(leg).qty_btc  # a spot buy's fee is taken in BTC: less is held
    assert held == (qty * (1 - rate) if leg is Leg.BTC_SPOT else qty)
    led.fill(1, 1, leg, closing, held, price, rate, "taker")
    nav1 = led.spot_usdt + led.futures_usdt + led.spot.qty_btc * price + led.perp_unrealized(price)
    assert nav1 == nav0 - led.fees_usdt
    assert led.fees_usdt == (qty + held) * price * rate


@settings(max_examples=60)
@given(scenarios())
def test_each_row_shows_the_wallets_after_the_transfers_it_records(case) -> None:
    """Row convention: ``futures_usdt`` of a row minus the row before it is the row's
    ``transfer_usdt`` plus the bar's perp cash flows (realised PnL less fees, funding, a negative
    balance the insurance fund absorbed) -- so a transfer shows in the wallets of the very row
    that records it, and so do the margin ratio and the liquidation distance built from them."""
    m, p = case
    out = run(m, p)
    c = out.columns
    flows = np.zeros(len(c["nav_usdt"]))
    for t in out.ledger.trades:
        if t.leg != "BTC_SPOT":
            flows[t.bar - out.first] += float(t.realized_pnl_usdt - t.fee_usdt)
    for e in out.liquidations:
        flows[e.bar - out.first] += float(e.absorbed_usdt)
    flows += c["funding_usdt"]
    prev = np.concatenate([[0.0], c["futures_usdt"][:-1]])
    change = c["futures_usdt"] - prev
    scale = 1e-9 * (1 + np.abs(c["nav_usdt"]))
    assert np.all(np.abs(change - c["transfer_usdt"] - flows) <= scale)
