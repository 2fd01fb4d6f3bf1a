"""Names shared by every stage: legs, order actions, sides and signals."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

MarginMode = Literal["cross", "isolated"]  # how Gate margins a perp position
# Which Gate account btcn runs on ([account] mode; manual "Running on a unified account")
AccountMode = Literal["classic", "unified"]
Wallet = Literal["spot", "futures"]  # a Gate wallet a transfer moves USDT between


class Leg(StrEnum):
    BTC_SPOT = "BTC_SPOT"
    BTC_PERP_LONG = "BTC_PERP_LONG"
    BTC_PERP_SHORT = "BTC_PERP_SHORT"


LEGS: tuple[Leg, Leg, Leg] = (Leg.BTC_SPOT, Leg.BTC_PERP_LONG, Leg.BTC_PERP_SHORT)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Action(StrEnum):
    """What an order does to its leg. Spot uses BUY/SELL; perp legs open or close their side."""

    BUY = "BUY"
    SELL = "SELL"
    OPEN_LONG = "OPEN_LONG"
    CLOSE_LONG = "CLOSE_LONG"
    OPEN_SHORT = "OPEN_SHORT"
    CLOSE_SHORT = "CLOSE_SHORT"


class Signal(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"
    NONE = "NONE"  # no signal in force (none given, or older than signal_max_age)


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"
    LIQUIDATION = "liquidation"
