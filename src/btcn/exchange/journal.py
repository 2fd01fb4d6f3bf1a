"""The journal-backed state of a live execution: one :class:`Attempt` per client order id.

The executor writes an event to the state store's journal before each request (``intent``) and
after each outcome (``ack``, ``ambiguous``, ``rejected``, ``absent``, ``final`` with fills); a
re-run folds the same events back into the same state with :func:`apply_event`, so it knows every
client order id that may exist on the venue before it sends anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, NotRequired, TypedDict, cast

from btcn.contracts import Fill, Leg, OrderExecution, PlannedOrder, PlannedTransfer
from btcn.core.ids import Phase, client_order_id, is_valid_client_order_id
from btcn.core.money import ZERO
from btcn.exchange import translate as tr
from btcn.runtime.state import JournalEvent

State = Literal["intent", "acked", "ambiguous", "rejected", "final", "absent"]


# --- the journal's payloads, one type per event (stored as JSON; decimals as strings) -------------
class FillRecord(TypedDict):
    trade_id: str
    order_id: str
    qty: str
    price: str
    fee: str
    fee_currency: str
    fee_usdt: str
    role: str  # maker | taker


class PlanPayload(TypedDict):
    as_of_ms: int
    orders: list[dict[str, Any]]
    transfers: list[dict[str, Any]]


class DonePayload(TypedDict):
    status: str


# Functional syntax where a key is optional: NotRequired must be evaluated, not a string (PEP 563).
# ``purpose`` is absent for a rebalance order; ``order`` is a compensating order's PlannedOrder.
IntentPayload = TypedDict("IntentPayload", {  # noqa: UP013
    "leg": str, "phase": Phase, "number": int, "body": dict[str, Any],
    "exptime_ms": int, "purpose": NotRequired[str], "order": NotRequired[dict[str, Any]],
})  # fmt: skip


class AckPayload(TypedDict):
    order_id: str
    open: bool
    filled: str


class DeadlinePayload(TypedDict):
    exptime_ms: int


class AmbiguousPayload(TypedDict):
    error: str


class RejectedPayload(TypedDict):
    label: str
    message: str


class AbsentPayload(TypedDict):
    reason: str


class FinalPayload(TypedDict):
    order_id: str
    filled: str
    avg_price: str | None
    finish_as: str | None
    fills: list[FillRecord]


XferIntentPayload = TypedDict("XferIntentPayload", {
    "n": int, "from": str, "to": str, "amount": str, "ts_ms": int, "spot_before": str,
    "fut_before": str, "source_available": str, "reason": str, "when": str,
})  # fmt: skip


XferDonePayload = TypedDict("XferDonePayload", {  # noqa: UP013
    "n": int, "detail": str, "tx_id": NotRequired[str | None],
    "ledger_id": NotRequired[str | None],
})  # fmt: skip


class XferAbsentPayload(TypedDict):
    n: int
    reason: str


class XferRefusedPayload(TypedDict):
    n: int
    label: str
    detail: str


class XferAmbiguousPayload(TypedDict):
    n: int
    error: str


class XferSkippedPayload(TypedDict):
    reason: str
    amount: str


Payload = (
    PlanPayload | DonePayload | IntentPayload | AckPayload | DeadlinePayload | AmbiguousPayload
    | RejectedPayload | AbsentPayload | FinalPayload | XferIntentPayload | XferDonePayload
    | XferAbsentPayload | XferRefusedPayload | XferAmbiguousPayload | XferSkippedPayload
)  # fmt: skip
JournalEntry = tuple[str, str, Payload]  # (client order id or xfer-<i>, event, payload)

# The payload type of each event: orders (a client order id), transfers (``xfer-<i>``), the plan.
ORDER_PAYLOADS: dict[str, type] = {
    "intent": IntentPayload, "ack": AckPayload, "deadline": DeadlinePayload,
    "ambiguous": AmbiguousPayload, "rejected": RejectedPayload, "absent": AbsentPayload,
    "final": FinalPayload,
}  # fmt: skip
TRANSFER_PAYLOADS: dict[str, type] = {
    "intent": XferIntentPayload, "done": XferDonePayload, "absent": XferAbsentPayload,
    "refused": XferRefusedPayload, "ambiguous": XferAmbiguousPayload,
    "skipped": XferSkippedPayload,
}  # fmt: skip
PLAN_PAYLOADS: dict[str, type] = {"plan": PlanPayload, "done": DonePayload}


@dataclass
class Attempt:
    """One client order id: its journal-backed state and, once final, its fills."""

    cid: str
    leg: Leg
    phase: Phase
    number: int
    body: dict[str, Any]
    exptime_ms: int
    state: State = "intent"
    order_id: str | None = None
    label: str = ""
    filled: Decimal = ZERO
    avg_price: Decimal | None = None
    finish_as: str | None = None
    fills: list[FillRecord] = field(default_factory=list)
    purpose: str = "rebalance"  # or "realise" (a realise order), "compensate" (legging)

    @property
    def key(self) -> RunKey:
        return run_key(self.leg, self.purpose)

    @property
    def settled(self) -> bool:
        return self.state in ("rejected", "final", "absent")


RunKey = Leg | str  # a rebalance order's leg, or "<leg>.realise" for a realise order


def run_key(leg: Leg, purpose: str = "rebalance") -> RunKey:
    return leg if purpose == "rebalance" else f"{leg.value}.{purpose}"


@dataclass
class LegRun:
    order: PlannedOrder
    attempts: list[Attempt] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)
    purpose: str = ""  # the order's purpose, or "compensate" for a compensating order

    def __post_init__(self) -> None:
        self.purpose = self.purpose or self.order.purpose

    @property
    def key(self) -> RunKey:
        return run_key(self.order.leg, self.purpose)

    @property
    def market_only(self) -> bool:
        """Realise and compensating orders go straight to market (IOC): no PostOnly attempt."""
        return self.purpose in ("realise", "compensate")

    @property
    def post(self) -> Attempt | None:
        return next((a for a in self.attempts if a.phase == "p"), None)

    @property
    def markets(self) -> list[Attempt]:
        return [a for a in self.attempts if a.phase == "m"]

    @property
    def filled(self) -> Decimal:
        return sum((a.filled for a in self.attempts if a.state == "final"), ZERO)

    @property
    def remainder(self) -> Decimal:
        return self.order.qty_venue - self.filled


def attempt_qty(a: Attempt) -> Decimal:
    """The quantity an attempt asked for, in venue units (from the body sent)."""
    if a.leg is Leg.BTC_SPOT:
        return Decimal(str(a.body.get("amount", "0")))
    return abs(Decimal(str(a.body.get("size", "0"))))


def market_of(leg: Leg) -> tr.Market:
    return "spot" if leg is Leg.BTC_SPOT else "futures"


def attempt_cid(
    digest: str, leg: Leg, phase: Phase, number: int, purpose: str = "rebalance"
) -> str:
    """``client_order_id`` for the first attempt, with the attempt number appended after it."""
    base = client_order_id(digest, leg, phase, purpose)
    cid = base if number == 1 else f"{base}{number}"
    if not is_valid_client_order_id(cid):  # pragma: no cover - guarded by the id format
        raise ValueError(cid)
    return cid


def chronological(f: tr.TradeFill) -> tuple[int, int, str]:
    tid = f.trade_id
    return (f.time_ms or 0, int(tid) if tid.isdigit() else 0, tid)


def fill_json(f: tr.TradeFill) -> FillRecord:
    return {
        "trade_id": f.trade_id, "order_id": f.order_id, "qty": str(f.qty_venue),
        "price": str(f.price_usdt), "fee": str(f.fee), "fee_currency": f.fee_currency,
        "fee_usdt": str(f.fee_usdt), "role": "maker" if f.maker else "taker",
    }  # fmt: skip


def apply_event(legs: dict[RunKey, LegRun], by_cid: dict[str, Attempt], ev: JournalEvent) -> None:
    """Fold one journal event into the attempts of a plan."""
    if ev.event == "intent":
        p = cast(IntentPayload, ev.payload)
        leg = Leg(p["leg"])
        a = Attempt(ev.client_order_id, leg, p["phase"], int(p["number"]), p["body"],
                    int(p["exptime_ms"]), purpose=p.get("purpose", "rebalance"))  # fmt: skip
        if a.key not in legs and "order" in p:  # a compensating order: not in the plan
            legs[a.key] = LegRun(PlannedOrder.model_validate(p["order"]), purpose=a.purpose)
        legs[a.key].attempts.append(a)
        by_cid[a.cid] = a
        return
    a = by_cid.get(ev.client_order_id)
    if a is None:
        return  # plan-level events
    if ev.event == "ack":
        a.state = "acked"
        a.order_id = cast(AckPayload, ev.payload)["order_id"]
    elif ev.event == "deadline":  # a retry of the request carries a later x-gate-exptime
        a.exptime_ms = max(a.exptime_ms, int(cast(DeadlinePayload, ev.payload)["exptime_ms"]))
    elif ev.event == "ambiguous":
        a.state = "ambiguous"
    elif ev.event == "rejected":
        a.state = "rejected"
        a.label = cast(RejectedPayload, ev.payload).get("label", "")
    elif ev.event == "absent":
        a.state = "absent"
    elif ev.event == "final":
        p = cast(FinalPayload, ev.payload)  # type: ignore[assignment]
        a.state = "final"
        a.order_id = p["order_id"]
        a.filled = Decimal(p["filled"])
        a.avg_price = Decimal(p["avg_price"]) if p.get("avg_price") else None
        a.finish_as = p.get("finish_as")
        a.fills = p["fills"]


def order_report(run: LegRun, digest: str, multiplier_btc: Decimal) -> OrderExecution:
    """What happened to one planned order, from its attempts (fills valued in USDT)."""
    o = run.order
    unit = Decimal(1) if o.leg is Leg.BTC_SPOT else multiplier_btc
    fills: list[Fill] = []
    for a in run.attempts:
        if a.state != "final":
            continue
        for f in a.fills:
            qty = Decimal(f["qty"])
            fills.append(Fill(
                client_order_id=a.cid, qty_venue=qty, qty_btc=qty * unit,
                price_usdt=Decimal(f["price"]), fee_usdt=Decimal(f["fee_usdt"]),
                liquidity="maker" if f["role"] == "maker" else "taker",
            ))  # fmt: skip
    filled = run.filled
    filled_btc = filled * unit
    traded = sum((f.qty_btc for f in fills), ZERO)
    avg = sum((f.qty_btc * f.price_usdt for f in fills), ZERO) / traded if traded else None
    kinds = {f.liquidity for f in fills}
    liquidity = "none" if not kinds else "mixed" if len(kinds) == 2 else kinds.pop()
    detail = list(run.detail)
    for a in run.attempts:
        sent = attempt_qty(a)
        if a.phase == "m" and a.state == "final" and 0 < a.filled < sent:
            why = "the book had no more within its limit price" if a.finish_as == "ioc" else (
                f"finish_as={a.finish_as}"
            )  # fmt: skip
            detail.append(
                f"{a.cid}: IOC filled {a.filled} of {sent} ({why}; the rest was cancelled)"
            )
        if a.state == "rejected":
            detail.append(f"{a.cid} rejected ({a.label})")
        elif a.state == "absent":
            detail.append(f"{a.cid} never reached Gate")
    if filled == o.qty_venue:
        status = "filled"
    elif filled > 0:
        status = "partially_filled"
    elif any(a.state in ("final", "rejected") for a in run.attempts):
        status = "rejected"
    else:
        status = "not_sent"
    markets = run.markets
    return OrderExecution(
        leg=o.leg, action=o.action, side=o.side,
        client_order_id=attempt_cid(digest, o.leg, "m" if run.market_only else "p", 1,
                                    run.purpose),
        market_client_order_id=markets[-1].cid if markets else
        attempt_cid(digest, o.leg, "m", 1, run.purpose),
        requested_qty_venue=o.qty_venue, requested_qty_btc=o.qty_btc,
        filled_qty_venue=filled, filled_qty_btc=filled_btc, avg_price_usdt=avg,
        fee_usdt=sum((f.fee_usdt for f in fills), ZERO), liquidity=liquidity,  # type: ignore[arg-type]
        market_fallback=any(a.state == "final" and a.filled > 0 for a in markets),
        status=status, fills=fills, detail="; ".join(detail), purpose=run.purpose,  # type: ignore[arg-type]
    )  # fmt: skip


# --- wallet transfers (journal key xfer-<index>; no Gate client id exists) ---------------------
def xfer_key(index: int) -> str:
    """The journal's key for the plan's ``index``-th transfer (never a Gate client id)."""
    return f"xfer-{index}"


@dataclass
class XferAttempt:
    n: int
    amount: Decimal
    ts_ms: int  # venue time of the intent
    spot_before: Decimal  # spot USDT available + locked
    fut_before: Decimal  # futures wallet total
    state: str = "intent"  # intent | ambiguous | done | refused | absent
    tx_id: str | None = None
    ledger_id: str | None = None
    detail: str = ""


@dataclass
class TransferRun:
    index: int
    planned: PlannedTransfer
    attempts: list[XferAttempt] = field(default_factory=list)
    skipped: str = ""  # reason, when the recomputed amount was dust
    skipped_amount: Decimal = ZERO
    not_sent_reason: str = ""  # why the run did not send it (reported, not journaled)

    @property
    def key(self) -> str:
        return xfer_key(self.index)

    @property
    def last(self) -> XferAttempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def finished(self) -> bool:
        last = self.last
        return bool(self.skipped) or (last is not None and last.state in ("done", "refused"))


def fold_transfer_event(runs: dict[str, TransferRun], ev: JournalEvent) -> None:
    """Apply one journal event of a transfer (``xfer-<i>``) to the runs."""
    run = runs.get(ev.client_order_id)
    if run is None:
        return
    if ev.event == "intent":
        p = cast(XferIntentPayload, ev.payload)
        run.attempts.append(XferAttempt(
            int(p["n"]), Decimal(p["amount"]), int(p["ts_ms"]), Decimal(p["spot_before"]),
            Decimal(p["fut_before"]),
        ))  # fmt: skip
        return
    if ev.event == "skipped":
        skipped = cast(XferSkippedPayload, ev.payload)
        run.skipped = skipped.get("reason", "dust")
        run.skipped_amount = Decimal(skipped.get("amount", "0"))
        return
    # done | refused | absent | ambiguous: every one names its attempt
    outcome = cast(XferDonePayload, ev.payload)
    a = next((x for x in run.attempts if x.n == int(outcome.get("n", -1))), None)
    if a is None:
        return
    a.state = ev.event
    a.tx_id = outcome.get("tx_id") or a.tx_id
    a.ledger_id = outcome.get("ledger_id") or a.ledger_id
    a.detail = outcome.get("detail", a.detail)


def transfer_runs(transfers: list[PlannedTransfer]) -> dict[str, TransferRun]:
    runs = [TransferRun(i, t) for i, t in enumerate(transfers)]
    return {r.key: r for r in runs}
