"""Shared state of one live execution: the plan, the venue client, the journal."""

from __future__ import annotations

import logging
from typing import Any

from btcn.contracts import Plan
from btcn.exchange import gate_wire as w
from btcn.exchange.clock import Clock
from btcn.exchange.gate import GateClient
from btcn.exchange.journal import (
    Attempt,
    LegRun,
    RunKey,
    TransferRun,
    apply_event,
    fold_transfer_event,
    run_key,
    transfer_runs,
)
from btcn.exchange.request import ExecuteRequest
from btcn.runtime.state import StateStore

log = logging.getLogger("btcn.exchange.live")

VENUE = "gate"
MAX_MARKET_ATTEMPTS = 3
EXPTIME_MARGIN_MS = 1_000
HISTORY_MARGIN_S = 600
RESUME_HINT = "re-run the same command to resume: orders are looked up by client id, never re-sent"


class ExecutorBase:
    """What every part of the executor shares; the parts are mixed into ``LiveExecutor``."""

    def __init__(
        self, plan: Plan, digest: str, req: ExecuteRequest, gate: GateClient, store: StateStore,
        clock: Clock,
    ) -> None:  # fmt: skip
        self.plan = plan
        self.digest = digest
        self.req = req
        self.settings = req.settings
        self.gs = req.settings.gate
        self.gate = gate
        self.store = store
        self.clock = clock
        self.pair = plan.spot_spec.pair
        self.contract = plan.perp_spec.contract
        self.mult = plan.perp_spec.multiplier_btc
        # One run per planned order: keyed by leg, a realise order by "<leg>.realise".
        self.legs: dict[RunKey, LegRun] = {
            run_key(o.leg, o.purpose): LegRun(o) for o in plan.orders
        }
        self.by_cid: dict[str, Attempt] = {}
        self.first_ms: int | None = None  # when this plan was first worked (journal)
        self.pair_rules: w.CurrencyPair | None = None
        self.contract_rules: w.Contract | None = None
        self.transfers: dict[str, TransferRun] = transfer_runs(plan.transfers)
        self.hedge_rules: set[str] = set()  # legging rules that acted in this run
        # a unified account's spot orders name it (section 4.7)
        self.spot_account = "unified" if req.settings.account.mode == "unified" else "spot"

    # --- journal ---------------------------------------------------------------------------------
    def _journal(self, entries: list[tuple[str, str, dict[str, Any]]]) -> None:
        self.store.journal_append(self.digest, VENUE, entries, self.clock.now_ms())

    def _load_journal(self) -> bool:
        events = self.store.journal_events(self.digest, VENUE)
        for ev in events:
            if ev.client_order_id in self.transfers:
                fold_transfer_event(self.transfers, ev)
            else:
                apply_event(self.legs, self.by_cid, ev)
        if events:
            self.first_ms = events[0].ts_ms
        return bool(events)
