"""The executor: one run of a plan, from the journal to the report."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from btcn.contracts import ExecutionReport, Leg, Plan, dump_json
from btcn.core.legs import LEG_OF
from btcn.errors import InvalidInputError, UsageError
from btcn.exchange.clock import Clock, SystemClock
from btcn.exchange.credentials import Credentials, gate_credentials
from btcn.exchange.duplicates import already_executed_report
from btcn.exchange.gate import GateClient
from btcn.exchange.journal import order_report
from btcn.exchange.live.base import VENUE
from btcn.exchange.live.phases import Phases
from btcn.exchange.live.precheck import PreChecker
from btcn.exchange.live.reconcile import Reconciler
from btcn.exchange.live.resolve import Resolver
from btcn.exchange.request import ExecuteRequest
from btcn.exchange.retry import RetryPolicy
from btcn.runtime.state import StateStore

log = logging.getLogger("btcn.exchange.live")


@dataclass
class LiveDeps:
    """What a test injects: a virtual clock, an httpx transport, keys, the retry policy."""

    clock: Clock | None = None
    transport: httpx.BaseTransport | None = None
    credentials: Credentials | None = None
    retry: RetryPolicy | None = None


class LiveExecutor(Resolver, Reconciler, PreChecker, Phases):
    # --- entry ------------------------------------------------------------------------------------
    def run(self) -> ExecutionReport:
        resumed = self._load_journal()
        now = self.clock.now_ms()
        if not resumed and now - self.plan.as_of_ms > self.gs.max_plan_age_ms:
            raise UsageError(
                f"plan is {(now - self.plan.as_of_ms) // 1000} s old; [gate] max_plan_age is "
                f"{self.gs.max_plan_age}",
                hint="take a fresh snapshot and plan again (btcn fetch snapshot --venue gate)",
            )
        self.gate.sync_clock()
        if abs(self.gate.offset_ms) > 5_000:
            log.warning("local clock is %.1f s off Gate's; using Gate's time",
                        self.gate.offset_ms / 1000)  # fmt: skip
        self._check_rules()
        if resumed:
            log.info("resuming plan %s from the journal", self.digest[:12])
        else:
            self._journal([("", "plan", {
                "as_of_ms": self.plan.as_of_ms,
                "orders": [o.model_dump(mode="json") for o in self.plan.orders],
            })])  # fmt: skip
            self.first_ms = now
        for a in list(self.by_cid.values()):
            if not a.settled:
                self._settle(a)
        self._reconcile()
        self._pre_check()
        self._post_only_phase()
        self._market_phase()
        return self._finish()

    # --- report ---------------------------------------------------------------------------------------
    def _finish(self) -> ExecutionReport:
        orders = [order_report(self.legs[o.leg], self.digest, self.mult) for o in self.plan.orders]
        complete = all(o.status == "filled" for o in orders)
        traded = any(o.filled_qty_venue > 0 for o in orders)
        status = "completed" if complete else "partial" if traded else "failed"
        now = self.clock.now_ms()
        note = "all legs filled on Gate" if complete else (
            "only part of the plan was filled on Gate: see each order's detail; the rebalance "
            "was not recorded, so the next plan can trade again"
        )  # fmt: skip
        report = ExecutionReport(
            as_of_ms=now, venue=VENUE, plan_digest=self.digest, plan_as_of_ms=self.plan.as_of_ms,
            dry_run=False, live=True, status=status, rebalance_recorded=complete,  # type: ignore[arg-type]
            orders=orders, note=note,
        )  # fmt: skip
        with self.store.transaction() as db:
            self.store.journal_append(
                self.digest, VENUE, [("", "done", {"status": status})], now, db
            )
            self.store.record_execution(self.digest, VENUE, now, status, dump_json(report), db)
            if complete:
                self.store.record_rebalance(self.digest, VENUE, self.plan.as_of_ms, now, db)
        return report


# --- entry point --------------------------------------------------------------------------------
def _validate_plan(plan: Plan) -> None:
    if plan.venue != VENUE:
        raise UsageError(
            f"--live sends orders to Gate, but this plan is for venue {plan.venue!r}",
            hint="plan from a Gate snapshot (btcn fetch snapshot --venue gate), or drop --live",
        )
    seen: set[Leg] = set()
    for o in plan.orders:
        if o.leg in seen:
            raise InvalidInputError(f"plan: two orders for leg {o.leg}; btcn sends one per leg")
        seen.add(o.leg)
        if LEG_OF[o.action] is not o.leg:
            raise InvalidInputError(f"plan: action {o.action} does not belong to leg {o.leg}")
        if o.qty_venue <= 0 or o.limit_price_usdt <= 0:
            raise InvalidInputError(f"plan: {o.leg} needs a positive quantity and limit price")


def gate_client_from_settings(
    settings: Any, credentials: Credentials | None, clock: Clock, *,
    transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None,
) -> GateClient:  # fmt: skip
    gs = settings.gate
    policy = retry or RetryPolicy(max_attempts=gs.max_retries + 1, clock=clock)
    return GateClient(
        gs.base_url, credentials=credentials, settle=gs.settle, timeout_s=gs.timeout_s,
        clock=clock, retry=policy, transport=transport,
    )  # fmt: skip


def execute_live(req: ExecuteRequest, digest: str, deps: LiveDeps | None = None) -> ExecutionReport:
    deps = deps or LiveDeps()
    plan = req.plan
    _validate_plan(plan)
    clock = deps.clock or SystemClock()
    if not plan.orders:
        return ExecutionReport(
            as_of_ms=req.now_ms, venue=VENUE, plan_digest=digest, plan_as_of_ms=plan.as_of_ms,
            dry_run=False, live=True, status="nothing_to_do", rebalance_recorded=False,
            orders=[], note="the plan has no orders: nothing was sent",
        )  # fmt: skip
    credentials = deps.credentials or gate_credentials()
    state_path = req.state_path or Path(req.settings.state.path)
    with StateStore(state_path) as store, store.run_lock(VENUE):
        previous = store.executed_report(digest, VENUE)
        if previous is not None:
            return already_executed_report(
                plan, digest, previous, clock.now_ms(), venue=VENUE, live=True
            )
        with gate_client_from_settings(
            req.settings, credentials, clock, transport=deps.transport, retry=deps.retry
        ) as gate:
            return LiveExecutor(plan, digest, req, gate, store, clock).run()
