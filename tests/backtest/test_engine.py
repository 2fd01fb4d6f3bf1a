from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from btcn.backtest.fills import post_only_fills, taker_price
from btcn.backtest.market import restrict
from btcn.contracts.enums import Signal
from btcn.core.treasury import TreasuryParams
from btcn.data.candles import Candles
from btcn.data.signals import Signals
from btcn.errors import InvalidInputError
from tests.backtest.support import (
    BAR,
    T0,
    ZERO_FEES,
    candles,
    engine_params,
    funding_at,
    market,
    random_walk,
    run,
)

D = Decimal


def test_fill_model_primitives() -> None:
    assert post_only_fills(True, 100.0, 99.9, 101.0)
    assert not post_only_fills(True, 100.0, 100.0, 101.0)  # touching is not trading through
    assert post_only_fills(False, 100.0, 99.0, 100.1)
    assert not post_only_fills(False, 100.0, 99.0, 100.0)
    assert taker_price(True, D(100), D("0.01")) == D(101)
    assert taker_price(False, D(100), D("0.01")) == D(99)


def test_orders_fill_on_the_next_bar_maker_or_taker() -> None:
    close = np.full(40, 50_000.0)
    close[10:] = 49_000.0  # a drop makes spot and short drift
    c = candles(close, wick=0.0)  # no wicks: a PostOnly order never trades through
    out = run(market(c), engine_params())
    first = out.ledger.trades[:2]
    assert {t.liquidity for t in first} == {"taker"}
    assert all(
        t.bar == 2 for t in first
    )  # decided at bar 0's close, not through on bar 1, open of 2
    wick = candles(close, wick=0.001)
    out = run(market(wick), engine_params())
    assert {t.liquidity for t in out.ledger.trades[:2]} == {"maker"}
    assert all(t.bar == 1 for t in out.ledger.trades[:2])
    assert out.ledger.trades[0].price == D("50000.0")  # at the limit price (the close, on tick)


def test_funding_sign_longs_pay_shorts() -> None:
    close = np.full(200, 50_000.0)
    f = funding_at([100], [0.001])
    short = run(market(candles(close), funding=f), engine_params((0.0, 0.0, 0.5), fees=ZERO_FEES))
    long = run(market(candles(close), funding=f), engine_params((0.0, 0.5, 0.0), fees=ZERO_FEES))
    qty_s = float(short.ledger.short.qty_btc)
    assert float(short.ledger.funding_usdt) == pytest.approx(0.001 * qty_s * 50_000)
    assert float(long.ledger.funding_usdt) == pytest.approx(
        -0.001 * float(long.ledger.long.qty_btc) * 50_000
    )
    assert short.columns["funding_usdt"][100] > 0 and short.columns[
        "funding_usdt"
    ].sum() == pytest.approx(float(short.ledger.funding_usdt))


def test_funding_mark_price_from_the_file_is_used() -> None:
    close = np.full(50, 50_000.0)
    f = funding_at([20], [0.001])
    f.mark_price[0] = 60_000.0
    out = run(market(candles(close), funding=f), engine_params((0.0, 0.0, 0.5), fees=ZERO_FEES))
    assert float(out.ledger.funding_usdt) == pytest.approx(
        0.001 * float(out.ledger.short.qty_btc) * 60_000
    )


def test_liquidation_is_recorded_and_closes_the_perps() -> None:
    close = np.concatenate([np.full(30, 50_000.0), np.full(30, 56_000.0)])  # +12 % jump
    thin = TreasuryParams(leverage=D(50), margin_buffer=D(0), transfer_band=D(0),
                          min_liquidation_distance=D("0.01"), k=D("0.0045"))  # fmt: skip
    out = run(
        market(candles(close)),
        engine_params((0.0, 0.0, 0.9), leverage="50", cooldown_ms=10**12, treasury=thin),
    )
    assert out.liquidations, "a 50x short must be liquidated by a 12 % jump"
    ev = out.liquidations[0]
    assert ev.equity_usdt < ev.maintenance_usdt
    assert out.ledger.short.qty_btc == 0
    assert any(t.liquidity == "liquidation" for t in out.ledger.trades)
    assert out.ledger.futures_usdt >= 0


