"""Invariants of the decision core (issue 2, "Done when")."""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from btcn.contracts.enums import Leg, Side, Signal
from btcn.core.book import Book, Quotes
from btcn.core.gating import blocking_rule
from btcn.core.money import is_step_multiple
from btcn.core.planner import value_book
from tests.planner_support import LOOSE, PERP, SPOT, apply_at_valuation, params, run, sig

D = Decimal


@st.composite
def books(draw):
    price = D(draw(st.integers(min_value=5_000, max_value=200_000)))
    perp = price * (1 + D(draw(st.integers(min_value=-50, max_value=50))) / 10_000)
    nav = D(draw(st.integers(min_value=20_000, max_value=5_000_000)))
    w_spot = D(draw(st.integers(min_value=0, max_value=90))) / 100
    w_long = D(draw(st.integers(min_value=0, max_value=60))) / 100
    w_short = D(draw(st.integers(min_value=0, max_value=90))) / 100
    spot_btc = (w_spot * nav / price).quantize(D("0.000001"))
    long_c = (w_long * nav / perp / PERP.multiplier_btc).to_integral_value()
    short_c = (w_short * nav / perp / PERP.multiplier_btc).to_integral_value()
    cash = nav - spot_btc * price
    spot_share = D(draw(st.integers(min_value=0, max_value=100))) / 100
    spot_usdt = max(cash * spot_share, D(0))
    entry_long = perp * (1 + D(draw(st.integers(min_value=-500, max_value=500))) / 10_000)
    entry_short = perp * (1 + D(draw(st.integers(min_value=-500, max_value=500))) / 10_000)
    book = Book(
        spot_usdt=spot_usdt,
        spot_btc=spot_btc,
        futures_usdt=cash - spot_usdt,
        long_contracts=long_c,
        long_entry_usdt=entry_long if long_c else D(0),
        short_contracts=short_c,
        short_entry_usdt=entry_short if short_c else D(0),
    )
    quotes = Quotes(p_ref=price, spot=price, perp_mark=perp)
    targets = draw(
        st.tuples(st.integers(0, 60), st.integers(0, 30), st.integers(0, 80)).filter(
            lambda t: t[0] + t[1] <= 100
        )
    )
    floor = draw(st.sampled_from([0.002, 0.005, 0.01]))
    atr = draw(st.one_of(st.just(math.nan), st.floats(min_value=0, max_value=float(price) * 0.1)))
    return book, quotes, tuple(t / 100 for t in targets), floor, atr


signals = st.sampled_from([Signal.BUY, Signal.SELL, Signal.HOLD, Signal.NONE])


@given(books())
def test_ungated_plan_applied_at_plan_prices_brings_legs_within_thr(case) -> None:
    book, quotes, targets, floor, atr = case
    p = params(**LOOSE, targets=targets, threshold_floor=floor, apply_signal_logic=False)
    d = run(book, quotes, p, atr=atr)
    assume(d.nav_usdt > 0)
    after = apply_at_valuation(book, quotes, d)
    val = value_book(after, quotes, PERP.multiplier_btc, targets)
    assert abs(val.nav_usdt - d.nav_usdt) <= D("1e-9") * d.nav_usdt  # no fees: NAV unchanged
    exempt = {x.leg for x in d.dropped} | {o.leg for o in d.orders if "capped" in o.reason}
    step_weight = {
        Leg.BTC_SPOT: float(SPOT.step_btc * quotes.spot) / float(val.nav_usdt),
        Leg.BTC_PERP_LONG: float(PERP.multiplier_btc * quotes.perp_mark) / float(val.nav_usdt),
        Leg.BTC_PERP_SHORT: float(PERP.multiplier_btc * quotes.perp_mark) / float(val.nav_usdt),
    }
    for leg in val.legs:
        if leg.leg in exempt:
            continue
        # Quantities round toward zero, so a traded leg may stop up to one venue step short.
        assert abs(leg.drift) <= max(d.threshold.thr, step_weight[leg.leg]) + 1e-9, (leg, d.orders)


@given(books(), signals)
def test_gating_partitions_the_ungated_orders(case, signal) -> None:
    book, quotes, targets, floor, atr = case
    common = dict(**LOOSE, targets=targets, threshold_floor=floor)
    gated = run(book, quotes, params(**common), atr=atr, signal=sig(signal))
    ungated = run(
        book, quotes, params(**common, apply_signal_logic=False), atr=atr, signal=sig(signal)
    )
    for o in gated.orders:
        assert blocking_rule(signal, o.leg, o.side) is None
    for b in gated.blocked:
        assert blocking_rule(signal, b.leg, b.side) == b.rule and b.signal is signal
    key = lambda x: (x.leg, x.action, x.qty_btc)  # noqa: E731
    assert sorted(map(key, gated.orders + gated.blocked)) == sorted(map(key, ungated.orders))
    assert not ungated.blocked


@given(books(), signals)
def test_quantities_are_step_multiples_and_spot_never_overdraws(case, signal) -> None:
    book, quotes, targets, floor, atr = case
    p = params(**LOOSE, targets=targets, threshold_floor=floor)
    d = run(book, quotes, p, atr=atr, signal=sig(signal))
    for o in d.orders:
        assert o.qty_venue > 0
        if o.leg is Leg.BTC_SPOT:
            assert is_step_multiple(o.qty_venue, SPOT.step_btc)
            assert o.qty_venue >= SPOT.min_qty_btc and o.notional_usdt >= SPOT.min_notional_usdt
            if o.side is Side.SELL:
                assert o.qty_btc <= book.spot_btc
            else:
                worst = o.qty_btc * o.limit_price_usdt * (1 + p.spot_taker_fee + p.slippage)
                assert worst <= book.spot_usdt
        else:
            assert is_step_multiple(o.qty_venue, PERP.step_contracts)
            assert o.qty_btc == o.qty_venue * PERP.multiplier_btc
            held = book.long_contracts if o.leg is Leg.BTC_PERP_LONG else book.short_contracts
            if o.action.value.startswith("CLOSE"):
                assert o.qty_venue <= held


@given(books(), st.integers(min_value=0, max_value=3_599_999))
def test_no_orders_within_the_cooldown(case, since) -> None:
    book, quotes, targets, _floor, atr = case
    now = 50_000_000
    d = run(book, quotes, params(**LOOSE, targets=targets, cooldown_ms=3_600_000), atr=atr,
            now=now, last=now - since)  # fmt: skip
    assert not d.orders and not d.blocked
    assert d.status in ("cooldown", "safe_mode")
