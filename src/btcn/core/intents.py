"""Plain data of a decision's inputs and orders (shared by the planner and its sizing)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from btcn.contracts.enums import Action, Leg, Side, Signal
from btcn.contracts.plan import PlannedPurpose, RebalanceMode, VenueUnit
from btcn.core.durations import Duration
from btcn.core.treasury import TreasuryParams
from btcn.core.unified import MarginGuard

# The defaults of the decision's durations, as ``btcn.toml`` writes them: the settings take their
# defaults from here (and every other default from the fields of PlannerParams and TreasuryParams),
# so the core and the settings cannot disagree.
ATR_WINDOW = Duration("24h")
COOLDOWN = Duration("60m")
SIGNAL_MAX_AGE = Duration("24h")
MAX_DATA_AGE = Duration("15m")
DEFAULT_TARGETS: tuple[float, float, float] = (0.5, 0.0, 0.5)  # BTC_SPOT, PERP_LONG, PERP_SHORT


@dataclass(frozen=True, slots=True)
class PlannerParams:
    """Every number the decision depends on (built from settings by the stage).

    The defaults here are btcn's defaults: :mod:`btcn.runtime.settings` reads them from these
    fields, so ``PlannerParams(targets=...)`` decides as a ``btcn.toml`` that sets nothing."""

    targets: tuple[float, float, float]  # BTC_SPOT, BTC_PERP_LONG, BTC_PERP_SHORT
    threshold_floor: float = 0.005
    atr_multiplier: float = 0.2
    atr_window_ms: int = ATR_WINDOW.ms
    atr_periods: int = 14
    cooldown_ms: int = COOLDOWN.ms
    apply_signal_logic: bool = True
    signal_max_age_ms: int = SIGNAL_MAX_AGE.ms
    spot_maker_fee: Decimal = Decimal("0.001")
    spot_taker_fee: Decimal = Decimal("0.001")
    slippage: Decimal = Decimal("0.0002")
    max_data_age_ms: int = MAX_DATA_AGE.ms
    max_price_deviation: float = 0.01
    max_order_notional_usdt: Decimal = Decimal(250_000)
    max_net_delta: float = 0.05
    # "book" sizes the perp legs from the planned spot quantity; "per_leg" is btcn 0.1's rule.
    rebalance: RebalanceMode = "book"
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
    venue_unit: VenueUnit
    qty_btc: Decimal
    limit_price_usdt: Decimal
    notional_usdt: Decimal
    reason: str
    purpose: PlannedPurpose = "rebalance"


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