def test_the_liquidation_guard_keeps_the_same_short_alive() -> None:
    """The same 50x short and +12 % jump, with the default guard (30 % distance): the treasury
    funds the futures wallet before the short opens, and nothing is liquidated."""
    close = np.concatenate([np.full(30, 50_000.0), np.full(30, 56_000.0)])
    out = run(market(candles(close)), engine_params((0.0, 0.0, 0.9), leverage="50",
                                                     cooldown_ms=10**12))  # fmt: skip
    assert out.ledger.short.qty_btc > 0 and not out.liquidations
    assert out.transfers >= 1
    assert np.nanmin(out.columns["liq_distance"][1:]) > 0.12


def test_no_perp_trades_at_spot_price_and_says_so() -> None:
    m = market(candles(random_walk(100, 1)))
    assert any("basis 0" in w for w in m.warnings)
    assert np.array_equal(m.perp_close, m.spot_close)
    assert any("funding" in w for w in m.warnings)


def test_perp_misalignment_is_an_error_and_extra_bars_are_trimmed() -> None:
    spot = candles(random_walk(50, 1))
    longer = candles(random_walk(60, 2), t0=T0 - 5 * BAR)
    m = market(spot, longer)
    assert any("trimmed" in w for w in m.warnings) and len(m.perp_close) == 50
    holey = candles(random_walk(50, 3))
    keep = np.ones(50, dtype=bool)
    keep[20] = False
    holey = Candles(holey.open_ms[keep], holey.open[keep], holey.high[keep], holey.low[keep],
                    holey.close[keep], holey.volume[keep], BAR, "x", ("x",))  # fmt: skip
    with pytest.raises(InvalidInputError, match="has no perp bar"):
        market(spot, holey)
    with pytest.raises(InvalidInputError, match="perp candles are 60s bars"):
        market(spot, candles(random_walk(50, 1), bar=60_000))


def test_gap_holds_positions_restarts_atr_and_cancels_orders_across_it() -> None:
    a = candles(random_walk(400, 5, vol=0.004))
    b = candles(random_walk(400, 6, vol=0.004, p0=float(a.close[-1]) * 1.05), t0=T0 + 1000 * BAR)
    joined = Candles(np.concatenate([a.open_ms, b.open_ms]), np.concatenate([a.open, b.open]),
                     np.concatenate([a.high, b.high]), np.concatenate([a.low, b.low]),
                     np.concatenate([a.close, b.close]), np.concatenate([a.volume, b.volume]), BAR, "g", ("g",))  # fmt: skip
    m = market(joined, atr_window_ms=12 * BAR, periods=3)
    assert m.atr_used[399] == 3 and m.atr_used[400] == 0 and np.isnan(m.atr[400])  # restarted
    assert not m.contiguous_next[399]
    out = run(m, engine_params())
    assert (
        out.columns["spot_qty_btc"][399] > 0
        and out.columns["spot_qty_btc"][400] == out.columns["spot_qty_btc"][399]
    )
    assert all(t.bar != 400 or t.liquidity == "maker" for t in out.ledger.trades)


def test_start_and_end_restrict_trading_but_atr_warms_up_before() -> None:
    m = market(candles(random_walk(600, 7)), atr_window_ms=12 * BAR, periods=3)
    first, stop = restrict(m, T0 + 100 * BAR, T0 + 500 * BAR)
    assert (first, stop) == (100, 500)
    out = run(m, engine_params(), first=first, stop=stop)
    assert out.columns["nav_usdt"].shape[0] == 400
    assert all(100 <= t.bar < 500 for t in out.ledger.trades)
    with pytest.raises(InvalidInputError, match="fewer than two bars"):
        restrict(m, T0 + 10_000 * BAR, None)


def test_no_decision_on_the_last_bar() -> None:
    close = np.full(10, 50_000.0)
    out = run(market(candles(close)), engine_params(), first=8)
    # decided at bar 8 (fills at 9); nothing is decided at bar 9, the last one
    assert out.decisions == 1


