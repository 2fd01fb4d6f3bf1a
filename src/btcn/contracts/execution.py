"""``execution_report``: what happened to each order of a plan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

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


# Why an order was sent: rebalance (the plan's one order on a leg), realise (the CLOSE_SHORT half of
# a realise pair) or compensate (live legging: takes back delta the other legs could not match).
OrderPurpose = Literal["rebalance", "realise", "compensate"]


class OrderExecution(Model):
    """One order btcn sent (or would send): its PostOnly attempt and market remainders share the
    row (each fill names its client order id); a realise or compensating order is a row of its
    own, never merged into the leg's rebalance order."""

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
    purpose: OrderPurpose = "rebalance"


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
    version 3 adds each order's ``purpose``. Older reports are read as version 3
    (:func:`upgrade_execution_report`)."""

    kind: Literal["execution_report"] = "execution_report"
    schema_version: Literal[3] = 3
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


# The client order id's leg code tells a version 1/2 row's purpose (see btcn.core.ids).
_PURPOSE_OF_CODE = {"pr": "realise", "lr": "realise", "pc": "compensate", "lc": "compensate"}


def purpose_of_client_order_id(client_order_id: str) -> OrderPurpose:
    """``t-btcn-<digest>-<code>-<phase>``: ``pr``/``lr`` realise, ``pc``/``lc`` compensate."""
    parts = client_order_id.split("-")
    code = parts[-2] if len(parts) >= 2 else ""
    return _PURPOSE_OF_CODE.get(code, "rebalance")  # type: ignore[return-value]


def upgrade_execution_report(raw: dict[str, Any]) -> dict[str, Any]:
    """A version 1 or 2 report as version 3: fields v1 lacks are empty; each order's ``purpose``
    is read off its client order id (the ids never changed)."""
    orders = [
        {**o, "purpose": purpose_of_client_order_id(str(o.get("client_order_id", "")))}
        if isinstance(o, dict) and "purpose" not in o else o
        for o in raw.get("orders", []) or []
    ]  # fmt: skip
    return {**raw, "schema_version": 3, "orders": orders}
