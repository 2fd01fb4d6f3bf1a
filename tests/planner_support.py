"""Shared helpers for planner tests: build inputs, apply a decision to a book."""

from __future__ import annotations

import math
from decimal import Decimal

from btcn.contracts import PerpSpec, SpotSpec
from btcn.contracts.enums import Leg, Signal
from btcn.core.book import Book, Quotes
from btcn.core.planner import Decision, PlannerParams, decide
from btcn.core.signals import NO_SIGNAL, SignalReading
from btcn.core.threshold import AtrReading
from btcn.exchange.paper import PaperFill, apply_fill

SPOT = SpotSpec()
PERP = PerpSpec()
LOOSE = dict(max_net_delta=1e9, max_order_notional_usdt=Decimal(10) ** 15, max_price_deviation=1.0)


def params(**kw: object) -> PlannerParams:
    """Parameters of the per-leg planner tests: btcn 0.1's per-leg rule and its 20 % net-delta
    guardrail, written out (the core's defaults are the settings': book mode, 5 %)."""
    base: dict[str, object] = dict(targets=(0.5, 0.0, 0.5), rebalance="per_leg", max_net_delta=0.2)
    base.update(kw)
    return PlannerParams(**base)  # type: ignore[arg-type]


def run(book: Book, quotes: Quotes, p: PlannerParams, *, signal: SignalReading = NO_SIGNAL,
        now: int = 10_000_000, last: int | None = None, atr: float = math.nan,
        data_as_of: int | None = None, spot: SpotSpec = SPOT, perp: PerpSpec = PERP) -> Decision:  # fmt: skip
    return decide(
        book, quotes, spot, perp, p, now_ms=now, atr=AtrReading(atr, 0 if math.isnan(atr) else 14),
        signal=signal, last_rebalance_ms=last, data_as_of_ms=now if data_as_of is None else data_as_of,
    )  # fmt: skip


def sig(value: Signal) -> SignalReading:
    return SignalReading(value, 0, 0, False)


def apply_at_valuation(
    book: Book, quotes: Quotes, decision: Decision, perp: PerpSpec = PERP
) -> Book:
    """Fill every order at the price the plan valued its leg with, without fees."""
    for o in decision.orders:
        price = quotes.spot if o.leg is Leg.BTC_SPOT else quotes.perp_mark
        fill = PaperFill(o.qty_venue, o.qty_btc, price, Decimal(0), True)
        book, _ = apply_fill(book, o.leg, o.action, fill, perp.multiplier_btc, Decimal(0))
    return book
