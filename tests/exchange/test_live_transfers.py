"""``execute --live`` performs the plan's wallet transfers: amounts recomputed from the balances,
every fault of ``POST /wallet/transfers`` and a kill between send and answer decided from the
futures ledger and the balances — never doubled, never lost."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from btcn.contracts import Action, ExecutionReport, Leg
from btcn.core.treasury import applied_amount
from btcn.exchange.errors import RejectedError, UncertainTransferError
from btcn.exchange.gate import GateClient
from btcn.runtime.state import StateStore
from btcn.stages.execute import plan_digest
from tests.exchange.live_support import (
    CREDS,
    Crash,
    D,
    Runner,
    crash_transport,
    hedged_plan,
    no_double_or_lost_transfers,
    short_open,
    spot_buy,
    transfer,
)
from tests.fakes import FakeGate, FakeServer
from tests.helpers import KEY, SECRET, VirtualClock, make_plan, order


def nth_request_crash(n: int, after: bool) -> httpx.BaseTransport:
    """kill -9 at the n-th request of a run (any path)."""
    return crash_transport("/api/v4", after=after, nth=n)


@pytest.fixture
def run(server: FakeServer, vclock: VirtualClock, tmp_path: Path) -> Runner:
    return Runner(server, vclock, tmp_path / "state.db")


def _posts(gate: FakeGate) -> list[str]:
    return [path for method, path, _ in gate.requests if method == "POST"]


def test_margin_transfer_goes_before_the_orders(run: Runner, gate: FakeGate) -> None:
    gate.fut_total = D(1000)  # not enough margin for 2000 contracts without the transfer
    plan = hedged_plan(transfers=[transfer("spot", "futures", "3000")])
    report = run(plan)
    assert report.status == "completed" and report.rebalance_recorded
    (t,) = report.transfers
    assert (t.status, t.amount_usdt, t.from_, t.to) == ("done", D(3000), "spot", "futures")
    assert t.tx_id == str(gate.transfers[0]["tx_id"])
    posts = _posts(gate)
    assert posts[0] == "/wallet/transfers" and posts[1:3] == [
        "/spot/batch_orders", "/futures/usdt/batch_orders"]  # fmt: skip
    assert gate.account_book[0]["type"] == "dnw" and gate.account_book[0]["change"] == "3000"
    no_double_or_lost_transfers(gate, report)
    again = run(plan)
    assert again.status == "already_executed" and len(gate.transfers) == 1
    raw = report.model_dump(mode="json")
    assert raw["schema_version"] == 3 and raw["transfers"][0]["from"] == "spot"


def test_amount_is_capped_to_what_the_source_has(run: Runner, gate: FakeGate) -> None:
    gate.spot["USDT"][0] = D("1234.567")
    report = run(make_plan([], transfers=[transfer("spot", "futures", "5000", reason="margin")]))
    (t,) = report.transfers
    assert t.status == "done" and t.amount_usdt == D("1234.56") and "capped" in t.detail
    assert report.status == "completed" and not report.rebalance_recorded  # not a rebalance


def test_unrealised_profit_is_never_transferred(run: Runner, gate: FakeGate) -> None:
    # A short opened at 110000 with the mark at 100000: 2000 contracts hold 2000 USDT of profit.
    gate.pos["short"] = [D(2000), D(110000)]
    gate.fut_total = D(3000)  # margin used 2000 * 0.0001 * 110000 / 10 = 2200
    plan = make_plan(
        [],
        short_contracts="2000",
        transfers=[transfer("futures", "spot", "4000", "after_orders", "sweep")],
    )
    report = run(plan)
    (t,) = report.transfers
    assert t.status == "done" and t.amount_usdt == D(800)  # available, not available + profit
    assert gate.spot["USDT"][0] == D(50800)


def test_fake_refuses_more_than_available(server: FakeServer, gate: FakeGate,
                                          vclock: VirtualClock) -> None:  # fmt: skip
    gate.pos["short"] = [D(2000), D(110000)]
    gate.fut_total = D(3000)
    with GateClient(server.gate_url, credentials=CREDS, clock=vclock) as client:
        with pytest.raises(RejectedError) as info:
            client.transfer("USDT", "futures", "spot", D(801))
        assert info.value.label == "BALANCE_NOT_ENOUGH"
        assert client.transfer("USDT", "futures", "spot", D(800)) is not None
        gate.transfer_answer = "204"
        assert client.transfer("USDT", "spot", "futures", D(1)) is None
        entries = client.transfer_ledger(0)
    assert [e.change for e in entries] == ["1", "-800"]  # newest first


def test_dust_is_skipped(run: Runner, gate: FakeGate) -> None:
    gate.fut_total = D("0.004")
    report = run(make_plan([], transfers=[transfer("futures", "spot", "50", "after_orders",
                                                   "sweep")]))  # fmt: skip
    (t,) = report.transfers
    assert t.status == "skipped" and gate.transfers == []
    assert report.status == "completed"


def test_refused_transfer_is_reported_and_the_run_is_partial(run: Runner, gate: FakeGate) -> None:
    gate.add_fault(method="POST", path="/wallet/transfers", kind="status", status=400,
                   label="BALANCE_NOT_ENOUGH")  # fmt: skip
    report = run(hedged_plan(transfers=[transfer("spot", "futures", "100")]))
    (t,) = report.transfers
    assert t.status == "refused" and "BALANCE_NOT_ENOUGH" in t.detail
    assert report.status == "partial" and not report.rebalance_recorded
    assert gate.transfers == []


def test_sweep_waits_when_the_orders_did_not_fill(run: Runner, gate: FakeGate) -> None:
    gate.spot_asks = [(D("100000.05"), D("0.03"))]  # thin book: the spot leg fills partly
    plan = hedged_plan(transfers=[transfer("futures", "spot", "100", "after_orders", "sweep")])
    report = run(plan)
    (t,) = report.transfers
    assert t.status == "not_sent" and "margin stays in futures" in t.detail
    assert gate.transfers == []


FAULTS = [
    ("timeout", "after"), ("timeout", "before"), ("status", "after"), ("status", "before"),
    ("reset", "after"), ("reset", "before"),
]  # fmt: skip


@pytest.mark.parametrize("kind,when", FAULTS)
@pytest.mark.parametrize("direction", ["before_orders", "after_orders"])
def test_every_fault_on_a_transfer_is_decided_without_doubling(
    run: Runner, gate: FakeGate, kind: str, when: str, direction: str
) -> None:
    gate.add_fault(method="POST", path="/wallet/transfers", kind=kind, when=when, status=502,
                   delay_s=1.5)  # fmt: skip
    t = (transfer("spot", "futures", "2500") if direction == "before_orders"
         else transfer("futures", "spot", "2500", "after_orders", "sweep"))  # fmt: skip
    report = run(hedged_plan(transfers=[t]))
    assert len(gate.transfers) == 1  # applied exactly once, whatever the fault
    (done,) = report.transfers
    assert done.status == "done" and done.amount_usdt == D(2500)
    if when == "after":
        assert "confirmed from the futures ledger" in done.detail
    else:
        assert "never reached Gate" in done.detail  # decided absent, then sent again
    no_double_or_lost_transfers(gate, report)
    assert report.status == "completed"


@pytest.mark.parametrize("after", [True, False])
def test_kill_between_send_and_answer_then_resume(run: Runner, gate: FakeGate,
                                                  after: bool) -> None:  # fmt: skip
    plan = hedged_plan(transfers=[transfer("spot", "futures", "2500")])
    with pytest.raises(Crash):
        run(plan, transport=crash_transport("/wallet/transfers", after=after))
    assert len(gate.transfers) == (1 if after else 0)
    assert gate.creations == []  # no order before the transfer is decided
    report = run(plan)
    assert len(gate.transfers) == 1 and report.status == "completed"
    no_double_or_lost_transfers(gate, report)
    with StateStore(run.state) as store:
        events = [(e.client_order_id, e.event) for e in store.journal_events(plan_digest(plan),
                                                                              "gate")]  # fmt: skip
    xfer = [e for c, e in events if c == "xfer-0"]
    assert xfer == (["intent", "done"] if after else ["intent", "absent", "intent", "done"])
    # The transfer was decided before any order was sent.
    first_order = next(i for i, (c, e) in enumerate(events) if c.startswith("t-btcn-"))
    assert max(i for i, (c, _) in enumerate(events) if c == "xfer-0") < first_order


def test_kill_after_sending_an_after_orders_transfer(run: Runner, gate: FakeGate) -> None:
    plan = hedged_plan(transfers=[transfer("futures", "spot", "700", "after_orders", "sweep")])
    with pytest.raises(Crash):
        run(plan, transport=crash_transport("/wallet/transfers", after=True))
    report = run(plan)
    assert len(gate.transfers) == 1 and report.status == "completed"
    assert len(gate.creations) == 4  # the orders were not sent again
    no_double_or_lost_transfers(gate, report)


def test_two_transfers_of_the_same_amount_are_not_confused(run: Runner, gate: FakeGate) -> None:
    # The ledger entry of the first is claimed by it; the second must find its own.
    gate.add_fault(method="POST", path="/wallet/transfers", kind="status", status=502,
                   when="after", times=2)  # fmt: skip
    plan = hedged_plan(transfers=[transfer("spot", "futures", "500"),
                                  transfer("spot", "futures", "500", reason="liquidation_guard")])  # fmt: skip
    report = run(plan)
    assert len(gate.transfers) == 2
    assert [t.status for t in report.transfers] == ["done", "done"]
    no_double_or_lost_transfers(gate, report)


def test_balances_that_contradict_the_ledger_stop_the_run(run: Runner, gate: FakeGate) -> None:
    plan = hedged_plan(transfers=[transfer("spot", "futures", "2500")])
    with pytest.raises(Crash):
        run(plan, transport=crash_transport("/wallet/transfers", after=False))
    gate.spot["USDT"][0] -= D(7)  # someone moved money meanwhile
    with pytest.raises(UncertainTransferError, match="balances moved") as info:
        run(plan)
    assert info.value.exit_code == 6 and gate.creations == [] and gate.transfers == []
    # A minute later the ledger alone decides: no entry, so it never happened; sent once now.
    run.clock.advance(61_000)
    report = run(plan, max_plan_age="1h")
    assert len(gate.transfers) == 1 and report.transfers[0].status == "done"


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(crash_at=st.integers(min_value=1, max_value=45), after=st.booleans(),
       second=st.one_of(st.none(), st.integers(min_value=1, max_value=30)),
       realise=st.booleans())  # fmt: skip
# found by this property: a crash just before the realise order left a resume that no longer
# counted its profit, so the pre-trade check saw an empty futures wallet and refused the plan
@example(crash_at=16, after=False, second=None, realise=True)
def test_crash_anywhere_with_transfers_never_doubles(crash_at: int, after: bool,
                                                    second: int | None, realise: bool,
                                                    tmp_path_factory) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """Property: kill the run at any request (before sending or after the venue acted), maybe
    twice, then resume: every order id created once, every transfer applied at most once and
    reported exactly as applied, and the plan finishes."""
    clock = VirtualClock()
    gate = FakeGate(KEY, SECRET, spot_btc="0.3", short_contracts=3000, entry_price="110000",
                    clock=clock.now_s)  # fmt: skip
    gate.spot["USDT"][0] = D(850)
    gate.fut_total = D(3500)
    orders = [spot_buy("0.009"), short_open("90" if not realise else "1090")]
    if realise:
        orders.insert(1, order(Leg.BTC_PERP_SHORT, Action.CLOSE_SHORT, "1000", "99999.9")
                      .model_copy(update={"purpose": "realise"}))  # fmt: skip
    plan = make_plan(orders, spot_btc="0.3", short_contracts="3000", transfers=[
        transfer("futures", "spot", "600" if realise else "100", reason="fund_spot"),
        transfer("spot", "futures", "40", "after_orders", "margin"),
    ])  # fmt: skip
    state = tmp_path_factory.mktemp("xcrash") / "state.db"
    with FakeServer(gate) as server:
        runner = Runner(server, clock, state)
        for point in (crash_at, second):
            if point is None:
                continue
            with contextlib.suppress(Crash):
                runner(plan, transport=nth_request_crash(point, after))
        report = runner(plan)
        if report.status == "already_executed":
            with StateStore(state) as store:
                first = store.executed_report(plan_digest(plan), "gate") or ""
            report = ExecutionReport.model_validate_json(first)
    assert gate.duplicate_texts() == {}
    assert report.status == "completed", report.note
    assert len(gate.transfers) == 2
    no_double_or_lost_transfers(gate, report)
    assert gate.pos["short"][0] == 3090


def test_live_applies_the_cores_amount_rule_and_minimum(run: Runner, gate: FakeGate) -> None:
    """The amount moved is :func:`btcn.core.treasury.applied_amount` of the balances read just
    before: capped by the source's available and floored to the cent; under the core's minimum
    (1 USDT) nothing is sent, as in paper and the backtest."""
    gate.spot["USDT"] = [D("1234.5678"), D(0)]
    report = run(make_plan([], transfers=[transfer("spot", "futures", "5000")]))
    (t,) = report.transfers
    assert t.status == "done" and t.amount_usdt == applied_amount(D(5000), D("1234.5678"), D(1))
    assert gate.transfers[0]["amount"] == D("1234.56")


def test_an_amount_under_the_minimum_is_not_sent(run: Runner, gate: FakeGate) -> None:
    gate.spot["USDT"] = [D("0.99"), D(0)]  # a cent floor would have sent 0.99
    report = run(make_plan([], transfers=[transfer("spot", "futures", "50")]))
    (t,) = report.transfers
    assert t.status == "skipped" and "1 USDT minimum" in t.detail and gate.transfers == []
