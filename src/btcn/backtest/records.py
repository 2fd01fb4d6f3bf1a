"""The engine's plain records: its parameters, orders waiting for a bar, and what a run produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from btcn.backtest.ledger import Ledger
from btcn.contracts.enums import Action, Leg
from btcn.contracts.snapshot import PerpSpec, SpotSpec
from btcn.core.planner import PlannerParams
from btcn.core.unified import MarginRules
from btcn.exchange.paper import FeeRates

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class EngineParams:
    planner: PlannerParams
    fees: FeeRates
    slippage: Decimal
    leverage: Decimal
    maintenance_margin_rate: Decimal
    initial_nav_usdt: Decimal
    spot_spec: SpotSpec = field(default_factory=SpotSpec)
    perp_spec: PerpSpec = field(default_factory=PerpSpec)
    unified: UnifiedSpec | None = None  # a unified account's rules; None: classic


@dataclass(frozen=True, slots=True)
class UnifiedSpec:
    """What a run needs to model a unified account (settings ``[account]``, ``[backtest]``):
    :mod:`btcn.backtest.unified`."""

    rules: MarginRules
    interest_apr: float


@dataclass(slots=True)
class Pending:
    leg: Leg
    action: Action
    qty_btc: Decimal
    limit: Decimal
    fill_bar: int
    phase: str  # "post" (rests during fill_bar) or "market" (fills at fill_bar's open)


@dataclass(slots=True)
class BlockedRecord:
    ts_ms: int
    leg: str
    action: str
    side: str
    signal: str
    rule: str
    qty_btc: Decimal
    notional_usdt: Decimal


@dataclass(slots=True)
class LiquidationEvent:
    bar: int
    ts_ms: int
    price: float
    equity_usdt: float
    maintenance_usdt: float
    absorbed_usdt: Decimal


@dataclass
class EngineOutput:
    first: int
    stop: int
    columns: dict[str, F64]
    ledger: Ledger
    blocked: list[BlockedRecord] = field(default_factory=list)
    liquidations: list[LiquidationEvent] = field(default_factory=list)
    rebalances: int = 0
    decisions: int = 0
    transfers: int = 0
    cancelled_orders: int = 0
    guardrail_refusals: dict[str, int] = field(default_factory=dict)
