"""Liquidation estimates of a snapshot's perp book: the one translation snapshot + settings ->
:func:`btcn.core.liquidation.estimates` -> ``LiquidationInfo`` used by ``weights``, ``plan``,
the live history and ``monitor push``.

* ``k`` = the contract's maintenance rate (``perp_spec.maintenance_rate``) + ``[fees] perp_taker``
  (Gate charges the liquidation order's taker fee on top of the maintenance margin).
* The margin mode is ``[risk] margin_mode``. Cross margin uses the futures wallet excluding
  unrealised PnL (``balances.futures_usdt``) for the whole book, so both sides carry the book's
  price. Isolated margin uses each position's ``margin_usdt`` from the snapshot when the venue
  gave it, else its initial margin ``entry * size / leverage`` (the position's own leverage when
  the venue gave a positive one, else ``[risk] leverage``).
* Prices are rounded to the contract's tick **toward the mark** (the conservative side: a
  short's liquidation price is shown lower, a long's higher); ``distance`` is computed from the
  unrounded price. Gate's own ``liq_price_usdt`` is put beside btcn's as
  ``venue_liq_price_usdt``; Gate's ``0`` (no liquidation price) is shown as unknown.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from btcn.contracts import Snapshot
from btcn.contracts.enums import Leg
from btcn.contracts.liquidation import LiquidationInfo
from btcn.contracts.snapshot import PerpPosition
from btcn.core.book import Book
from btcn.core.liquidation import estimates
from btcn.core.money import dec
from btcn.core.unified import account_margin
from btcn.core.unified_guard import unified_book
from btcn.runtime.settings import Settings
from btcn.stages.common import book_from_snapshot, margin_guard


def liquidation_k(snap: Snapshot, settings: Settings) -> Decimal:
    """Gate's ``k``: maintenance rate of the contract plus the perp taker fee."""
    return snap.perp_spec.maintenance_rate + dec(settings.fees.perp_taker)


def _isolated_margin(
    pos: PerpPosition, fallback_leverage: Decimal, mult: Decimal
) -> Decimal | None:
    if pos.size_contracts <= 0:
        return None
    if pos.margin_usdt is not None:
        return pos.margin_usdt
    if pos.entry_price_usdt is None:
        return None
    lev = pos.leverage if pos.leverage is not None and pos.leverage > 0 else fallback_leverage
    return pos.size_contracts * mult * pos.entry_price_usdt / lev


def _toward_mark(price: Decimal | None, mark: Decimal, tick: Decimal) -> Decimal | None:
    if price is None or tick <= 0:
        return price
    mode = ROUND_FLOOR if price > mark else ROUND_CEILING
    return (price / tick).to_integral_value(rounding=mode) * tick


def _venue_price(pos: PerpPosition) -> Decimal | None:
    if pos.size_contracts <= 0 or pos.liq_price_usdt is None or pos.liq_price_usdt <= 0:
        return None
    return pos.liq_price_usdt


def liquidation_infos(
    snap: Snapshot, settings: Settings, book: Book | None = None
) -> list[LiquidationInfo]:
    """``[BTC_PERP_LONG, BTC_PERP_SHORT]`` liquidation estimates of the snapshot's book at its
    mark price (module docstring). ``book`` replaces the snapshot's own book (for example the
    book a plan leaves after its transfers and orders); Gate's figures are then left out, since
    they describe the snapshot's positions, not the planned ones."""
    own = book is None
    book = book_from_snapshot(snap) if book is None else book
    if settings.account.mode == "unified":
        return unified_infos(snap, settings, book)
    mark = snap.prices.perp_mark_usdt
    spec = snap.perp_spec
    leverage = dec(settings.risk.leverage)
    pos = snap.positions
    if own:
        margins = (
            _isolated_margin(pos.BTC_PERP_LONG, leverage, spec.multiplier_btc),
            _isolated_margin(pos.BTC_PERP_SHORT, leverage, spec.multiplier_btc),
        )
    else:
        margins = (None, None)  # the planned book: initial margin at [risk] leverage
    long_est, short_est = estimates(
        book, mark, spec.multiplier_btc, liquidation_k(snap, settings), settings.risk.margin_mode,
        margins, leverage,
    )  # fmt: skip
    out = []
    for leg, est, p in (
        (Leg.BTC_PERP_LONG, long_est, pos.BTC_PERP_LONG),
        (Leg.BTC_PERP_SHORT, short_est, pos.BTC_PERP_SHORT),
    ):
        out.append(
            LiquidationInfo(
                leg=leg,
                margin_mode=est.margin_mode,
                size_contracts=est.size_contracts,
                mark_usdt=est.mark_usdt,
                liq_price_usdt=_toward_mark(est.liq_price_usdt, mark, spec.tick_usdt),
                distance=est.distance,
                venue_liq_price_usdt=_venue_price(p) if own else None,
            )
        )
    return out


