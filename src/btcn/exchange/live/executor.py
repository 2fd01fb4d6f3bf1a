"""The executor: one run of a plan, from the journal to the report."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from btcn.contracts import Action, ExecutionReport, Leg, Plan, dump_json
from btcn.core.legs import LEG_OF, delta_sign
from btcn.errors import InvalidInputError, UsageError
from btcn.exchange.clock import Clock, SystemClock
from btcn.exchange.credentials import Credentials, gate_credentials
from btcn.exchange.duplicates import already_executed_report
from btcn.exchange.errors import PreTradeCheckFailed
from btcn.exchange.gate import GateClient
from btcn.exchange.gate_unified import check_live_account
from btcn.exchange.journal import DonePayload, PlanPayload, order_report, run_key
from btcn.exchange.live.compensate import Compensator
from btcn.exchange.live.phases import Phases
from btcn.exchange.live.precheck import PreChecker
from btcn.exchange.live.reconcile import Reconciler
from btcn.exchange.live.resolve import Resolver
from btcn.exchange.live.state import VENUE, LiveContext, LiveState
from btcn.exchange.live.treasury import Treasury
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


class LiveExecutor:
    """One run of a plan, composed of explicit components sharing one typed state
    (:class:`~btcn.exchange.live.state.LiveState`): reconcile, pre-check, phases, legging
    (compensation) and treasury. Each component is given the components it calls."""

    def __init__(
        self, plan: Plan, digest: str, req: ExecuteRequest, gate: GateClient, store: StateStore,
        clock: Clock,
    ) -> None:  # fmt: skip
        self.st = LiveState.for_plan(plan, digest)
        self.cx = LiveContext(self.st, gate, store, clock, req.settings)
        self.gate = gate
        self.clock = clock
        self.resolver = Resolver(self.cx)
        self.reconciler = Reconciler(self.cx, self.resolver)
        self.prechecker = PreChecker(self.cx)
        self.phases = Phases(self.cx, self.resolver, self.prechecker)
        self.legging = Compensator(self.cx, self.phases)
        self.treasury = Treasury(self.cx)

    # --- entry ------------------------------------------------------------------------------------
    def run(self) -> ExecutionReport:
        st, gs = self.st, self.cx.gs
        resumed = st.fold(self.cx.store)
        now = self.clock.now_ms()
        if not resumed and now - st.plan.as_of_ms > gs.max_plan_age_ms:
            raise UsageError(
                f"plan is {(now - st.plan.as_of_ms) // 1000} s old; [gate] max_plan_age is "
                f"{gs.max_plan_age}",
                hint="take a fresh snapshot and plan again (btcn fetch snapshot --venue gate)",
            )
        self.gate.sync_clock()
        # the account's mode must be the configured one; a unified account takes no transfers
        check_live_account(self.gate, self.cx.settings.account.mode, st.plan)
        if abs(self.gate.offset_ms) > 5_000:
            log.warning("local clock is %.1f s off Gate's; using Gate's time",
                        self.gate.offset_ms / 1000)  # fmt: skip
        self.reconciler.check_rules()
        if resumed:
            log.info("resuming plan %s from the journal", st.digest[:12])
        else:
            payload: PlanPayload = {
                "as_of_ms": st.plan.as_of_ms,
                "orders": [o.model_dump(mode="json") for o in st.plan.orders],
                "transfers": [t.model_dump(mode="json") for t in st.plan.transfers],
            }
            self.cx.journal([("", "plan", payload)])
            st.first_ms = now
        self.treasury.resolve_transfers()  # a transfer with an unknown outcome is decided first
        for a in list(st.by_cid.values()):
            if not a.settled:
                self.resolver.settle(a)
        self.reconciler.reconcile()
        if st.legs:
            self.prechecker.pre_check(self.treasury.planned_shift("before_orders"))
        self.phases.realise_phase()
        if self.treasury.transfers_due("before_orders"):
            self.treasury.do_transfers("before_orders")
            self.reconciler.read_balances()
            if st.legs:
                self.prechecker.pre_check()
        self.phases.post_only_phase()
        self.phases.market_phase()
        self.legging.compensate()
        self.treasury.after_orders(all(
            run.filled == run.order.qty_venue
            for run in st.legs.values() if run.purpose != "compensate"
        ))  # fmt: skip
        return self._finish()

    # --- report ---------------------------------------------------------------------------------------
    def _executed_net_delta(self) -> Decimal:
        """The plan's starting net delta plus every fill (spot buys net of their BTC fee)."""
        base = self.st.pair_rules.base.upper() if self.st.pair_rules else "BTC"
        delta = self.st.plan.net_delta_btc
        for run in self.st.legs.values():
            sign = delta_sign(run.order.action)
            unit = Decimal(1) if run.order.leg is Leg.BTC_SPOT else self.st.mult
            for a in run.attempts:
                if a.state != "final":
                    continue
                for f in a.fills:
                    delta += sign * Decimal(f["qty"]) * unit
                    if run.order.leg is Leg.BTC_SPOT and f["fee_currency"].upper() == base:
                        delta -= Decimal(f["fee"])
        return delta

    def _hedge_rule(self) -> str:
        if abs(self.legging.unmatched()) > self.st.mult / 2:
            return "deviation_reported"
        if any(r.purpose == "compensate" and r.filled > 0 for r in self.st.legs.values()):
            return "perp_reduced"
        for rule in ("spot_sized_to_perp", "perp_sized_to_spot"):
            if rule in self.st.hedge_rules:
                return rule
        return "as_planned"

    def _finish(self) -> ExecutionReport:
        plan = self.st.plan
        orders = [
            order_report(self.st.legs[run_key(o.leg, o.purpose)], self.st.digest, self.st.mult)
            for o in plan.orders
        ] + [
            order_report(r, self.st.digest, self.st.mult)
            for r in self.st.legs.values() if r.purpose == "compensate"
        ]  # fmt: skip
        transfers = self.treasury.transfer_reports()
        planned = orders[: len(plan.orders)]
        orders_complete = all(o.status == "filled" for o in planned) and len(orders) == len(planned)
        transfers_ok = all(t.status in ("done", "skipped") for t in transfers)
        traded = any(o.filled_qty_venue > 0 for o in orders) or any(
            t.status == "done" for t in transfers
        )
        executed = self._executed_net_delta() if orders else None
        drift = self._drift_note(executed)
        complete = orders_complete and transfers_ok and not drift
        status = "completed" if complete else "partial" if traded else "failed"
        now = self.clock.now_ms()
        if complete:
            note = "all legs filled on Gate" if orders else "every transfer done on Gate"
            if orders and transfers:
                note += "; every transfer done"
        else:
            parts = []
            if not orders_complete:
                parts.append("only part of the plan was filled on Gate: see each order's detail")
            if not transfers_ok:
                parts.append("a planned transfer was not done: see transfers")
            if drift:
                parts.append(drift)
            note = "; ".join(parts) + (
                "; the rebalance was not recorded, so the next plan can trade again"
            )
        report = ExecutionReport(
            as_of_ms=now, venue=VENUE, plan_digest=self.st.digest, plan_as_of_ms=plan.as_of_ms,
            dry_run=False, live=True, status=status, rebalance_recorded=complete and bool(orders),  # type: ignore[arg-type]
            orders=orders, note=note, transfers=transfers, net_delta_after_btc=executed,
            hedge_rule=self._hedge_rule() if orders else None,  # type: ignore[arg-type]
        )  # fmt: skip
        with self.cx.store.transaction() as db:
            self.cx.store.journal_append(
                self.st.digest, VENUE, [("", "done", DonePayload(status=status))], now, db
            )
            self.cx.store.record_execution(
                self.st.digest, VENUE, now, status, dump_json(report), db
            )
            if complete and orders:
                self.cx.store.record_rebalance(self.st.digest, VENUE, plan.as_of_ms, now, db)
        return report

    def _drift_note(self, executed: Decimal | None) -> str:
        """Non-empty when the executed net delta is beyond ``max_delta_drift`` of NAV (and that
        far from what the plan itself intended)."""
        plan = self.st.plan
        if executed is None or plan.nav_usdt <= 0:
            return ""
        limit = plan.max_delta_drift
        if limit is None:
            limit = self.cx.settings.strategy.max_delta_drift
        pct = abs(executed) * plan.p_ref_usdt / plan.nav_usdt
        off = abs(executed - plan.net_delta_after_btc) * plan.p_ref_usdt / plan.nav_usdt
        if pct > Decimal(str(limit)) and off > Decimal(str(limit)):
            return (
                f"net delta after the run is {executed} BTC ({float(pct) * 100:.3f} % of NAV), "
                f"beyond max_delta_drift {limit * 100:g} % (the plan intended "
                f"{plan.net_delta_after_btc} BTC)"
            )
        return ""


