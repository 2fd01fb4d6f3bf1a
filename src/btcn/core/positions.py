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
        if signed_qty_btc == 0:
            raise ValueError("a fill needs a non-zero quantity")
        if price <= 0:
            raise ValueError("a fill needs a positive price")
        sign = 1 if signed_qty_btc > 0 else -1
        qty = abs(signed_qty_btc)
        if self.direction in (0, sign):
            if self.direction == 0:
                self.position_id += 1
                self.direction = sign
                self.entry_ts_ms = ts_ms
                self.entry_price = price
                self.qty_btc = qty
            else:
                new_qty = self.qty_btc + qty
                self.entry_price = (self.entry_price * self.qty_btc + price * qty) / new_qty
                self.qty_btc = new_qty
            return FillEffect(self.position_id, ZERO, ZERO, qty, None, False)

        closed = min(qty, self.qty_btc)
        pnl = (price - self.entry_price) * closed * self.direction
        self.realized_pnl_usdt += pnl
        duration = None if self.entry_ts_ms is None else (ts_ms - self.entry_ts_ms) / 1000.0
        closed_id = self.position_id
        self.qty_btc -= closed
        remainder = qty - closed
        flipped = False
        if self.qty_btc == 0:
            self.direction = 0
            self.entry_price = ZERO
            self.entry_ts_ms = None
            if remainder > 0:
                flipped = True
                self.position_id += 1
                self.direction = sign
                self.qty_btc = remainder
                self.entry_price = price
                self.entry_ts_ms = ts_ms
        return FillEffect(closed_id, pnl, closed, remainder, duration, flipped)
