"""Liquidation estimates shown by ``weights``, ``plan``, reports and monitoring."""

from __future__ import annotations

from decimal import Decimal

from btcn.contracts.base import Model
from btcn.contracts.enums import Leg, MarginMode


class LiquidationInfo(Model):
    """Liquidation estimate of one perp side (Gate's rule, exchange-api.md section 4.6).

    ``distance`` is how far the mark may move against the side before liquidation, as a fraction
    (short: ``liq / mark - 1``; long: ``1 - liq / mark``); None when the side is flat or cannot be
    liquidated by price. ``venue_liq_price_usdt`` is Gate's own figure when the snapshot has it."""

    leg: Leg
    margin_mode: MarginMode
    size_contracts: Decimal
    mark_usdt: Decimal
    liq_price_usdt: Decimal | None
    distance: float | None
    venue_liq_price_usdt: Decimal | None = None
