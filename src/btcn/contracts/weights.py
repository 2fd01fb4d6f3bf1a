"""``weights``: NAV and each leg's weight ``w = |size| * P_contract / NAV`` against its target."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from btcn.contracts.base import Artifact, Model
from btcn.contracts.enums import Leg


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
    schema_version: Literal[1] = 1
    venue: str
    nav_usdt: Decimal
    legs: list[LegWeight]
    net_delta_btc: Decimal
    net_delta_pct_nav: float  # net delta * P_ref / NAV, in percent
