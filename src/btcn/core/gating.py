"""Signal gating: which order sides a BUY or SELL signal forbids, leg by leg.

| signal | forbids                                                            |
|--------|--------------------------------------------------------------------|
| BUY    | SELL on BTC_SPOT, BTC_PERP_LONG (CLOSE_LONG), BTC_PERP_SHORT (OPEN_SHORT) |
| SELL   | BUY on BTC_PERP_SHORT (CLOSE_SHORT)                                |

HOLD and NONE forbid nothing.
"""

from __future__ import annotations

from btcn.contracts.enums import Leg, Side, Signal

RULE_BUY_FORBIDS_SELL = "BUY_FORBIDS_SELL"
RULE_SELL_FORBIDS_SHORT_BUY = "SELL_FORBIDS_BUY_ON_PERP_SHORT"

GATE_TABLE: dict[tuple[Signal, Leg, Side], str] = {
    (Signal.BUY, Leg.BTC_SPOT, Side.SELL): RULE_BUY_FORBIDS_SELL,
    (Signal.BUY, Leg.BTC_PERP_LONG, Side.SELL): RULE_BUY_FORBIDS_SELL,
    (Signal.BUY, Leg.BTC_PERP_SHORT, Side.SELL): RULE_BUY_FORBIDS_SELL,
    (Signal.SELL, Leg.BTC_PERP_SHORT, Side.BUY): RULE_SELL_FORBIDS_SHORT_BUY,
}


def blocking_rule(signal: Signal, leg: Leg, side: Side) -> str | None:
    """The rule that forbids this order under this signal, or None when it may trade."""
    return GATE_TABLE.get((signal, leg, side))
