"""Plain data the core works on: the account book and the market quotes at one instant."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from btcn.core.money import ZERO


@dataclass(frozen=True, slots=True)
class Book:
    """Balances and hedge-mode perp positions. Perp sizes are non-negative contract counts."""

    spot_usdt: Decimal
    spot_btc: Decimal
    futures_usdt: Decimal
    long_contracts: Decimal = ZERO
    long_entry_usdt: Decimal = ZERO
    short_contracts: Decimal = ZERO
    short_entry_usdt: Decimal = ZERO
    # what the venue lets leave the futures wallet now (None: unknown, the treasury estimates it)
    futures_available_usdt: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Quotes:
    """Prices in USDT per BTC. ``spot``/``perp_mark`` value the legs; bid/ask price the orders."""

    p_ref: Decimal
    spot: Decimal
    perp_mark: Decimal
    spot_bid: Decimal | None = None
    spot_ask: Decimal | None = None
    perp_bid: Decimal | None = None
    perp_ask: Decimal | None = None