def test_signals_gate_the_backtest_and_blocked_orders_are_logged() -> None:
    close = 50_000.0 * np.exp(np.linspace(0, 0.1, 600))
    sig = Signals((T0,), (Signal.BUY,), "s", "s")
    out = run(market(candles(close), signals=sig), engine_params(signal_max_age_ms=10**12))
    assert out.blocked and {b.rule for b in out.blocked} == {"BUY_FORBIDS_SELL"}
    assert not any(t.action == "SELL" for t in out.ledger.trades)
    # with the default 24 h maximum age the signal goes stale and sells resume after a day
    aged = run(market(candles(close), signals=sig), engine_params())
    sells = [t.ts_ms for t in aged.ledger.trades if t.action == "SELL"]
    assert sells and min(sells) > T0 + 86_400_000
    assert max(b.ts_ms for b in aged.blocked) <= T0 + 86_400_000
    off = run(market(candles(close), signals=sig), engine_params(apply_signal_logic=False))
    assert any(t.action == "SELL" for t in off.ledger.trades) and not off.blocked


def test_cooldown_spaces_rebalances() -> None:
    close = random_walk(3000, 11, vol=0.006)
    out = run(market(candles(close)), engine_params(cooldown_ms=12 * BAR))
    bars = sorted({t.bar for t in out.ledger.trades if t.liquidity != "liquidation"})
    decisions = [b - 1 for b in bars]
    gaps = np.diff(sorted(set(decisions)))
    assert gaps.size and (gaps >= 12).all()


def test_a_signal_acts_only_from_the_first_bar_after_it() -> None:
    """No look-ahead: a signal stamped inside bar k gates decisions from bar k's close on, whose
    orders fill on bar k+1 (the first bar that opens after the signal); never earlier."""
    close = 50_000.0 * np.exp(np.linspace(0, 0.1, 300))  # rising: spot wants to SELL
    k = 150
    stamp = T0 + k * BAR + 1  # 1 ms after bar k opened
    sig = Signals((stamp,), (Signal.BUY,), "s", "s")
    out = run(market(candles(close), signals=sig), engine_params(signal_max_age_ms=10**12))
    sells = [t for t in out.ledger.trades if t.action == "SELL"]
    assert (
        sells and max(t.ts_ms for t in sells) < stamp + BAR
    )  # last sell fills no later than bar k
    assert all(b.ts_ms >= stamp for b in out.blocked)  # nothing blocked before the signal existed
    assert (
        min(b.ts_ms for b in out.blocked) >= T0 + (k + 1) * BAR
    )  # decisions at/after bar k's close
    free = run(market(candles(close)), engine_params(signal_max_age_ms=10**12))
    assert any(
        t.action == "SELL" and t.ts_ms >= stamp + BAR for t in free.ledger.trades
    )  # gate mattered


@pytest.mark.parametrize("complete", [True, False])
def test_the_engine_sweeps_only_after_a_plan_that_filled_in_full(complete: bool) -> None:
    """The after-orders policy (core/treasury.after_orders_allowed), as paper and live apply it:
    the sweep out of futures waits for a plan whose orders all filled in full; a top-up into
    futures is made either way. Amounts are core/treasury.applied_amount."""
    from btcn.backtest.engine import Engine
    from btcn.core.treasury import Transfer

    m = market(candles(np.full(20, 50_000.0)))
    eng = Engine(m, engine_params(), 0, len(m))
    eng.ledger.transfer_to_futures(D("1000.555"))
    eng.after = [Transfer("futures", "spot", D(100), "sweep", "after_orders", ""),
                 Transfer("spot", "futures", D("0.5"), "margin", "after_orders", ""),
                 Transfer("spot", "futures", D("3.999"), "margin", "after_orders", "")]  # fmt: skip
    eng.plan_complete = complete
    eng._plan_ended(5)
    swept = D(100) if complete else D(0)
    # 0.5 is under the dust level; 3.999 moves 3.99 (floored to the cent)
    assert eng.ledger.futures_usdt == D("1000.555") - swept + D("3.99")
    assert eng.cols["transfer_usdt"][5] == float(-swept + D("3.99"))
    assert eng.after == [] and eng.plan_complete
