"""``execution_report``: what happened to each order of a plan."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from btcn.contracts.base import Artifact, Model
from btcn.contracts.enums import Action, Leg, Side

OrderStatus = Literal[
    "filled", "partially_filled", "rejected", "not_sent", "skipped_duplicate", "simulated"
]
ReportStatus = Literal["completed", "partial", "failed", "nothing_to_do", "already_executed"]


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


class ExecutionReport(Artifact):
    kind: Literal["execution_report"] = "execution_report"
    schema_version: Literal[1] = 1
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
