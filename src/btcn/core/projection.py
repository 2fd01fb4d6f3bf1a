"""The book after a list of orders, as if each filled in full at its limit price.

Used by the planner (net delta after, the hedge sized to the BTC that will be held) and by the
treasury (margin of the planned perp book). Fees follow the venue: a spot buy's fee is taken in BTC
(Gate charges the asset received), a spot sell's in USDT, a perp fill's in the futures wallet.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Protocol

from btcn.contracts.enums import Action, Leg
from btcn.core.book import Book
from btcn.core.legs import SIDE_OF
from btcn.core.money import ONE, ZERO
from btcn.core.positions import PositionTracker


class OrderLike(Protocol):
    @property
    def leg(self) -> Leg: ...
    @property
    def action(self) -> Action: ...
    @property
    def qty_btc(self) -> Decimal: ...
    @property
    def limit_price_usdt(self) -> Decimal: ...


def spot_btc_received(qty_btc: Decimal, fee_rate: Decimal) -> Decimal:
    """BTC credited by a spot buy of ``qty_btc``: Gate keeps its fee in the asset received."""
    return qty_btc * (ONE - fee_rate)


def apply_perp(
    book: Book, leg: Leg, buy: bool, qty_btc: Decimal, price: Decimal, mult: Decimal
) -> tuple[Book, Decimal]:
    """The book after one perp fill (no fee) and the PnL it realised."""
    long_leg = leg is Leg.BTC_PERP_LONG
    tracker = PositionTracker(leg.value)
    contracts = book.long_contracts if long_leg else book.short_contracts
    entry = book.long_entry_usdt if long_leg else book.short_entry_usdt
    tracker.seed(contracts * mult, entry, 0, 1 if long_leg else -1)
    effect = tracker.apply(qty_btc if buy else -qty_btc, price, 0)
    if effect.flipped:
        raise ValueError(f"{'buy' if buy else 'sell'} of {qty_btc} BTC exceeds the {leg} position")
    new_contracts = tracker.qty_btc / mult
    new_entry = tracker.entry_price if tracker.qty_btc > 0 else ZERO
    wallet = book.futures_usdt + effect.realized_pnl_usdt
    if long_leg:
        out = replace(book, long_contracts=new_contracts, long_entry_usdt=new_entry)
    else:
        out = replace(book, short_contracts=new_contracts, short_entry_usdt=new_entry)
    return replace(out, futures_usdt=wallet, futures_available_usdt=None), effect.realized_pnl_usdt


def project(
    book: Book,
    orders: tuple[OrderLike, ...] | list[OrderLike],
    mult: Decimal,
    *,
    spot_fee: Decimal,
    perp_fee: Decimal,
) -> Book:
    """``book`` after every order filled in full at its limit price (closes first, so a realise
    pair on the short leg never flips it). The perp arithmetic is the position tracker's
    (average entry on adds, PnL realised on reductions), written out: the planner calls this on
    every decision."""
    if not orders:
        return book
    spot_usdt, spot_btc, wallet = book.spot_usdt, book.spot_btc, book.futures_usdt
    legs = {
        Leg.BTC_PERP_LONG: [book.long_contracts * mult, book.long_entry_usdt, 1],
        Leg.BTC_PERP_SHORT: [book.short_contracts * mult, book.short_entry_usdt, -1],
    }
    ordered = sorted(orders, key=lambda o: o.action not in (Action.CLOSE_LONG, Action.CLOSE_SHORT))
    for o in ordered:
        buy = SIDE_OF[o.action].value == "BUY"
        q, px = o.qty_btc, o.limit_price_usdt
        if o.leg is Leg.BTC_SPOT:
            if buy:
                spot_usdt -= q * px
                spot_btc += spot_btc_received(q, spot_fee)
            else:
                spot_usdt += q * px * (ONE - spot_fee)
                spot_btc -= q
            continue
        pos = legs[o.leg]
        qty, entry, direction = pos
        if (1 if buy else -1) == direction:  # adds to the side
            new = qty + q
            pos[1] = px if qty == 0 else (entry * qty + px * q) / new
            pos[0] = new
        else:
            if q > qty:
                raise ValueError(f"{o.action} of {q} BTC exceeds the {o.leg} position")
            wallet += (px - entry) * q * direction
            pos[0] = qty - q
            if pos[0] == 0:
                pos[1] = ZERO
        wallet -= q * px * perp_fee
    (lq, le, _), (sq, se, _) = legs[Leg.BTC_PERP_LONG], legs[Leg.BTC_PERP_SHORT]
    return Book(spot_usdt, spot_btc, wallet, lq / mult, le, sq / mult, se)


def net_delta_btc(book: Book, mult: Decimal) -> Decimal:
    return book.spot_btc + (book.long_contracts - book.short_contracts) * mult