# --- entry point --------------------------------------------------------------------------------
def _validate_plan(plan: Plan) -> None:
    if plan.venue != VENUE:
        raise UsageError(
            f"--live sends orders to Gate, but this plan is for venue {plan.venue!r}",
            hint="plan from a Gate snapshot (btcn fetch snapshot --venue gate), or drop --live",
        )
    for t in plan.transfers:
        if t.from_ == t.to:
            raise PreTradeCheckFailed(
                f"plan: a transfer from {t.from_} to {t.to} cannot be performed: nothing was sent"
            )
    seen: set[object] = set()
    for o in plan.orders:
        key = run_key(o.leg, o.purpose)
        if key in seen:
            what = "orders" if o.purpose == "rebalance" else "realise orders"
            raise InvalidInputError(f"plan: two {what} for leg {o.leg}; btcn sends one per leg")
        seen.add(key)
        if LEG_OF[o.action] is not o.leg:
            raise InvalidInputError(f"plan: action {o.action} does not belong to leg {o.leg}")
        if o.qty_venue <= 0 or o.limit_price_usdt <= 0:
            raise InvalidInputError(f"plan: {o.leg} needs a positive quantity and limit price")
        if o.purpose == "realise" and o.action not in (Action.CLOSE_SHORT, Action.CLOSE_LONG):
            raise PreTradeCheckFailed(
                f"plan: a realise order must close a perp position, not {o.action}: nothing was "
                "sent"
            )


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
    if not plan.orders and not plan.transfers:
        return ExecutionReport(
            as_of_ms=req.now_ms, venue=VENUE, plan_digest=digest, plan_as_of_ms=plan.as_of_ms,
            dry_run=False, live=True, status="nothing_to_do", rebalance_recorded=False,
            orders=[], note="the plan has no orders and no transfers: nothing was sent",
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
