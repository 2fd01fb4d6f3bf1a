"""The one typed state of a live execution, and the services its components share.

``execute --live`` is composed of components (:mod:`.resolve`, :mod:`.reconcile`,
:mod:`.precheck`, :mod:`.phases`, :mod:`.compensate`, :mod:`.treasury`), each built with the
:class:`LiveContext` and the components it calls, never mixed into one class: what one component
writes and another reads is a declared field of :class:`LiveState`, and a field read before the
step that sets it raises instead of being silently missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from btcn.contracts import Leg, Plan, Side
from btcn.core.money import ZERO
from btcn.exchange import gate_wire as w
from btcn.exchange import translate as tr
from btcn.exchange.clock import Clock
from btcn.exchange.errors import POST_ONLY_REJECT_LABELS, UncertainOrderError
from btcn.exchange.gate import GateClient
from btcn.exchange.journal import (
    Attempt,
    JournalEntry,
    LegRun,
    RunKey,
    TransferRun,
    apply_event,
    fold_transfer_event,
    run_key,
    transfer_runs,
)
from btcn.runtime.state import StateStore

if TYPE_CHECKING:
    from btcn.runtime.settings import GateSettings, Settings

log = logging.getLogger("btcn.exchange.live")

VENUE = "gate"
MAX_MARKET_ATTEMPTS = 3
EXPTIME_MARGIN_MS = 1_000
HISTORY_MARGIN_S = 600
RESUME_HINT = "re-run the same command to resume: orders are looked up by client id, never re-sent"


@dataclass
class Balances:
    """The account as last read (reconcile, or again after a transfer)."""

    futures: w.FuturesAccount
    spot: list[w.SpotAccount]
    sides: dict[str, tr.SideState]  # "long" / "short" of the dual-mode position


@dataclass
class LiveState:
    """What one run knows: the plan, every attempt and transfer (from the journal and this run),
    the venue rules and the account as read."""

    plan: Plan
    digest: str
    legs: dict[RunKey, LegRun]  # one run per planned order ("<leg>.realise", "<leg>.compensate")
    by_cid: dict[str, Attempt] = field(default_factory=dict)
    transfers: dict[str, TransferRun] = field(default_factory=dict)
    first_ms: int | None = None  # when this plan was first worked (journal)
    pair_rules: w.CurrencyPair | None = None
    contract_rules: w.Contract | None = None
    balances_read: Balances | None = None
    hedge_rules: set[str] = field(default_factory=set)  # legging rules that acted in this run

    @classmethod
    def for_plan(cls, plan: Plan, digest: str) -> LiveState:
        legs = {run_key(o.leg, o.purpose): LegRun(o) for o in plan.orders}
        return cls(plan, digest, legs, transfers=transfer_runs(plan.transfers))

    @property
    def pair(self) -> str:
        return self.plan.spot_spec.pair

    @property
    def contract(self) -> str:
        return self.plan.perp_spec.contract

    @property
    def mult(self) -> Decimal:
        return self.plan.perp_spec.multiplier_btc

    @property
    def balances(self) -> Balances:
        if self.balances_read is None:
            raise RuntimeError("the account is read by the reconcile step before it is used")
        return self.balances_read

    @property
    def base(self) -> str:
        return self.pair_rules.base.upper() if self.pair_rules else "BTC"

    def fold(self, store: StateStore) -> bool:
        """Fold the journal of this plan into the state; True when there was one (a resume)."""
        events = store.journal_events(self.digest, VENUE)
        for ev in events:
            if ev.client_order_id in self.transfers:
                fold_transfer_event(self.transfers, ev)
            else:
                apply_event(self.legs, self.by_cid, ev)
        if events:
            self.first_ms = events[0].ts_ms
        return bool(events)

    def perp_runs(self) -> list[LegRun]:
        """The perp orders for the hedge sizing: realise orders first, then the rebalance ones
        (a compensating order is not part of the plan's sizing)."""
        runs = [r for r in self.legs.values()
                if r.order.leg is not Leg.BTC_SPOT and r.purpose != "compensate"]  # fmt: skip
        return sorted(runs, key=lambda r: not r.market_only)

    def expected(self) -> dict[str, Decimal]:
        """Starting book (the plan's legs) plus every fill of this plan the journal holds."""
        start = {lw.leg: lw.qty_btc for lw in self.plan.weights}
        exp = {
            "spot_btc": start.get(Leg.BTC_SPOT, ZERO),
            "long": start.get(Leg.BTC_PERP_LONG, ZERO) / self.mult,
            "short": start.get(Leg.BTC_PERP_SHORT, ZERO) / self.mult,
        }
        for run in self.legs.values():
            buy = run.order.side is Side.BUY
            for a in run.attempts:
                if a.state != "final":
                    continue
                for f in a.fills:
                    qty = Decimal(f["qty"])
                    if run.order.leg is Leg.BTC_SPOT:
                        fee_btc = Decimal(f["fee"]) if f["fee_currency"] == self.base else ZERO
                        exp["spot_btc"] += (qty if buy else -qty) - fee_btc
                    else:
                        key = "long" if run.order.leg is Leg.BTC_PERP_LONG else "short"
                        grows = run.order.action.value.startswith("OPEN")
                        exp[key] += qty if grows else -qty
        return exp


def to_send(run: LegRun) -> Decimal:
    """Quantity this run may still send for a leg (0 when the leg is finished)."""
    if run.post is None and not run.market_only:
        return run.order.qty_venue
    if (run.post is not None and not run.post.settled) or not all(a.settled for a in run.markets):
        raise UncertainOrderError(
            f"{run.order.leg}: an order's outcome is still unknown", hint=RESUME_HINT
        )
    post = run.post
    if post is not None and post.state == "rejected" and post.label not in POST_ONLY_REJECT_LABELS:
        return ZERO
    if any(a.state in ("final", "rejected") for a in run.markets):
        return ZERO
    return max(run.remainder, ZERO)


@dataclass
class LiveContext:
    """The services every component uses, and the one state they share."""

    state: LiveState
    gate: GateClient
    store: StateStore
    clock: Clock
    settings: Settings

    @property
    def gs(self) -> GateSettings:
        return self.settings.gate

    def journal(self, entries: list[JournalEntry]) -> None:
        """Append events durably (one transaction) before the step they announce."""
        self.store.journal_append(self.state.digest, VENUE, entries, self.clock.now_ms())  # type: ignore[arg-type]


class Component:
    """A part of the executor: the context, and short names for the state and services."""

    def __init__(self, cx: LiveContext) -> None:
        self.cx = cx
        self.st = cx.state
        self.gate = cx.gate
        self.clock = cx.clock
