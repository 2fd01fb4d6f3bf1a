"""Shared by the live-executor tests: a runner against the fake Gate, crash transports."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
from pydantic import SecretStr

from btcn.contracts import Action, ExecutionReport, Leg, Plan, PlannedOrder, PlannedTransfer
from btcn.exchange.credentials import Credentials
from btcn.exchange.live import LiveDeps, execute_live
from btcn.stages.execute import ExecuteRequest, plan_digest
from tests.fakes import FakeGate, FakeServer
from tests.helpers import KEY, SECRET, VirtualClock, gate_settings, make_plan, order

D = Decimal
CREDS = Credentials(SecretStr(KEY), SecretStr(SECRET))


def spot_buy(qty: str = "0.2", limit: str = "99999.9") -> PlannedOrder:
    return order(Leg.BTC_SPOT, Action.BUY, qty, limit)


def short_open(qty: str = "2000", limit: str = "100000.1") -> PlannedOrder:
    return order(Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, qty, limit)


def transfer(frm: str, to: str, amount: str, when: str = "before_orders",
             reason: str = "margin") -> PlannedTransfer:  # fmt: skip
    return PlannedTransfer.model_validate(
        {"from": frm, "to": to, "amount_usdt": amount, "reason": reason, "when": when}
    )


def hedged_plan(**kw: object) -> Plan:
    return make_plan([spot_buy(), short_open()], **kw)  # type: ignore[arg-type]


class Runner:
    def __init__(self, server: FakeServer, clock: VirtualClock, state: Path) -> None:
        self.server = server
        self.clock = clock
        self.state = state

    def __call__(self, plan: Plan, transport: httpx.BaseTransport | None = None,
                 **gate: object) -> ExecutionReport:  # fmt: skip
        settings = gate_settings(self.server.gate_url, timeout="1s", **gate)
        req = ExecuteRequest(plan, settings, self.clock.now_ms(), live=True, state_path=self.state)
        deps = LiveDeps(clock=self.clock, credentials=CREDS, transport=transport)
        return execute_live(req, plan_digest(plan), deps)


class Crash(BaseException):
    """Stands for kill -9: no ``except Exception`` handler runs."""


def crash_transport(on_path: str, after: bool = True, nth: int = 1) -> httpx.BaseTransport:
    """Crash at the ``nth`` request whose path contains ``on_path``; ``after``: the venue
    processes it and btcn never sees the answer."""

    class CrashingTransport(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()
            self.seen = 0

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            hit = False
            if on_path in request.url.path:
                self.seen += 1
                hit = self.seen == nth
            if hit and not after:
                raise Crash
            response = self.inner.handle_request(request)
            if hit:
                response.read()
                raise Crash
            return response

    return CrashingTransport()


def no_double_or_lost_transfers(gate: FakeGate, report: ExecutionReport) -> None:
    """Every transfer Gate applied is reported done (same amount), and nothing else is."""
    done = sorted(t.amount_usdt for t in report.transfers if t.status == "done")
    applied = sorted(t["amount"] for t in gate.transfers)
    assert done == applied, (done, applied)