def unified_infos(snap: Snapshot, settings: Settings, book: Book) -> list[LiquidationInfo]:
    """A unified account is liquidated as a whole (core.unified): each open side carries the
    account liquidation price nearer the mark and its distance (``margin_mode`` "cross": the
    account is one cross-margin pool). Gate gives no per-position figure there."""
    mark = snap.prices.perp_mark_usdt
    spec = snap.perp_spec
    guard = margin_guard(settings, spec.maintenance_rate, snap)
    m = account_margin(unified_book(book, spec.multiplier_btc), mark, guard.rules)
    down, up = m.liq_price_down_usdt, m.liq_price_up_usdt
    nearer = up if down is None or (up is not None and up / mark - 1 <= 1 - down / mark) else down
    out = []
    for leg, size in ((Leg.BTC_PERP_LONG, book.long_contracts),
                      (Leg.BTC_PERP_SHORT, book.short_contracts)):  # fmt: skip
        open_ = size > 0
        out.append(LiquidationInfo(
            leg=leg, margin_mode="cross", size_contracts=size, mark_usdt=mark,
            liq_price_usdt=_toward_mark(nearer, mark, spec.tick_usdt) if open_ else None,
            distance=m.distance if open_ else None,
        ))  # fmt: skip
    return out


def book_liquidation(infos: list[LiquidationInfo]) -> LiquidationInfo | None:
    """The side that stands for the whole book in one-number views (equity rows, digest, alerts,
    push): the open side nearest to liquidation; on a tie (always in cross margin, where both
    sides carry the book's price) the larger side, the short when equal. None when no open side
    has a liquidation price."""
    open_sides = [i for i in infos if i.size_contracts > 0 and _finite(i.distance)]
    if not open_sides:
        return None
    return min(
        open_sides,
        key=lambda i: (i.distance, -i.size_contracts, 0 if i.leg == Leg.BTC_PERP_SHORT else 1),
    )


def carrier_venue_price(infos: list[LiquidationInfo]) -> Decimal | None:
    """Gate's liquidation price of the side carrying the book (largest open side, the short on a
    tie), for when btcn has no estimate of its own."""
    open_sides = [i for i in infos if i.size_contracts > 0]
    if not open_sides:
        return None
    best = max(open_sides, key=lambda i: (i.size_contracts, i.leg == Leg.BTC_PERP_SHORT))
    return best.venue_liq_price_usdt


def book_figures(infos: list[LiquidationInfo]) -> tuple[float, float, float]:
    """``(liq_price_usdt, liq_distance, venue_liq_price_usdt)`` of the book as floats, NaN when
    unknown: the columns of ``equity.parquet`` and the fields of ``monitor push``."""
    side = book_liquidation(infos)
    if side is None:
        venue = carrier_venue_price(infos)
        return math.nan, math.nan, math.nan if venue is None else float(venue)
    venue = side.venue_liq_price_usdt
    return (
        math.nan if side.liq_price_usdt is None else float(side.liq_price_usdt),
        float(side.distance) if side.distance is not None else math.nan,
        math.nan if venue is None else float(venue),
    )


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
