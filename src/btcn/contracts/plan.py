"""``plan``: one rebalance decision, with everything needed to audit why it was taken."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from btcn.contracts.base import Artifact, Model
from btcn.contracts.enums import Action, Leg, Side, Signal
from btcn.contracts.snapshot import PerpSpec, SpotSpec
from btcn.contracts.weights import LegWeight

PlanStatus = Literal["rebalance", "no_action", "cooldown", "blocked", "safe_mode"]


class ThresholdInfo(Model):
    """``thr = max(floor, atr_multiplier * ATR_24h / P_ref)``."""

    thr: float
    floor: float
    atr_multiplier: float
    atr_window_ms: int
    atr_periods: int
    atr_candles_used: int
    atr_24h_usdt: float | None
    atr_term: float | None
    source: Literal["atr", "floor"]
    note: str


class CooldownInfo(Model):
    cooldown_ms: int
    last_rebalance_ms: int | None
    next_allowed_ms: int | None
    active: bool


class SignalInfo(Model):
    value: Signal
    timestamp_ms: int | None
    age_ms: int | None
    stale: bool
    apply_signal_logic: bool


class GuardrailResult(Model):
    name: str
    ok: bool
    value: str
    limit: str
    effect: Literal["none", "empty_plan", "risk_reducing_only"]
    detail: str


class PlannedOrder(Model):
    leg: Leg
    action: Action
    side: Side
    qty_venue: Decimal
    venue_unit: Literal["BTC", "contracts"]
    qty_btc: Decimal
    limit_price_usdt: Decimal
    notional_usdt: Decimal
    reason: str


class BlockedOrder(Model):
    leg: Leg
    action: Action
    side: Side
    qty_btc: Decimal
    notional_usdt: Decimal
    signal: Signal
    rule: str


class DroppedOrder(Model):
    leg: Leg
    action: Action
    side: Side
    qty_btc: Decimal
    reason: str


class Plan(Artifact):
    kind: Literal["plan"] = "plan"
    schema_version: Literal[1] = 1
    venue: str
    inputs_digest: str
    status: PlanStatus
    safe_mode: bool
    nav_usdt: Decimal
    p_ref_usdt: Decimal
    net_delta_btc: Decimal
    net_delta_pct_nav: float
    threshold: ThresholdInfo
    cooldown: CooldownInfo
    signal: SignalInfo
    guardrails: list[GuardrailResult]
    weights: list[LegWeight]
    spot_spec: SpotSpec
    perp_spec: PerpSpec
    orders: list[PlannedOrder]
    blocked: list[BlockedOrder]
    dropped: list[DroppedOrder]
