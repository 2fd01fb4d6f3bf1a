"""Position holding: one tracker per leg keeps side, size, entry price, entry time and id.

Fills are signed quantities in BTC (+ buys, - sells). A fill in the direction of the position (or
into a flat leg) accumulates, and the entry price becomes the quantity-weighted average. A fill
against the position reduces it and realises PnL on the reduced quantity:

    pnl = (exit_price - entry_price) * qty_btc * direction      (direction +1 long, -1 short)

A fill larger than the position closes it and opens the remainder on the other side (a flip) at
the fill price, with a new position id and entry time. There is no leverage factor: size is a
quantity, so leverage only sets the margin a position uses, never its PnL.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from btcn.core.money import ZERO


@dataclass(frozen=True, slots=True)
class FillEffect:
    position_id: int
    realized_pnl_usdt: Decimal
    closed_qty_btc: Decimal
    opened_qty_btc: Decimal
    duration_s: float | None  # time the reduced position had been open (reductions only)
    flipped: bool


@dataclass(frozen=True, slots=True)
class LegFill:
    """One leg after one fill: the position arithmetic every book in btcn uses."""

    qty_btc: Decimal
    entry_price: Decimal
    direction: int  # +1 long, -1 short, 0 flat
    realized_pnl_usdt: Decimal
    closed_qty_btc: Decimal
    opened_qty_btc: Decimal  # added to the side, or the flip's new side
    flipped: bool


def leg_fill(qty_btc: Decimal, entry_price: Decimal, direction: int, signed_qty_btc: Decimal,
             price: Decimal) -> LegFill:  # fmt: skip
    """A fill of ``signed_qty_btc`` at ``price`` on a leg holding ``qty_btc`` at ``entry_price``
    (module docstring: average entry on adds, PnL realised on reductions, a flip opens the rest
    at the fill price)."""
    if signed_qty_btc == 0:
        raise ValueError("a fill needs a non-zero quantity")
    if price <= 0:
        raise ValueError("a fill needs a positive price")
    sign = 1 if signed_qty_btc > 0 else -1
    qty = abs(signed_qty_btc)
    if direction == 0:
        return LegFill(qty, price, sign, ZERO, ZERO, qty, False)
    if direction == sign:
        new_qty = qty_btc + qty
        entry = (entry_price * qty_btc + price * qty) / new_qty
        return LegFill(new_qty, entry, sign, ZERO, ZERO, qty, False)
    closed = min(qty, qty_btc)
    pnl = (price - entry_price) * closed * direction
    left = qty_btc - closed
    remainder = qty - closed
    if left > 0:
        return LegFill(left, entry_price, direction, pnl, closed, ZERO, False)
    if remainder > 0:
        return LegFill(remainder, price, sign, pnl, closed, remainder, True)
    return LegFill(ZERO, ZERO, 0, pnl, closed, ZERO, False)


class PositionTracker:
    """Mutable per-leg position; everything in Decimal (it is the ledger)."""

    __slots__ = (
        "asset",
        "direction",
        "entry_price",
        "entry_ts_ms",
        "leg",
        "position_id",
        "qty_btc",
        "realized_pnl_usdt",
    )

    def __init__(self, leg: str, asset: str = "BTC") -> None:
        self.leg = leg
        self.asset = asset
        self.direction = 0
        self.qty_btc = ZERO
        self.entry_price = ZERO
        self.entry_ts_ms: int | None = None
        self.position_id = 0
        self.realized_pnl_usdt = ZERO

    def __repr__(self) -> str:
        return (
            f"PositionTracker({self.leg}, dir={self.direction}, qty={self.qty_btc}, "
            f"entry={self.entry_price}, id={self.position_id})"
        )

    @property
    def side(self) -> str:
        return {1: "long", -1: "short", 0: "flat"}[self.direction]

    @property
    def signed_qty_btc(self) -> Decimal:
        return self.qty_btc * self.direction

    def seed(self, qty_btc: Decimal, entry_price: Decimal, ts_ms: int, direction: int = 1) -> None:
        """Start from an existing position (e.g. balances held before a run)."""
        if qty_btc < 0 or direction not in (1, -1):
            raise ValueError("seed needs qty >= 0 and direction +1 or -1")
        if qty_btc == 0:
            return
        self.position_id += 1
        self.direction = direction
        self.qty_btc = qty_btc
        self.entry_price = entry_price
        self.entry_ts_ms = ts_ms

    def unrealized_pnl(self, price: Decimal) -> Decimal:
        return (price - self.entry_price) * self.qty_btc * self.direction

    def apply(self, signed_qty_btc: Decimal, price: Decimal, ts_ms: int) -> FillEffect:
        """The fill's arithmetic is :func:`leg_fill`; the tracker adds ids and times."""
        return self.record(
            leg_fill(self.qty_btc, self.entry_price, self.direction, signed_qty_btc, price), ts_ms
        )

    def record(self, f: LegFill, ts_ms: int) -> FillEffect:
        """Take the leg's state from a computed :class:`LegFill`, with ids and times."""
        if f.closed_qty_btc == 0:  # an add (or an open from flat)
            if self.direction == 0:
                self.position_id += 1
                self.entry_ts_ms = ts_ms
            self.direction, self.qty_btc, self.entry_price = f.direction, f.qty_btc, f.entry_price
            return FillEffect(self.position_id, ZERO, ZERO, f.opened_qty_btc, None, False)
        self.realized_pnl_usdt += f.realized_pnl_usdt
        duration = None if self.entry_ts_ms is None else (ts_ms - self.entry_ts_ms) / 1000.0
        closed_id = self.position_id
        self.direction, self.qty_btc, self.entry_price = f.direction, f.qty_btc, f.entry_price
        if f.direction == 0:
            self.entry_ts_ms = None
        elif f.flipped:
            self.position_id += 1
            self.entry_ts_ms = ts_ms
        return FillEffect(closed_id, f.realized_pnl_usdt, f.closed_qty_btc, f.opened_qty_btc,
                          duration, f.flipped)  # fmt: skip
