"""NAV, leg weights and net delta.

``w = |size| * P_contract / NAV`` per leg. The float functions here accept Python floats or NumPy
arrays (only plain arithmetic, ``abs`` and comparisons are used), so the planner's scalar trigger
and the backtester's whole-window trigger run the very same arithmetic and agree bit for bit.
The Decimal variant values the book for sizing and for the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from btcn.core.book import Book, Quotes

# Float-or-array: every function below does elementwise arithmetic only.
F = Any


@dataclass(frozen=True, slots=True)
class FloatBook:
    """The book as floats, converted once from Decimal so every caller converts identically."""

    spot_usdt: float
    spot_btc: float
    futures_usdt: float
    long_btc: float
    long_entry_usdt: float
    short_btc: float
    short_entry_usdt: float

    @classmethod
    def of(cls, book: Book, multiplier_btc: Decimal) -> FloatBook:
        return cls(
            spot_usdt=float(book.spot_usdt),
            spot_btc=float(book.spot_btc),
            futures_usdt=float(book.futures_usdt),
            long_btc=float(book.long_contracts * multiplier_btc),
            long_entry_usdt=float(book.long_entry_usdt),
            short_btc=float(book.short_contracts * multiplier_btc),
            short_entry_usdt=float(book.short_entry_usdt),
        )


def unrealized_pnl(fb: FloatBook, p_perp: F) -> F:
    """Unrealised PnL of both perp sides: long gains when the mark rises, short when it falls."""
    return (p_perp - fb.long_entry_usdt) * fb.long_btc + (
        fb.short_entry_usdt - p_perp
    ) * fb.short_btc


def nav(fb: FloatBook, p_spot: F, p_perp: F) -> F:
    """NAV = spot USDT + spot BTC * price + futures wallet + unrealised perp PnL."""
    return _nav(fb, p_spot, unrealized_pnl(fb, p_perp))


def _nav(fb: FloatBook, p_spot: F, upnl: F) -> F:
    return fb.spot_usdt + fb.spot_btc * p_spot + fb.futures_usdt + upnl


def weights(fb: FloatBook, p_spot: F, p_perp: F) -> tuple[F, F, F, F]:
    """``(nav, w_spot, w_long, w_short)``; weights are meaningless when nav <= 0 (guardrail)."""
    return weights_at(fb, p_spot, p_perp, nav(fb, p_spot, p_perp))


def weights_at(fb: FloatBook, p_spot: F, p_perp: F, value: F) -> tuple[F, F, F, F]:
    """:func:`weights` given the NAV ``value`` already computed at these prices."""
    return (
        value,
        fb.spot_btc * p_spot / value,
        fb.long_btc * p_perp / value,
        fb.short_btc * p_perp / value,
    )


def weights_and_upnl(fb: FloatBook, p_spot: F, p_perp: F) -> tuple[F, F, F, F, F]:
    """:func:`weights` plus the unrealised PnL it was computed from (one pass over the prices)."""
    upnl = unrealized_pnl(fb, p_perp)
    value = _nav(fb, p_spot, upnl)
    return (
        value,
        fb.spot_btc * p_spot / value,
        fb.long_btc * p_perp / value,
        fb.short_btc * p_perp / value,
        upnl,
    )


def beyond(weight: F, target: float, thr: F) -> F:
    """The per-leg trigger: ``|w - target| > thr``."""
    return abs(weight - target) > thr


def net_delta_btc(fb: FloatBook) -> float:
    """Net BTC delta = spot BTC + perp long BTC - perp short BTC."""
    return fb.spot_btc + fb.long_btc - fb.short_btc


def nav_decimal(book: Book, quotes: Quotes, multiplier_btc: Decimal) -> Decimal:
    long_btc = book.long_contracts * multiplier_btc
    short_btc = book.short_contracts * multiplier_btc
    upnl = (quotes.perp_mark - book.long_entry_usdt) * long_btc + (
        book.short_entry_usdt - quotes.perp_mark
    ) * short_btc
    return book.spot_usdt + book.spot_btc * quotes.spot + book.futures_usdt + upnl
