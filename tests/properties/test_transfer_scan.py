"""The engine's float treasury scan against the exact rule (issue 16).

:class:`btcn.core.treasury.TransferScan` decides, in floats and for a whole stretch of marks, whether
a plan with no orders would move USDT. It must agree with :func:`plan_transfers` -- and with what
:func:`btcn.core.planner.decide` plans in either rebalance mode when it sends no order -- on every
book, except within a micro-USDT of a level, where float rounding may decide either way.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from btcn.contracts import PerpSpec, SpotSpec
from btcn.core.book import Book, Quotes
from btcn.core.planner import PlannerParams, decide
from btcn.core.signals import NO_SIGNAL
from btcn.core.threshold import AtrReading
from btcn.core.treasury import TransferScan, TreasuryFloats, TreasuryParams, plan_transfers
from btcn.core.valuation import FloatBook

D = Decimal
MULT = D("0.0001")
NEAR = D("0.000001")  # a level closer than this to the book may go either way in floats


def cents(lo: int, hi: int) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=lo, max_value=hi).map(lambda c: D(c) / 100)


@st.composite
def cases(draw):
    mark = D(draw(st.integers(min_value=1_000_00, max_value=200_000_00))) / 100
    side = st.one_of(st.just(0), st.integers(min_value=1, max_value=2_000_000))
    long_c, short_c = D(draw(side)), D(draw(side))

    def entry(c: Decimal) -> Decimal:
        if c == 0:
            return D(0)
        return (
            mark * (1 + D(draw(st.integers(min_value=-4000, max_value=4000))) / 10_000)
        ).quantize(D("0.01"))

    long_e, short_e = entry(long_c), entry(short_c)
    notional = (long_c + short_c) * MULT * mark
    # the wallet from nothing to twice the notional, or a few USDT (a flat book after a liquidation)
    scale = int(notional * 2 * 100) + 1
    wallet = draw(st.one_of(cents(0, 5_000), cents(0, scale)))
    spot_usdt = draw(st.one_of(cents(0, 300), cents(0, 100_000_000)))
    book = Book(spot_usdt, D(draw(st.integers(min_value=0, max_value=10**6))) / 10**4, wallet,
                long_c, long_e, short_c, short_e)  # fmt: skip
    tp = TreasuryParams(
        leverage=D(draw(st.sampled_from([3, 10, 50]))),
        transfer_band=draw(st.sampled_from([D("0.25"), D("0.1"), D(0)])),
        margin_buffer=draw(st.sampled_from([D("0.5"), D("0.2")])),
        min_liquidation_distance=draw(st.sampled_from([D("0.3"), D("0.05"), D("1.2")])),
        dust_usdt=draw(st.sampled_from([D(1), D("0.5"), D(0), D("12.345"), D("0.29")])),
    )
    return book, mark, tp


def exact(book: Book, mark: Decimal, tp: TreasuryParams) -> bool:
    return bool(plan_transfers(book, book, mark, MULT, tp))


def scan(book: Book, mark: Decimal, tp: TreasuryParams) -> bool:
    fb = FloatBook.of(book, MULT)
    s = TransferScan.of(fb.futures_usdt, fb.spot_usdt, fb.long_btc, fb.long_entry_usdt,
                        fb.short_btc, fb.short_entry_usdt, TreasuryFloats.of(tp))  # fmt: skip
    verdict = s.due(float(mark))
    # the stretch filter never hides a bar where the scan is due
    if verdict:
        assert s.maybe(float(mark), float(mark))
    return verdict


def near_a_level(book: Book, mark: Decimal, tp: TreasuryParams) -> bool:
    """The exact verdict changes when a wallet moves by a micro-USDT."""
    here = exact(book, mark, tp)
    moved = [
        replace(book, futures_usdt=book.futures_usdt + NEAR),
        replace(book, futures_usdt=book.futures_usdt - NEAR),
        replace(book, spot_usdt=book.spot_usdt + NEAR),
        replace(book, spot_usdt=book.spot_usdt - NEAR),
    ]
    return any(exact(b, mark, tp) != here for b in moved)


FLAT_AFTER_LIQUIDATION = (
    Book(D(0), D("0.5"), D("14.43")),
    D(60_000),
    TreasuryParams(leverage=D(50)),
)


@settings(max_examples=1500, deadline=None)
@given(cases())
@example(FLAT_AFTER_LIQUIDATION)
def test_scan_agrees_with_plan_transfers(case) -> None:
    book, mark, tp = case
    want = exact(book, mark, tp)
    got = scan(book, mark, tp)
    assert got == want or near_a_level(book, mark, tp), (want, got)


def test_a_flat_book_holding_futures_cash_is_due_for_a_sweep() -> None:
    """The case TransferLines missed: a flat perp book after a liquidation keeps 14.43 USDT in
    futures; plan_transfers sweeps it and the scan must say so on every mark."""
    book, mark, tp = FLAT_AFTER_LIQUIDATION
    (t,) = plan_transfers(book, book, mark, MULT, tp)
    assert (t.reason, t.from_wallet, t.amount_usdt) == ("sweep", "futures", D("14.43"))
    fb = FloatBook.of(book, MULT)
    s = TransferScan.of(fb.futures_usdt, fb.spot_usdt, 0.0, 0.0, 0.0, 0.0, TreasuryFloats.of(tp))
    assert s.due_array(np.array([1_000.0, 60_000.0, 1e6])).all()
    assert s.maybe(1_000.0, 1e6)
    dust = replace(book, futures_usdt=D("0.99"))
    assert not plan_transfers(dust, dust, mark, MULT, tp)
    assert not scan(dust, mark, tp)


@pytest.mark.parametrize("cents_", [29, 57, 100, 1443, 123456789])
def test_whole_cents_are_not_floored_a_cent_lower(cents_) -> None:
    """``0.29 * 100 == 28.999999999999996`` in floats: a flat wallet of exactly the dust level is
    swept by the exact rule, so the scan must say so too."""
    amount = D(cents_) / 100
    book = Book(D(0), D(0), amount)
    tp = TreasuryParams(dust_usdt=amount)
    assert exact(book, D(50_000), tp) and scan(book, D(50_000), tp)
    below = replace(book, futures_usdt=amount - D("0.01"))
    assert not exact(below, D(50_000), tp) and not scan(below, D(50_000), tp)


@pytest.mark.parametrize("mode", ["book", "per_leg"])
@settings(max_examples=300, deadline=None)
@given(case=cases(), cooling=st.booleans())
def test_scan_agrees_with_the_planner_when_it_sends_no_order(mode, case, cooling) -> None:
    """What the engine's scan predicts is what the planner plans: in either rebalance mode, a
    decision without orders carries transfers exactly when the scan says one is due."""
    book, mark, tp = case
    params = PlannerParams(targets=(0.5, 0.0, 0.5), rebalance=mode, treasury=tp, cooldown_ms=3_600_000,
                           max_net_delta=1e9, max_price_deviation=1.0,
                           max_order_notional_usdt=D(10) ** 15)  # fmt: skip
    now = 10_000_000
    d = decide(book, Quotes(mark, mark, mark), SpotSpec(), PerpSpec(), params, now_ms=now,
               atr=AtrReading(math.nan, 0), signal=NO_SIGNAL,
               last_rebalance_ms=now - 1 if cooling else None, data_as_of_ms=now)  # fmt: skip
    assert d.rebalance == mode
    if d.orders or d.status == "safe_mode":
        return  # transfers for orders, or none at all: not the scan's question
    got = scan(book, mark, tp)
    assert bool(d.transfers) == got or near_a_level(book, mark, tp), (d.transfers, got)


@settings(max_examples=300, deadline=None)
@given(cases(), st.integers(min_value=-3000, max_value=3000))
def test_one_liquidation_rule_for_plan_and_backtest(case, move_bp) -> None:
    """The backtester's breach test (floats, one bar or many) and the plan's liquidation price
    (Decimal) come from the same linear terms: a bar whose low and high are the mark moved by
    ``move_bp`` breaches exactly when that price is past the plan's liquidation price."""
    from btcn.core.liquidation import breached, cross_estimate

    book, mark, tp = case
    fb = FloatBook.of(book, MULT)
    k = float(tp.k)
    price = float(mark) * (1 + move_bp / 10_000)
    args = (fb.futures_usdt, fb.long_btc, fb.long_entry_usdt, fb.short_btc, fb.short_entry_usdt, k)
    one = bool(breached(*args, price, price))
    many = breached(*args, np.array([price, price]), np.array([price, price]))
    assert bool(many[0]) == one == bool(many[1])
    liq, _, rally = cross_estimate(book, mark, MULT, tp.k)
    if liq is None or abs(float(liq) - price) <= 1e-9 * price:
        return  # flat, not liquidatable by price, or on the liquidation price itself
    past = price > float(liq) if rally else price < float(liq)
    assert one == past
