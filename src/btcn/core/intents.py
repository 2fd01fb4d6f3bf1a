"""Plain data of a decision's inputs and orders (shared by the planner and its sizing)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from btcn.contracts.enums import Action, Leg, Side, Signal
from btcn.core.treasury import TreasuryParams

if TYPE_CHECKING:
    from btcn.core.unified_guard import MarginGuard


@dataclass(frozen=True, slots=True)
class PlannerParams:
    """Every number the decision depends on (built from settings by the stage)."""

    targets: tuple[float, float, float]  # BTC_SPOT, BTC_PERP_LONG, BTC_PERP_SHORT
    threshold_floor: float = 0.005
    atr_multiplier: float = 0.2
    atr_window_ms: int = 86_400_000
    atr_periods: int = 14
    cooldown_ms: int = 3_600_000
    apply_signal_logic: bool = True
    signal_max_age_ms: int = 86_400_000
    spot_maker_fee: Decimal = Decimal("0.001")
    spot_taker_fee: Decimal = Decimal("0.001")
    slippage: Decimal = Decimal("0.0002")
    max_data_age_ms: int = 900_000
    max_price_deviation: float = 0.01
    max_order_notional_usdt: Decimal = Decimal(250_000)
    max_net_delta: float = 0.2
    # "book" sizes the perp legs from the planned spot quantity; "per_leg" is btcn 0.1's rule.
    # (The settings default is "book"; this plain-data default keeps old callers' behaviour.)
    rebalance: Literal["book", "per_leg"] = "per_leg"
    max_delta_drift: float = 0.002
    perp_maker_fee: Decimal = Decimal("0.0002")
    perp_taker_fee: Decimal = Decimal("0.0005")
    realise_locked_profit: bool = True
    treasury: TreasuryParams | None = None  # None: the plan carries no transfers
    # a unified account's margin rules and limits (None: classic); see core.unified_guard
    margin_guard: MarginGuard | None = None


@dataclass(frozen=True, slots=True)
class OrderIntent:
    leg: Leg
    action: Action
    side: Side
    qty_venue: Decimal
    venue_unit: Literal["BTC", "contracts"]
    qty_btc: Decimal
    limit_price_usdt: Decimal
    notional_usdt: Decimal
    reason: str
    purpose: Literal["rebalance", "realise"] = "rebalance"


@dataclass(frozen=True, slots=True)
class Blocked:
    leg: Leg
    action: Action
    side: Side
    qty_btc: Decimal
    notional_usdt: Decimal
    signal: Signal
    rule: str


@dataclass(frozen=True, slots=True)
class Dropped:
    leg: Leg
    action: Action
    side: Side
    qty_btc: Decimal
    reason: str
