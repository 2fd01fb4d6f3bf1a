"""``execution_report``: what happened to each order of a plan."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import ConfigDict, Field

from btcn.contracts.base import Artifact, Model
from btcn.contracts.enums import Action, Leg, Side, Wallet
from btcn.contracts.plan import TransferWhen

OrderStatus = Literal[
    "filled", "partially_filled", "rejected", "not_sent", "skipped_duplicate", "simulated"
]
ReportStatus = Literal["completed", "partial", "failed", "nothing_to_do", "already_executed"]
# done: Gate moved the money (tx_id when Gate answered one); skipped: the amount recomputed from
# the balances read just before it was below the dust level; refused: Gate answered 4xx (nothing
# moved); not_sent: the run ended before it; simulated: a dry run or the paper venue.
TransferStatus = Literal["done", "skipped", "refused", "not_sent", "simulated"]
# Which legging rule sized the market remainders (live): as_planned (every leg as planned),
# perp_sized_to_spot (the perp remainder was cut to what spot filled), spot_sized_to_perp (the spot
# remainder was cut because a perp leg could not fill), perp_reduced (a perp leg had already filled
# more than the other legs could match: a compensating order reduced it), deviation_reported (a
# difference remains: reported, the run ends partial when it exceeds max_delta_drift).
HedgeRule = Literal[
    "as_planned", "perp_sized_to_spot", "spot_sized_to_perp", "perp_reduced", "deviation_reported"
]


class Fill(Model):
    client_order_id: str
    qty_venue: Decimal
    qty_btc: Decimal
    price_usdt: Decimal
    fee_usdt: Decimal
    liquidity: Literal["maker", "taker"]


class OrderExecution(Model):
    leg: Leg
    action: Action
    side: Side
    client_order_id: str
    market_client_order_id: str
    requested_qty_venue: Decimal
    requested_qty_btc: Decimal
    filled_qty_venue: Decimal
    filled_qty_btc: Decimal
    avg_price_usdt: Decimal | None
    fee_usdt: Decimal
    liquidity: Literal["maker", "taker", "mixed", "none"]
    market_fallback: bool
    status: OrderStatus
    fills: list[Fill]
    detail: str = ""


class TransferExecution(Model):
    """One planned wallet transfer as executed (``amount_usdt``: what moved, or would have)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True
    )

    from_: Wallet = Field(alias="from")
    to: Wallet
    amount_usdt: Decimal
    planned_amount_usdt: Decimal
    tx_id: str | None = None
    status: TransferStatus
    reason: str
    when: TransferWhen
    detail: str = ""


class ExecutionReport(Artifact):
    """Version 2 adds ``transfers``, ``net_delta_after_btc`` (as executed) and ``hedge_rule``;
    a version 1 report is read as version 2 with those empty."""

    kind: Literal["execution_report"] = "execution_report"
    schema_version: Literal[2] = 2
    venue: str
    plan_digest: str
    plan_as_of_ms: int
    dry_run: bool
    live: bool
    status: ReportStatus
    previous_status: ReportStatus | None = None  # with already_executed: the first run's status
    rebalance_recorded: bool
    orders: list[OrderExecution]
    note: str
    transfers: list[TransferExecution] = Field(default_factory=list)
    net_delta_after_btc: Decimal | None = None  # executed: plan's starting delta + real fills
    hedge_rule: HedgeRule | None = None
