"""Liquidation price and distance of the perp book (Gate's rule, exchange-api.md section 4.6).

Gate liquidates on the mark price when a position's margin falls to its maintenance margin plus
the taker fee of the liquidation order. With ``k = maintenance rate + taker fee`` its help centre
gives, for isolated margin, ``m * n`` BTC and ``margin`` USDT::

    long : liq = (entry - margin / (m * n)) / (1 - k)
    short: liq = (entry + margin / (m * n)) / (1 + k)

In cross margin (btcn's default, and what the backtester models) both hedge-mode sides share the
futures wallet ``W`` (excluding unrealised PnL). Futures equity minus the liquidation requirement
is linear in the mark ``p``::

    f(p) = W + (p - e_L) * L + (e_S - p) * S - k * (L + S) * p = A + B * p
    A = W - e_L * L + e_S * S,    B = (L - S) - k * (L + S)

The book is liquidated once ``f(p) < 0``: at ``p* = -A / B`` above the mark when ``B < 0`` (the
short dominates: a rally liquidates) and below it when ``B > 0``. With one side only, ``p*`` is
exactly the isolated formula with ``margin = W``. The distance is how far the mark may move
against the book, as a fraction of the mark: ``p* / mark - 1`` for a rally, ``1 - p* / mark`` for
a fall; negative means the book is already past its liquidation price.

The float functions accept NumPy arrays (elementwise arithmetic only), so the backtester computes a
whole stretch of bars with the very same formulas the planner uses on one snapshot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import numpy as np

from btcn.contracts.enums import MarginMode
from btcn.core.book import Book
from btcn.core.money import ZERO

PerpSide = Literal["long", "short"]

F = Any  # float or NumPy array


@dataclass(frozen=True, slots=True)
class LiquidationEstimate:
    """One perp side (or the whole cross-margin book, ``side='book'``)."""

    side: PerpSide
    margin_mode: MarginMode
    size_contracts: Decimal
    mark_usdt: Decimal
    liq_price_usdt: Decimal | None  # None: flat, or no positive price liquidates it
    distance: float | None  # fraction of the mark the price may move against the side


def linear_terms(
    wallet: F, long_btc: F, long_entry: F, short_btc: F, short_entry: F, k: F
) -> tuple[F, F]:
    """``(A, B)`` of ``f(p) = A + B * p`` (module docstring): the one place the liquidation terms
    are written. Plain arithmetic, so it serves Decimals (the plan), floats and arrays (the
    backtester) alike. ``A`` is also the futures equity's intercept: ``E(p) = A + (L - S) p``."""
    a = wallet - long_entry * long_btc + short_entry * short_btc
    b = (long_btc - short_btc) - k * (long_btc + short_btc)
    return a, b


def requirement(long_btc: F, short_btc: F, k: F, price: F) -> F:
    """The liquidation requirement at ``price``: maintenance margin plus the liquidation order's
    taker fee, ``k * (L + S) * p``."""
    return k * (long_btc + short_btc) * price


def adverse_factor(b: F, distance: F) -> F:
    """The mark a move of ``distance`` against the book reaches, per unit of mark: a rally
    (``1 + distance``) when the short dominates (``B < 0``), else a fall (``1 - distance``, at
    least 0). Scalars only (Decimal or float)."""
    return 1 + distance if b < 0 else max(1 - distance, 0)


def worst_price(b: F, low: F, high: F) -> F:
    """The price of a bar where ``f`` is lowest: its low when ``B > 0``, its high otherwise."""
    return low if b > 0 else high


def breached(wallet: F, long_btc: F, long_entry: F, short_btc: F, short_entry: F, k: float,
             low: F, high: F) -> F:  # fmt: skip
    """Whether the perp book breaches the liquidation requirement at a bar's worst price (cross
    margin on the futures wallet). ``f`` is linear in the price, so the worst price of a bar is its
    low or its high. Works on arrays of bars and on scalars alike."""
    exposure = long_btc + short_btc
    a, b = linear_terms(wallet, long_btc, long_entry, short_btc, short_entry, k)
    if isinstance(b, float):
        # one book over many bars: the worst price is the low when b > 0 and the high when b < 0
        # (float rounding is monotonic, so the other test is implied and can be skipped)
        if not exposure > 0:
            return np.zeros(low.shape, dtype=bool) if isinstance(low, np.ndarray) else False
        if b > 0:
            return a + b * low < 0
        if b < 0:
            return a + b * high < 0
    return ((a + b * low < 0) | (a + b * high < 0)) & (exposure > 0)


