"""Invariants of the book-level rebalance, the treasury and the liquidation estimate (issue 10)."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from btcn.contracts import PerpSpec, SpotSpec
from btcn.contracts.enums import Action, Leg
from btcn.core.book import Book, Quotes
from btcn.core.liquidation import cross_estimate, estimates, isolated_price
from btcn.core.planner import PlannerParams, decide
from btcn.core.projection import net_delta_btc, project
from btcn.core.signals import NO_SIGNAL
from btcn.core.threshold import AtrReading
from btcn.core.treasury import (
    TreasuryParams,
    available_estimate,
    plan_transfers,
)

D = Decimal
NO_ATR = AtrReading(math.nan, 0)


@st.composite
def books(draw):
    price = D(draw(st.integers(min_value=5_000, max_value=200_000)))
    mark = price * (1 + D(draw(st.integers(min_value=-30, max_value=30))) / 10_000)
    spot_btc = D(draw(st.integers(min_value=0, max_value=3_000_000))) / 1_000_000
    short = D(draw(st.integers(min_value=0, max_value=30_000)))
    long_ = D(draw(st.integers(min_value=0, max_value=5_000)))
    entry = price * (1 + D(draw(st.integers(min_value=-2000, max_value=2000))) / 10_000)
    book = Book(
        spot_usdt=D(draw(st.integers(min_value=0, max_value=300_000))),
        spot_btc=spot_btc,
        futures_usdt=D(draw(st.integers(min_value=0, max_value=100_000))),
        long_contracts=long_, long_entry_usdt=entry if long_ else D(0),
        short_contracts=short, short_entry_usdt=entry if short else D(0),
    )  # fmt: skip
    targets = draw(st.sampled_from([(0.5, 0.0, 0.5), (0.4, 0.1, 0.5), (0.6, 0.0, 0.4),
                                    (0.3, 0.2, 0.2)]))  # fmt: skip
    spot_fee = D(draw(st.sampled_from([0, 1, 10]))) / 10_000
    mult = draw(st.sampled_from([D("0.0001"), D("0.001")]))
    return book, Quotes(price, price, mark), targets, spot_fee, mult


def _params(targets, spot_fee, **kw) -> PlannerParams:
    return PlannerParams(targets=targets, cooldown_ms=0, rebalance="book", max_net_delta=1e9,
                         max_order_notional_usdt=D(10) ** 12, spot_maker_fee=spot_fee,
                         spot_taker_fee=spot_fee, max_price_deviation=1.0, **kw)  # fmt: skip


def _decide(book, quotes, params, perp_spec):
    return decide(book, quotes, SpotSpec(min_notional_usdt=D(0), min_qty_btc=D(0)), perp_spec,
                  params, now_ms=1, atr=NO_ATR, signal=NO_SIGNAL, last_rebalance_ms=None,
                  data_as_of_ms=1)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(books(), st.booleans())
def test_an_ungated_book_plan_is_neutral_within_one_contract_and_one_step(case, treasury) -> None:
    """Applied at plan prices with the venue's fees (a spot buy's fee taken in BTC), a book plan
    leaves the net delta at the targets' net delta within one contract + one spot step, or says
    in ``dropped`` why it could not."""
    book, quotes, targets, spot_fee, mult = case
    tp = TreasuryParams(k=D("0.0045")) if treasury else None
    params = _params(targets, spot_fee, treasury=tp)
    spec = PerpSpec(multiplier_btc=mult)
    d = _decide(book, quotes, params, spec)
    if d.status in ("safe_mode", "cooldown") or d.trigger is None:
        return
    after = project(book, d.orders, mult, spot_fee=spot_fee, perp_fee=D(0))
    t = [D(x) for x in targets]
    nav = d.nav_usdt
    target_net = (t[0] + t[1] - t[2]) * nav / quotes.p_ref
    residue = abs(net_delta_btc(after, mult) - target_net)
    assert d.net_delta_after_btc == net_delta_btc(after, mult)
    if d.dropped:
        return  # a leg below the venue minimum or a spot buy that cannot be paid is reported
    assert residue <= mult + SpotSpec().step_btc, (residue, d.orders)


def per_leg_oracle(book: Book, q: Quotes, targets, spot_fee: Decimal, mult: Decimal,
                   thr: float = 0.005, slippage: Decimal = D("0.0002")):  # fmt: skip
    """btcn 0.1's per-leg rule, written from the manual alone (not from btcn.core): each leg whose
    ``|w - target| > thr`` is sized back to ``target * NAV / P`` on its own, rounded toward zero
    to the venue step (0.000001 BTC spot, 1 contract perp); a spot buy fits the spot USDT at the
    limit with the worst fee and the slippage, a spot sell the BTC held, a perp reduction the
    contracts held; a zero quantity is no order. Limits: the valuation price (no book here) to the
    0.1 tick, buys down, sells up. Returns ``{leg: (action, venue quantity)}``, or None for a
    book on a float knife-edge of the trigger (``|w - target|`` within 1e-9 of ``thr``)."""
    step, tick = D("0.000001"), D("0.1")
    floor = lambda x, s: (x / s).to_integral_value(rounding=ROUND_FLOOR) * s  # noqa: E731
    upnl = (q.perp_mark - book.long_entry_usdt) * book.long_contracts * mult + (
        book.short_entry_usdt - q.perp_mark) * book.short_contracts * mult  # fmt: skip
    nav = book.spot_usdt + book.spot_btc * q.spot + book.futures_usdt + upnl
    if nav <= 0:
        return {}
    legs = [(Leg.BTC_SPOT, book.spot_btc, q.spot),
            (Leg.BTC_PERP_LONG, book.long_contracts * mult, q.perp_mark),
            (Leg.BTC_PERP_SHORT, book.short_contracts * mult, q.perp_mark)]  # fmt: skip
    out = {}
    for (leg, held_btc, price), target in zip(legs, targets, strict=True):
        gap = abs(float(held_btc * price / nav) - target)
        if abs(gap - thr) < 1e-9:
            return None
        if gap <= thr:
            continue
        delta = D(repr(target)) * nav / price - held_btc
        up = delta > 0
        limit = (price / tick).to_integral_value(
            rounding=ROUND_FLOOR if up else ROUND_CEILING
        ) * tick
        if leg is Leg.BTC_SPOT:
            qty = floor(abs(delta), step)
            cap = book.spot_usdt / (limit * (1 + spot_fee + slippage)) if up else book.spot_btc
            qty = min(qty, floor(cap, step))
            action = Action.BUY if up else Action.SELL
        else:
            qty = floor(abs(delta) / mult, D(1))
            if not up:
                qty = min(
                    qty, book.long_contracts if leg is Leg.BTC_PERP_LONG else book.short_contracts
                )
            action = {(Leg.BTC_PERP_LONG, True): Action.OPEN_LONG, (Leg.BTC_PERP_LONG, False): Action.CLOSE_LONG,
                      (Leg.BTC_PERP_SHORT, True): Action.OPEN_SHORT,
                      (Leg.BTC_PERP_SHORT, False): Action.CLOSE_SHORT}[(leg, up)]  # fmt: skip
        if qty > 0:
            out[leg] = (action, qty)
    return out


@settings(max_examples=300, deadline=None)
@given(books())
def test_per_leg_orders_are_btcn_0_1_rule(case) -> None:
    """``per_leg`` places exactly the orders of the independent 0.1 oracle above, leg by leg."""
    book, quotes, targets, spot_fee, mult = case
    spec = PerpSpec(multiplier_btc=mult)
    want = per_leg_oracle(book, quotes, targets, spot_fee, mult)
    assume(want is not None)
    d = _decide(book, quotes, replace(_params(targets, spot_fee), rebalance="per_leg"), spec)
    assert {o.leg: (o.action, o.qty_venue) for o in d.orders} == want


def test_the_per_leg_oracle_on_a_hand_worked_book() -> None:
    """The oracle itself, on numbers worked by hand: NAV 100,000 at 50,000; spot 0.9 BTC (45 %),
    short 1.0 BTC (50 %), targets 50/0/50, thr 0.5 %: spot buys 0.1 BTC (to 1.0 BTC), the short
    is on target."""
    book = Book(spot_usdt=D(55_000), spot_btc=D("0.9"), futures_usdt=D(0), long_contracts=D(0),
                long_entry_usdt=D(0), short_contracts=D(10_000), short_entry_usdt=D(50_000))  # fmt: skip
    q = Quotes(D(50_000), D(50_000), D(50_000))
    assert per_leg_oracle(book, q, (0.5, 0.0, 0.5), D(0), D("0.0001")) == {
        Leg.BTC_SPOT: (Action.BUY, D("0.1"))
    }


@settings(max_examples=300, deadline=None)
@given(books(), st.integers(min_value=0, max_value=60_000))
def test_transfers_never_exceed_what_the_venue_allows_and_keep_nav(case, venue_avail) -> None:
    book, quotes, targets, spot_fee, mult = case
    book = replace(book, futures_available_usdt=D(venue_avail) if venue_avail % 2 else None)
    tp = TreasuryParams(k=D("0.0045"))
    params = _params(targets, spot_fee, treasury=tp)
    d = _decide(book, quotes, params, PerpSpec(multiplier_btc=mult))
    mark = quotes.perp_mark
    after = project(book, d.orders, mult, spot_fee=spot_fee, perp_fee=D("0.0005"))
    spot_before = book.spot_usdt
    fut_cash = (
        book.futures_available_usdt
        if book.futures_available_usdt is not None
        else available_estimate(book, mark, mult, tp.leverage)
    )
    moved_out_of_spot = D(0)
    for t in d.transfers:
        assert t.amount_usdt > 0
        if t.when == "before_orders":
            if t.from_wallet == "spot":
                moved_out_of_spot += t.amount_usdt
                assert moved_out_of_spot <= spot_before
            else:  # never unrealised profit, never beyond the venue's available
                assert t.amount_usdt <= fut_cash
        elif t.from_wallet == "futures":
            assert t.amount_usdt <= available_estimate(after, mark, mult, tp.leverage)
    # a transfer moves NAV between wallets and never changes it
    nav = book.spot_usdt + book.spot_btc * quotes.spot + book.futures_usdt
    for t in d.transfers:
        sign = 1 if t.from_wallet == "spot" else -1
        book = replace(book, spot_usdt=book.spot_usdt - sign * t.amount_usdt,
                       futures_usdt=book.futures_usdt + sign * t.amount_usdt)  # fmt: skip
    assert book.spot_usdt + book.spot_btc * quotes.spot + book.futures_usdt == nav


def test_a_transfer_only_plan_is_allowed_during_the_cooldown() -> None:
    """A short on a thin futures wallet: in the cooldown there are no orders, but the margin
    top-up is planned before anything else (trigger: liquidation)."""
    book = Book(spot_usdt=D(60_000), spot_btc=D(1), futures_usdt=D(2_000), short_contracts=D(10_000),
                short_entry_usdt=D(50_000))  # fmt: skip
    params = replace(_params((0.5, 0.0, 0.5), D("0.001"), treasury=TreasuryParams(k=D("0.0045"))),
                     cooldown_ms=3_600_000)  # fmt: skip
    q = Quotes(D(50_000), D(50_000), D(50_000))
    d = decide(book, q, SpotSpec(), PerpSpec(), params, now_ms=10, atr=NO_ATR, signal=NO_SIGNAL,
               last_rebalance_ms=5, data_as_of_ms=10)  # fmt: skip
    assert d.status == "cooldown" and not d.orders
    assert [(t.from_wallet, t.reason, t.when) for t in d.transfers] == [
        ("spot", "liquidation_guard", "before_orders")
    ] or [(t.from_wallet, t.reason, t.when) for t in d.transfers] == [
        ("spot", "margin", "before_orders")
    ]
    assert d.trigger == "liquidation"
    # after the top-up the book is at least the guard's distance from liquidation
    moved = d.transfers[0].amount_usdt
    topped = replace(book, spot_usdt=book.spot_usdt - moved, futures_usdt=book.futures_usdt + moved)
    _, dist, _ = cross_estimate(topped, D(50_000), D("0.0001"), D("0.0045"))
    assert dist is not None and dist >= 0.30 - 1e-9
    assert (
        plan_transfers(topped, topped, D(50_000), D("0.0001"), TreasuryParams(k=D("0.0045"))) == ()
    )


def test_the_hedge_is_sized_to_the_btc_held_after_the_spot_fee() -> None:
    book = Book(spot_usdt=D(100_000), spot_btc=D(0), futures_usdt=D(0))
    q = Quotes(D(50_000), D(50_000), D(50_000))
    d = _decide(
        book, q, _params((0.5, 0.0, 0.5), D("0.001"), treasury=TreasuryParams()), PerpSpec()
    )
    buy = next(o for o in d.orders if o.leg is Leg.BTC_SPOT)
    short = next(o for o in d.orders if o.leg is Leg.BTC_PERP_SHORT)
    assert buy.qty_btc == D("1.000000") and short.qty_btc == D("0.9990")  # 1 BTC minus 0.1 %
    assert d.transfers[0].when == "before_orders" and d.transfers[0].to_wallet == "futures"


def test_a_starved_spot_buy_realises_locked_short_profit() -> None:
    """Long fall: the short sits on profit it cannot transfer, spot USDT is gone. The plan closes
    part of the short (realise) and re-opens it in the same plan; the hedge stays on the spot."""
    book = Book(spot_usdt=D(10), spot_btc=D("0.5"), futures_usdt=D(3_000), short_contracts=D(5_000),
                short_entry_usdt=D(80_000))  # fmt: skip
    q = Quotes(D(40_000), D(40_000), D(40_000))
    d = _decide(
        book, q, _params((0.5, 0.0, 0.5), D("0.001"), treasury=TreasuryParams()), PerpSpec()
    )
    realise = [o for o in d.orders if o.purpose == "realise"]
    assert len(realise) == 1 and realise[0].action is Action.CLOSE_SHORT
    reopen = next(o for o in d.orders if o.leg is Leg.BTC_PERP_SHORT and o.purpose == "rebalance")
    assert reopen.action is Action.OPEN_SHORT and reopen.qty_venue >= realise[0].qty_venue
    assert abs(d.net_delta_after_btc) <= D("0.0001") + D("0.000001")
    after = project(book, d.orders, D("0.0001"), spot_fee=D("0.001"), perp_fee=D("0.0005"))
    assert after.futures_usdt > book.futures_usdt  # the profit became wallet cash


def test_liquidation_price_matches_gates_formula_on_worked_examples() -> None:
    # isolated short: entry 100,000, 1,000 contracts x 0.0001 = 0.1 BTC, margin 3,333.33,
    # mmr 0.4 % + taker 0.05 %: liq = (100000 + 3333.33 / 0.1) / 1.0045 = 132,752.9...
    liq = isolated_price("short", D(100_000), D("3333.33"), D("0.1"), D("0.0045"))
    assert liq is not None and abs(liq - D("132735.98805")) < D("0.001")
    assert abs(liq - (D(100_000) + D("33333.3")) / D("1.0045")) < D("0.0001")
    # isolated long: liq = (100000 - 3333.33 / 0.1) / (1 - 0.0045) = 66,968.0...
    liq_l = isolated_price("long", D(100_000), D("3333.33"), D("0.1"), D("0.0045"))
    assert liq_l is not None and abs(liq_l - (D(100_000) - D("33333.3")) / D("0.9955")) < D(
        "0.0001"
    )
    # cross margin with one side equals the isolated formula with margin = wallet
    book = Book(spot_usdt=D(0), spot_btc=D(0), futures_usdt=D("3333.33"), short_contracts=D(1000),
                short_entry_usdt=D(100_000))  # fmt: skip
    p, dist, rally = cross_estimate(book, D(100_000), D("0.0001"), D("0.0045"))
    assert rally and p == liq and abs(dist - float(liq / D(100_000) - 1)) < 1e-12
    # more wallet moves the short's liquidation price up; a long dominated book liquidates on a fall
    richer = replace(book, futures_usdt=D(5000))
    assert cross_estimate(richer, D(100_000), D("0.0001"), D("0.0045"))[0] > p
    longb = Book(spot_usdt=D(0), spot_btc=D(0), futures_usdt=D(3000), long_contracts=D(1000),
                 long_entry_usdt=D(100_000))  # fmt: skip
    pl, dl, rally_l = cross_estimate(longb, D(100_000), D("0.0001"), D("0.0045"))
    assert not rally_l and pl < D(100_000) and dl > 0
    le, se = estimates(book, D(100_000), D("0.0001"), D("0.0045"), "isolated", (None, D("3333.33")))
    assert le.liq_price_usdt is None and se.liq_price_usdt == liq
