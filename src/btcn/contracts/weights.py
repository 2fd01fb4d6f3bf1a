"""``weights``: NAV and each leg's weight ``w = |size| * P_contract / NAV`` against its target."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from btcn.contracts.base import Artifact, Model
from btcn.contracts.enums import Leg
from btcn.contracts.liquidation import LiquidationInfo


class LegWeight(Model):
    leg: Leg
    qty_btc: Decimal
    price_usdt: Decimal
    notional_usdt: Decimal
    weight: float
    target: float
    drift: float  # weight - target


class Weights(Artifact):
    kind: Literal["weights"] = "weights"
    schema_version: Literal[2] = 2  # 2: liquidation estimates (1 still read)
    venue: str
    nav_usdt: Decimal
    legs: list[LegWeight]
    net_delta_btc: Decimal
    net_delta_pct_nav: float  # net delta * P_ref / NAV, in percent
    liquidation: list[LiquidationInfo] = Field(default_factory=list)
