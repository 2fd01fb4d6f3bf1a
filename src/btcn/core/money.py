"""Fixed-point helpers for anything that becomes an order or a ledger entry.

Quantities always round toward zero (never more than intended, never overdraw); limit prices
round away from the market (a buy rounds down, a sell rounds up) so a PostOnly order stays passive.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)


def dec(value: float | int | str | Decimal) -> Decimal:
    """Decimal from a value; floats go through ``repr`` (shortest round-trip text)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def round_down_to_step(qty: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of ``step`` not above ``qty`` (for qty >= 0)."""
    if qty <= 0:
        return ZERO
    return (qty / step).to_integral_value(rounding=ROUND_DOWN) * step


def round_price(price: Decimal, tick: Decimal, *, buy: bool) -> Decimal:
    """Round a limit price to the tick: buys down, sells up (stay on the passive side)."""
    mode = ROUND_FLOOR if buy else ROUND_CEILING
    return (price / tick).to_integral_value(rounding=mode) * tick


def is_step_multiple(qty: Decimal, step: Decimal) -> bool:
    return (qty / step) == (qty / step).to_integral_value()
