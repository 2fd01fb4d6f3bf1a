"""The book after a list of orders, as if each filled in full at its limit price.

Used by the planner (net delta after, the hedge sized to the BTC that will be held) and by the
treasury (margin of the planned perp book). Fees follow the venue: a spot buy's fee is taken in BTC
(Gate charges the asset received), a spot sell's in USDT, a perp fill's in the futures wallet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

from btcn.contracts.enums import Action, Leg
from btcn.core.book import Book
from btcn.core.legs import BUYS
from btcn.core.money import ZERO
from btcn.core.positions import LegFill, leg_fill


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
    return qty_btc - qty_btc * fee_rate


@dataclass(frozen=True, slots=True)
class BookFill:
    book: Book
    fee_usdt: Decimal  # the fee's value (a spot buy's is taken in BTC: ``fee_btc``)
    fee_btc: Decimal
    leg: LegFill | None  # the perp leg's arithmetic (None for spot)


def fill_book(book: Book, leg: Leg, buy: bool, qty_btc: Decimal, price: Decimal,
              fee_rate: Decimal, mult: Decimal) -> BookFill:  # fmt: skip
    """The book after one fill: THE fill arithmetic of plan (:func:`project`), paper
    (:func:`btcn.exchange.paper.apply_fill`) and backtest (:meth:`btcn.backtest.ledger.Ledger.fill`).

    Fee ``qty * price * rate``. Spot buy: USDT pays ``qty * price``, BTC credited
    ``qty - qty * rate`` (Gate keeps the fee in the asset received). Spot sell: USDT credited
    ``qty * price - fee``. Perp: the position per :func:`btcn.core.positions.leg_fill` (a perp fill
    never flips a hedge-mode side), the wallet ``+ (realised PnL - fee)``. The venue's
    ``available`` figure is stale after a fill (None)."""
    fee = qty_btc * price * fee_rate
    if leg is Leg.BTC_SPOT:
        if buy:
            fee_btc = qty_btc * fee_rate
            out = Book(book.spot_usdt - qty_btc * price,
                       book.spot_btc + spot_btc_received(qty_btc, fee_rate),
                       book.futures_usdt, book.long_contracts, book.long_entry_usdt,
                       book.short_contracts, book.short_entry_usdt)  # fmt: skip
            return BookFill(out, fee, fee_btc, None)
        out = Book(book.spot_usdt + (qty_btc * price - fee), book.spot_btc - qty_btc,
                   book.futures_usdt, book.long_contracts, book.long_entry_usdt,
                   book.short_contracts, book.short_entry_usdt)  # fmt: skip
        return BookFill(out, fee, ZERO, None)
    long_leg = leg is Leg.BTC_PERP_LONG
    contracts = book.long_contracts if long_leg else book.short_contracts
    entry = book.long_entry_usdt if long_leg else book.short_entry_usdt
    side = 1 if long_leg else -1
    f = leg_fill(contracts * mult, entry, side if contracts > 0 else 0,
                 qty_btc if buy else -qty_btc, price)  # fmt: skip
    if f.flipped:
        raise ValueError(f"{'buy' if buy else 'sell'} of {qty_btc} BTC exceeds the {leg} position")
    wallet = book.futures_usdt + (f.realized_pnl_usdt - fee)
    if long_leg:
        out = Book(book.spot_usdt, book.spot_btc, wallet, f.qty_btc / mult, f.entry_price,
                   book.short_contracts, book.short_entry_usdt)  # fmt: skip
    else:
        out = Book(book.spot_usdt, book.spot_btc, wallet, book.long_contracts,
                   book.long_entry_usdt, f.qty_btc / mult, f.entry_price)  # fmt: skip
    return BookFill(out, fee, ZERO, f)


def one_balance(book: Book) -> Book:
    """A unified account's book: one USDT balance, so what a fill or funding put in the futures
    wallet (perp PnL, fees, funding) is settled into it. The backtest ledger and the paper venue
    hold a unified book this way; a classic book is never passed here."""
    if book.futures_usdt == 0:
        return book
    return replace(book, spot_usdt=book.spot_usdt + book.futures_usdt, futures_usdt=ZERO,
                   futures_available_usdt=None)  # fmt: skip


def project(
    book: Book,
    orders: tuple[OrderLike, ...] | list[OrderLike],
    mult: Decimal,
    *,
    spot_fee: Decimal,
    perp_fee: Decimal,
) -> Book:
    """``book`` after every order filled in full at its limit price (closes first, so a realise
    pair on the short leg never flips it), each fill by :func:`fill_book`."""
    if not orders:
        return book
    ordered = sorted(orders, key=lambda o: o.action not in (Action.CLOSE_LONG, Action.CLOSE_SHORT))
    for o in ordered:
        spot = o.leg is Leg.BTC_SPOT
        book = fill_book(book, o.leg, o.action in BUYS, o.qty_btc, o.limit_price_usdt,
                         spot_fee if spot else perp_fee, mult).book  # fmt: skip
    return book


def net_delta_btc(book: Book, mult: Decimal) -> Decimal:
    return book.spot_btc + (book.long_contracts - book.short_contracts) * mult
