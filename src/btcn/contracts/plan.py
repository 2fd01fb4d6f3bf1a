"""``plan``: one rebalance decision, with everything needed to audit why it was taken."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr

from btcn.contracts.base import Artifact, Model
from btcn.contracts.enums import Action, Leg, Side, Signal, Wallet
from btcn.contracts.liquidation import LiquidationInfo
from btcn.contracts.snapshot import PerpSpec, SpotSpec
from btcn.contracts.weights import LegWeight

PlanStatus = Literal["rebalance", "no_action", "cooldown", "blocked", "safe_mode"]
RebalanceMode = Literal["book", "per_leg"]
# Why a rebalance fired: a leg's weight drifted beyond thr, the book's net delta exceeded
# strategy.max_delta_drift, or the liquidation guard asked for margin (a transfer-only plan).
Trigger = Literal["drift", "delta", "liquidation"]
TransferWhen = Literal["before_orders", "after_orders"]
# margin: futures wallet to the planned perp book's margin + buffer; liquidation_guard: to the
# minimum liquidation distance; fund_spot: futures cash to spot for planned spot buys;
# sweep: futures cash above the band back to spot.
TransferReason = Literal["margin", "liquidation_guard", "fund_spot", "sweep"]
ThresholdSource = Literal["atr", "floor"]  # which term of thr is larger
GuardrailEffect = Literal["none", "empty_plan", "risk_reducing_only"]
VenueUnit = Literal["BTC", "contracts"]  # spot orders count BTC, perp orders contracts
# rebalance: the one order a leg gets; realise: the CLOSE_SHORT half of a realise pair (the
# executor adds "compensate": execution.OrderPurpose)
PlannedPurpose = Literal["rebalance", "realise"]


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
    source: ThresholdSource
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
    effect: GuardrailEffect
    detail: str


class PlannedOrderV1(Model):
    """An order of a version 1 plan."""

    leg: Leg
    action: Action
    side: Side
    qty_venue: Decimal
    venue_unit: VenueUnit
    qty_btc: Decimal
    limit_price_usdt: Decimal
    notional_usdt: Decimal
    reason: str


class PlannedOrder(PlannedOrderV1):
    """An order of the plan (version 2). ``purpose`` is ``rebalance`` for the one order a leg gets, or
    ``realise`` for the CLOSE_SHORT half of a realise pair: part of the short is closed (Gate
    realises its profit, which then becomes transferable) while the leg's rebalance order re-opens
    it, so the BTC_PERP_SHORT leg may carry two orders. A realise order gets its own client ids."""

    purpose: PlannedPurpose = "rebalance"


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


class PlannedTransfer(Model):
    """One USDT move between the spot and futures wallets (Gate ``POST /wallet/transfers``).

    JSON names are ``from``/``to``; ``amount_usdt`` never exceeds what the source wallet had
    available in the snapshot (unrealised profit is not transferable)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True
    )

    from_: Wallet = Field(alias="from")
    to: Wallet
    amount_usdt: Decimal = Field(gt=0)
    reason: TransferReason
    when: TransferWhen
    detail: str = ""


class PlanV1(Artifact):
    """Version 1 of the plan (btcn 0.1): read and upgraded, never written."""

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
    orders: list[PlannedOrderV1]
    blocked: list[BlockedOrder]
    dropped: list[DroppedOrder]


# Version 2 is version 1's fields in their places (``orders`` now holds PlannedOrder), then its own:
# one field list, and the same JSON bytes as when the two versions were written out separately.
class Plan(PlanV1):
    """Version 2: book-level rebalance, the treasury's transfers, net delta after, liquidation."""

    schema_version: Literal[2] = 2  # type: ignore[assignment]
    orders: list[PlannedOrder]  # type: ignore[assignment]
    rebalance: RebalanceMode
    trigger: Trigger | None
    max_delta_drift: float | None
    net_delta_after_btc: Decimal  # if every order fills as planned (spot buys net of BTC fees)
    net_delta_after_pct_nav: float
    transfers: list[PlannedTransfer]
    liquidation: list[LiquidationInfo]

    # The canonical JSON of the version 1 document this plan was upgraded from (None for a v2
    # plan): a plan's identity (digest, client order ids) stays the one its first reader saw.
    _v1_json: str | None = PrivateAttr(default=None)


def upgrade_plan_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """A version 1 plan as version 2 fields: per-leg sizing, no transfers, no liquidation data,
    net delta after = net delta + what the orders add (fees ignored, as version 1 did)."""
    v1 = PlanV1.model_validate(raw)
    after = v1.net_delta_btc
    for o in v1.orders:
        after += o.qty_btc if o.side is Side.BUY else -o.qty_btc
    pct = (
        float(after) * float(v1.p_ref_usdt) / float(v1.nav_usdt) * 100.0
        if v1.nav_usdt > 0
        else float("nan")
    )
    data = v1.model_dump(mode="python")
    data.update(
        schema_version=2,
        rebalance="per_leg",
        trigger="drift" if v1.orders or v1.blocked else None,
        max_delta_drift=None,
        net_delta_after_btc=after,
        net_delta_after_pct_nav=pct,
        transfers=[],
        liquidation=[],
    )
    return data
