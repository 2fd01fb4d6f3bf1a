"""One fill arithmetic (issue 16): plan (project), paper (apply_fill) and backtest (Ledger.fill)
move the book identically, fill after fill, and a fill changes NAV at its own price by -fee."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from btcn.backtest.ledger import Ledger
from btcn.contracts.enums import Action, Leg
from btcn.core.book import Book
from btcn.core.projection import project
from btcn.exchange.paper import PaperFill, apply_fill

D = Decimal
MULT = D("0.0001")
OPEN = {Leg.BTC_SPOT: Action.BUY, Leg.BTC_PERP_LONG: Action.OPEN_LONG,
        Leg.BTC_PERP_SHORT: Action.OPEN_SHORT}  # fmt: skip
CLOSE = {Leg.BTC_SPOT: Action.SELL, Leg.BTC_PERP_LONG: Action.CLOSE_LONG,
         Leg.BTC_PERP_SHORT: Action.CLOSE_SHORT}  # fmt: skip


@dataclass(frozen=True)
class Order:
    leg: Leg
    action: Action
    qty_btc: Decimal
    limit_price_usdt: Decimal


def held(book: Book, leg: Leg) -> Decimal:
    if leg is Leg.BTC_SPOT:
        return book.spot_btc
    return (book.long_contracts if leg is Leg.BTC_PERP_LONG else book.short_contracts) * MULT


def nav(book: Book, price: Decimal) -> Decimal:
    upnl = (price - book.long_entry_usdt) * book.long_contracts * MULT + (
        book.short_entry_usdt - price
    ) * book.short_contracts * MULT
    return book.spot_usdt + book.spot_btc * price + book.futures_usdt + upnl


# fills: (leg, close?, size in contracts of MULT, price in cents, spare)
STEPS = st.lists(
    st.tuples(
        st.sampled_from(list(OPEN)),
        st.booleans(),
        st.integers(1, 50_000),
        st.integers(1_000_000, 20_000_000),
        st.sampled_from([0, 2, 5, 10]),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(STEPS)
def test_plan_paper_and_backtest_fill_the_same_book(steps) -> None:
    spot_fee, perp_fee = D("0.001"), D("0.0005")
    led = Ledger(D(10) ** 9, MULT)
    paper = plan = led.book()
    for leg, close, units, cents, _ in steps:
        price = D(cents) / 100
        qty = D(units) * MULT
        if close:
            qty = min(qty, held(plan, leg))
            if qty <= 0:
                continue
        action = CLOSE[leg] if close else OPEN[leg]
        rate = spot_fee if leg is Leg.BTC_SPOT else perp_fee
        before = nav(plan, price)
        led.fill(0, 0, leg, action, qty, price, rate, "taker")
        fill = PaperFill(qty, qty, price, qty * price * rate, False)
        paper, _ = apply_fill(paper, leg, action, fill, MULT, rate)
        plan = project(plan, [Order(leg, action, qty, price)], MULT, spot_fee=spot_fee,
                       perp_fee=perp_fee)  # fmt: skip
        assert led.book() == paper == plan
        # at the fill's own price a fill costs its fee (a spot buy's fee is BTC), up to Decimal's
        # 28 digits in an average entry price
        assert abs(nav(plan, price) - (before - qty * price * rate)) <= D("1e-15") * before


@settings(max_examples=150, deadline=None)
@given(STEPS)
def test_unified_paper_and_backtest_hold_one_usdt_balance(steps) -> None:
    """On a unified account the paper venue and the backtest ledger settle every fill into one
    USDT balance, the same one, and it holds what the classic book's two wallets hold together."""
    spot_fee, perp_fee = D("0.001"), D("0.0005")
    led = Ledger(D(10) ** 9, MULT, unified=True)
    paper = classic = led.book()
    for leg, close, units, cents, _ in steps:
        price = D(cents) / 100
        qty = D(units) * MULT
        if close:
            qty = min(qty, held(classic, leg))
            if qty <= 0:
                continue
        action = CLOSE[leg] if close else OPEN[leg]
        rate = spot_fee if leg is Leg.BTC_SPOT else perp_fee
        led.fill(0, 0, leg, action, qty, price, rate, "taker")
        fill = PaperFill(qty, qty, price, qty * price * rate, False)
        paper, _ = apply_fill(paper, leg, action, fill, MULT, rate, unified=True)
        classic, _ = apply_fill(classic, leg, action, fill, MULT, rate)
        assert led.book() == paper
        assert paper.futures_usdt == 0
        # equal up to Decimal's 28 digits (the one balance rounds where two wallets did not)
        total = classic.spot_usdt + classic.futures_usdt
        assert abs(paper.spot_usdt - total) <= D("1e-15") * abs(total)
        assert (paper.spot_btc, paper.long_contracts, paper.short_contracts) == (
            classic.spot_btc, classic.long_contracts, classic.short_contracts)  # fmt: skip