def cross_liq_price_f(
    wallet: F, long_btc: F, long_entry: F, short_btc: F, short_entry: F, k: float
) -> F:
    """Cross-margin liquidation price as float/array; NaN when flat or not liquidatable by price
    (``p* <= 0``); 0 is never returned."""
    a, b = linear_terms(wallet, long_btc, long_entry, short_btc, short_entry, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(b != 0, -a / np.where(b != 0, b, 1.0), np.nan)
        p = np.where((long_btc + short_btc) > 0, p, np.nan)
        # p <= 0: with B < 0 the book is already below water at any price (liquidated now);
        # with B > 0 no positive price liquidates it
        p = np.where(p > 0, p, np.where((b < 0) & (a < 0), 0.0, np.nan))
    return p if isinstance(p, np.ndarray) and p.ndim else float(p)


def distance_f(liq: F, mark: F, b: F) -> F:
    """Distance to liquidation as a fraction of the mark (NaN when there is no liquidation
    price); a rally liquidates when ``b < 0``, a fall when ``b > 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(b < 0, liq / mark - 1.0, 1.0 - liq / mark)
    return d if isinstance(d, np.ndarray) and d.ndim else float(d)


def _dist(liq: Decimal, mark: Decimal, rally: bool) -> float:
    return float(liq / mark - 1) if rally else float(1 - liq / mark)


def cross_estimate(
    book: Book, mark: Decimal, multiplier_btc: Decimal, k: Decimal
) -> tuple[Decimal | None, float | None, bool]:
    """``(liq price, distance, rally_liquidates)`` of the cross-margin book, in Decimal."""
    long_btc = book.long_contracts * multiplier_btc
    short_btc = book.short_contracts * multiplier_btc
    if long_btc + short_btc == 0:
        return None, None, False
    a, b = linear_terms(book.futures_usdt, long_btc, book.long_entry_usdt, short_btc,
                        book.short_entry_usdt, k)  # fmt: skip
    if b == 0:
        return None, None, False
    rally = b < 0
    p = -a / b
    if p <= 0:
        if rally and a < 0:
            return ZERO, -1.0, True  # already past liquidation
        return None, None, rally
    return p, _dist(p, mark, rally), rally


def isolated_price(
    side: PerpSide, entry: Decimal, margin: Decimal, qty_btc: Decimal, k: Decimal
) -> Decimal | None:
    """Gate's isolated-margin formula for one side (None when flat or not liquidatable)."""
    if qty_btc <= 0:
        return None
    if side == "long":
        p = (entry - margin / qty_btc) / (1 - k)
    else:
        p = (entry + margin / qty_btc) / (1 + k)
    return p if p > 0 else None


def estimates(
    book: Book,
    mark: Decimal,
    multiplier_btc: Decimal,
    k: Decimal,
    margin_mode: MarginMode,
    isolated_margins: tuple[Decimal | None, Decimal | None] = (None, None),
    leverage: Decimal = Decimal(3),
) -> tuple[LiquidationEstimate, LiquidationEstimate]:
    """Long and short side estimates. Cross: both sides carry the book's price. Isolated: each
    side's own margin (the venue's figure when known, else its initial margin
    ``notional / leverage``)."""
    out = []
    cross = cross_estimate(book, mark, multiplier_btc, k) if margin_mode == "cross" else None
    for i, side in enumerate(("long", "short")):
        contracts = book.long_contracts if side == "long" else book.short_contracts
        entry = book.long_entry_usdt if side == "long" else book.short_entry_usdt
        qty = contracts * multiplier_btc
        if contracts <= 0:
            out.append(LiquidationEstimate(side, margin_mode, contracts, mark, None, None))
            continue
        if cross is not None:
            liq, dist, _ = cross
        else:
            margin = isolated_margins[i]
            if margin is None:
                margin = qty * entry / leverage
            liq = isolated_price(side, entry, margin, qty, k)
            dist = None if liq is None else _dist(liq, mark, side == "short")
        out.append(LiquidationEstimate(side, margin_mode, contracts, mark, liq, dist))
    return out[0], out[1]


def wallet_for_distance(
    book: Book, mark: Decimal, multiplier_btc: Decimal, k: Decimal, distance: Decimal
) -> Decimal:
    """The futures wallet (excluding unrealised PnL) the cross-margin book needs so that a move of
    ``distance`` against it, from ``mark``, does not liquidate it: ``f(p') >= 0`` at
    ``p' = mark * (1 + distance)`` (short-dominated) or ``mark * (1 - distance)``."""
    long_btc = book.long_contracts * multiplier_btc
    short_btc = book.short_contracts * multiplier_btc
    if long_btc + short_btc == 0:
        return ZERO
    # A + B * worst >= 0 with A = W - e_L L + e_S S: W = W - A - B * worst
    a, b = linear_terms(ZERO, long_btc, book.long_entry_usdt, short_btc, book.short_entry_usdt, k)
    return -a - b * (mark * adverse_factor(b, distance))


def is_finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
