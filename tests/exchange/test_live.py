"""``execute --live`` against the fake venue: every fault of the issue, crash and resume.

The executor and the fake share a virtual clock, so PostOnly windows, rate-limit waits and request
deadlines pass instantly while every wait is still asserted.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from btcn.contracts import Action, ExecutionReport, Leg, Plan, dump_json
from btcn.errors import ConfigError, ExitCode, InvalidInputError, UsageError
from btcn.exchange.credentials import Credentials
from btcn.exchange.errors import (
    PreTradeCheckFailed,
    ReconcileError,
    TransportError,
)
from btcn.exchange.live import LiveDeps, attempt_cid, execute_live
from btcn.runtime.state import StateStore
from btcn.stages.execute import ExecuteRequest, plan_digest
from tests.fakes import FakeGate, FakeServer
from tests.helpers import KEY, SECRET, VirtualClock, gate_settings, make_plan, order

D = Decimal
CREDS = Credentials(SecretStr(KEY), SecretStr(SECRET))


def spot_buy(qty: str = "0.2", limit: str = "99999.9") -> object:
    return order(Leg.BTC_SPOT, Action.BUY, qty, limit)


def short_open(qty: str = "2000", limit: str = "100000.1") -> object:
    return order(Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, qty, limit)


def basic_plan(**kw: object) -> Plan:
    return make_plan([spot_buy(), short_open()], **kw)  # type: ignore[list-item]


class Runner:
    def __init__(self, server: FakeServer, clock: VirtualClock, state: Path) -> None:
        self.server = server
        self.clock = clock
        self.state = state
        self.settings = gate_settings(server.gate_url, timeout="1s")

    def __call__(self, plan: Plan, transport: httpx.BaseTransport | None = None,
                 **gate: object) -> ExecutionReport:  # fmt: skip
        settings = (
            gate_settings(self.server.gate_url, timeout="1s", **gate) if gate else self.settings
        )
        req = ExecuteRequest(plan, settings, self.clock.now_ms(), live=True, state_path=self.state)
        deps = LiveDeps(clock=self.clock, credentials=CREDS, transport=transport)
        return execute_live(req, plan_digest(plan), deps)


@pytest.fixture
def run(server: FakeServer, vclock: VirtualClock, tmp_path: Path) -> Runner:
    return Runner(server, vclock, tmp_path / "state.db")


def creates(gate: FakeGate) -> list[str]:
    return [text for _, text, _ in gate.creations]


def assert_no_duplicates_and_no_lost_fills(gate: FakeGate, report: ExecutionReport) -> None:
    assert gate.duplicate_texts() == {}
    by_cid: dict[str, Decimal] = {}
    for o in report.orders:
        for f in o.fills:
            by_cid[f.client_order_id] = by_cid.get(f.client_order_id, D(0)) + f.qty_venue
    assert by_cid == {t: q for t, q in gate.filled_by_text().items() if t.startswith("t-btcn-")}


# --- the normal path ------------------------------------------------------------------------------
def test_postonly_then_market_completes_and_records(
    run: Runner, gate: FakeGate, vclock: VirtualClock
) -> None:
    plan = basic_plan()
    report = run(plan)
    assert report.status == "completed" and report.rebalance_recorded and report.live
    spot, short = report.orders
    assert (spot.filled_qty_venue, short.filled_qty_venue) == (D("0.2"), D(2000))
    assert spot.liquidity == short.liquidity == "mixed" and spot.market_fallback
    assert [f.liquidity for f in spot.fills] == ["maker", "taker"]
    assert spot.fills[0].price_usdt == D("99999.9")  # maker at the plan's limit
    assert spot.fills[1].price_usdt == D("100000.05")  # IOC at the best ask
    assert spot.fee_usdt == D("0.1") * D("99999.9") * D("0.001") + D("0.1") * D("100000.05") * D(
        "0.001"
    )
    assert short.fills[0].qty_btc == D("0.1000")
    assert vclock.sleeps == [5.0]  # the PostOnly window, nothing else
    assert gate.pos["short"][0] == 2000 and gate.spot["BTC"][0] == D("0.1998")
    assert_no_duplicates_and_no_lost_fills(gate, report)
    digest = plan_digest(plan)
    assert creates(gate) == [attempt_cid(digest, Leg.BTC_SPOT, "p", 1),
                             attempt_cid(digest, Leg.BTC_PERP_SHORT, "p", 1),
                             attempt_cid(digest, Leg.BTC_SPOT, "m", 1),
                             attempt_cid(digest, Leg.BTC_PERP_SHORT, "m", 1)]  # fmt: skip
    with StateStore(run.state) as store:
        assert store.last_rebalance_ms("gate") == plan.as_of_ms
        events = [e.event for e in store.journal_events(digest, "gate")]
    assert events[0] == "plan" and events[-1] == "done"
    assert events.count("intent") == 4 and events.count("final") == 4
    # Executing it again sends nothing.
    again = run(plan)
    assert again.status == "already_executed" and len(gate.creations) == 4
    assert {o.status for o in again.orders} == {"skipped_duplicate"}


def test_full_maker_fill_needs_no_market_order(
    run: Runner, gate: FakeGate, vclock: VirtualClock
) -> None:
    gate.maker_fill_fraction = {"spot": D(1), "futures": D(1)}
    report = run(basic_plan())
    assert report.status == "completed"
    assert all(o.liquidity == "maker" and not o.market_fallback for o in report.orders)
    assert len(gate.creations) == 2 and vclock.sleeps == []


def test_all_three_legs_and_closes_in_hedge_mode(run: Runner, gate: FakeGate) -> None:
    gate.spot["BTC"][0] = D("0.5")
    gate.pos["long"] = [D(300), D(99000)]
    gate.pos["short"] = [D(5000), D(101000)]
    plan = make_plan([
        order(Leg.BTC_SPOT, Action.SELL, "0.1", "100000.1"),
        order(Leg.BTC_PERP_LONG, Action.CLOSE_LONG, "300", "100000.1"),
        order(Leg.BTC_PERP_SHORT, Action.CLOSE_SHORT, "1000", "99999.9"),
    ], spot_btc="0.5", long_contracts="300", short_contracts="5000")  # fmt: skip
    report = run(plan)
    assert report.status == "completed"
    assert gate.pos["long"][0] == 0 and gate.pos["short"][0] == 4000
    assert gate.spot["BTC"] == [D("0.4"), D(0)]
    assert_no_duplicates_and_no_lost_fills(gate, report)


def test_nothing_to_do_touches_nothing(run: Runner, gate: FakeGate) -> None:
    report = run(make_plan([]))
    assert report.status == "nothing_to_do" and gate.requests == []


# --- PostOnly rejected, cancels racing fills ------------------------------------------------------
def test_post_only_rejected_for_crossing_goes_market(run: Runner, gate: FakeGate) -> None:
    plan = make_plan([spot_buy(limit="100000.1"), short_open(limit="99999.9")])  # both cross
    report = run(plan)
    assert report.status == "completed"
    for o in report.orders:
        assert o.liquidity == "taker" and "POC" in o.detail
    assert len(gate.creations) == 2  # only the market orders were accepted


def test_spot_post_only_finishing_as_poc(run: Runner, gate: FakeGate) -> None:
    gate.spot_poc_mode = "finish_as_poc"
    report = run(make_plan([spot_buy(limit="100000.1")]))
    assert report.status == "completed" and report.orders[0].liquidity == "taker"


def test_cancel_that_races_a_complete_fill(run: Runner, gate: FakeGate) -> None:
    gate.fill_on_cancel = {"spot": D(1), "futures": D(1)}
    report = run(basic_plan())
    assert report.status == "completed"
    assert all(o.liquidity == "maker" for o in report.orders)
    assert len(gate.creations) == 2  # no market remainder: the race was won by the fill
    assert_no_duplicates_and_no_lost_fills(gate, report)


def test_cancel_that_races_a_partial_fill(run: Runner, gate: FakeGate) -> None:
    gate.fill_on_cancel = {"spot": D("0.5"), "futures": D("0.5")}
    report = run(basic_plan())
    assert report.status == "completed"
    spot = report.orders[0]
    assert [f.qty_venue for f in spot.fills] == [D("0.1"), D("0.05"), D("0.05")]
    assert_no_duplicates_and_no_lost_fills(gate, report)


def test_thin_book_gives_a_clearly_reported_partial(run: Runner, gate: FakeGate) -> None:
    gate.spot_asks = [(D("100000.05"), D("0.03"))]
    report = run(basic_plan())
    assert report.status == "partial" and not report.rebalance_recorded
    spot = report.orders[0]
    assert spot.status == "partially_filled" and spot.filled_qty_venue == D("0.13")
    assert "IOC filled 0.03 of 0.1" in spot.detail  # a half-filled IOC says why
    # Hedge sized to fills: the short is cut to what spot bought (0.13 BTC = 1300 contracts).
    short = report.orders[1]
    assert short.status == "partially_filled" and short.filled_qty_venue == 1300
    assert "hedge sized to fills" in short.detail and report.hedge_rule == "perp_sized_to_spot"
    fee_btc = sum(D(t["fee"]) for t in gate.spot_trades)
    assert report.net_delta_after_btc == D("0.13") - fee_btc - D("0.13")
    with StateStore(run.state) as store:
        assert store.last_rebalance_ms("gate") is None  # cooldown not started
    assert run(basic_plan()).status == "already_executed"


def test_remainder_below_minimum_is_not_sent(run: Runner, gate: FakeGate) -> None:
    gate.maker_fill_fraction["spot"] = D("0.99995")
    report = run(make_plan([spot_buy(qty="0.2")]))
    o = report.orders[0]
    assert o.status == "partially_filled" and "below the venue minimum" in o.detail
    assert len(gate.creations) == 1


# --- ambiguous creates ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,when,status", [
    ("status", "after", 500), ("status", "after", 503), ("timeout", "after", 0),
    ("reset", "after", 0),
])  # fmt: skip
def test_lost_answer_after_the_order_was_accepted(run: Runner, gate: FakeGate, kind: str,
                                                  when: str, status: int) -> None:  # fmt: skip
    for path in ("/spot/batch_orders", "/futures/usdt/batch_orders"):
        gate.add_fault(method="POST", path=path, kind=kind, when=when, status=status or 500,
                       delay_s=1.5)  # fmt: skip
    report = run(basic_plan())
    assert report.status == "completed"
    assert gate.duplicate_texts() == {}
    assert len(gate.creations) == 4  # looked up by client id, never re-sent
    assert_no_duplicates_and_no_lost_fills(gate, report)


def test_request_refused_before_processing_is_proven_absent(run: Runner, gate: FakeGate,
                                                            vclock: VirtualClock) -> None:  # fmt: skip
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="status", status=502, times=1)
    report = run(make_plan([spot_buy()]))
    assert report.status == "completed"
    spot = report.orders[0]
    assert spot.liquidity == "taker" and "never reached Gate" in spot.detail
    # It waited for the request deadline (10 s) before concluding "absent".
    assert any(9.0 <= s <= 11.5 for s in vclock.sleeps)
    assert creates(gate) == [
        attempt_cid(plan_digest(make_plan([spot_buy()])), Leg.BTC_SPOT, "m", 1)
    ]


def test_lost_market_order_is_resent_under_a_new_id(run: Runner, gate: FakeGate) -> None:
    plan = make_plan([short_open()])
    gate.add_fault(method="POST", path="/futures/usdt/batch_orders", kind="reset", when="before",
                   times=2)  # fmt: skip
    # first batch = the PostOnly (lost before processing -> absent), second = m (lost too), m2 ok
    report = run(plan)
    digest = plan_digest(plan)
    assert report.status == "completed"
    assert creates(gate) == [attempt_cid(digest, Leg.BTC_PERP_SHORT, "m", 2)]
    assert report.orders[0].market_client_order_id.endswith("-m2")


def test_rate_limit_on_create_waits_for_the_reset(
    run: Runner, gate: FakeGate, vclock: VirtualClock
) -> None:
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="rate_limit", reset_in_s=3)
    gate.add_fault(method="GET", path="/spot/accounts", kind="rate_limit", reset_in_s=2)
    report = run(basic_plan())
    assert report.status == "completed"
    assert vclock.sleeps[:2] == [pytest.approx(2.0), pytest.approx(3.0)]
    assert gate.duplicate_texts() == {}


def test_server_errors_on_reads_are_retried(run: Runner, gate: FakeGate) -> None:
    for path in ("/futures/usdt/accounts", "/spot/my_trades", "/futures/usdt/orders/.*"):
        gate.add_fault(method="GET", path=path, kind="status", status=502, times=2)
    gate.add_fault(method="DELETE", path="/spot/orders/.*", kind="reset", when="after")
    report = run(basic_plan())
    assert report.status == "completed"
    assert_no_duplicates_and_no_lost_fills(gate, report)


def test_clock_skew_mid_run_is_recovered(run: Runner, gate: FakeGate) -> None:
    gate.skew_s = 45
    gate.add_fault(method="POST", path="/futures/usdt/batch_orders", kind="skew", delay_s=120)
    gate.add_fault(method="DELETE", path="/spot/orders/.*", kind="skew", delay_s=-300)
    report = run(basic_plan())
    assert report.status == "completed"
    assert gate.auth_failures.count("REQUEST_EXPIRED") == 2
    assert gate.duplicate_texts() == {}


# --- refusals: nothing is sent ---------------------------------------------------------------------
def test_insufficient_spot_balance_refuses_every_leg(run: Runner, gate: FakeGate) -> None:
    gate.spot["USDT"][0] = D(1000)
    with pytest.raises(PreTradeCheckFailed, match=r"BTC_SPOT: buying 0\.2 BTC needs") as info:
        run(basic_plan())
    assert info.value.exit_code == ExitCode.EXCHANGE
    assert gate.creations == [] and not any(m == "POST" for m, _, _ in gate.requests)


def test_insufficient_margin_and_oversized_close_are_refused(run: Runner, gate: FakeGate) -> None:
    gate.fut_total = D(100)
    with pytest.raises(PreTradeCheckFailed, match="margin"):
        run(basic_plan())
    gate.pos["long"] = [D(10), D(100000)]
    plan = make_plan([order(Leg.BTC_PERP_LONG, Action.CLOSE_LONG, "20", "100000.1")],
                     long_contracts="10")  # fmt: skip
    with pytest.raises(PreTradeCheckFailed, match="closing 20 contracts, 10 held"):
        run(plan)
    assert gate.creations == []


def test_venue_rejection_after_the_check_is_reported(run: Runner, gate: FakeGate) -> None:
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="status", status=400,
                   label="BALANCE_NOT_ENOUGH")  # fmt: skip
    report = run(basic_plan())
    assert report.status == "partial"
    spot, short, comp = report.orders
    assert spot.status == "rejected" and "BALANCE_NOT_ENOUGH" in spot.detail
    # The short's PostOnly had filled half as maker; its remainder is not sent (spot bought
    # nothing) and a compensating CLOSE_SHORT takes the half that filled back off: no naked leg.
    assert short.status == "partially_filled" and short.filled_qty_venue == 1000
    assert comp.action == Action.CLOSE_SHORT and comp.filled_qty_venue == 1000
    assert comp.client_order_id.endswith("-pc-m") and "compensating order" in comp.detail
    assert report.hedge_rule == "perp_reduced" and report.net_delta_after_btc == 0
    assert gate.pos["short"][0] == 0 and not report.rebalance_recorded


def test_account_that_does_not_match_the_plan_is_refused(run: Runner, gate: FakeGate) -> None:
    gate.pos["short"] = [D(1000), D(100000)]
    with pytest.raises(ReconcileError, match="perp short is 1000 contracts, expected 0"):
        run(basic_plan())
    gate.pos["short"] = [D(0), D(0)]
    gate.spot["BTC"][0] = D("0.01")
    with pytest.raises(ReconcileError, match=r"spot BTC is 0\.01, expected 0"):
        run(basic_plan())
    assert gate.creations == []


def test_open_orders_of_another_plan_are_refused(run: Runner, gate: FakeGate) -> None:
    other = make_plan([spot_buy(qty="0.05")], as_of_ms=make_plan([]).as_of_ms - 60_000)
    gate.maker_fill_fraction["spot"] = D(0)
    boom = _crash_transport(on_path="/spot/batch_orders")
    with pytest.raises(Crash):
        run(other, transport=boom)
    assert any(o.is_open for o in gate.orders.values())  # its PostOnly still rests
    with pytest.raises(ReconcileError, match="open btcn orders of another plan"):
        run(basic_plan())
    assert run(other).status == "completed"  # resuming the other plan clears it
    held = gate.spot["BTC"][0] + gate.spot["BTC"][1]  # 0.05 bought minus the fee in BTC
    assert held == D("0.04995")
    assert run(basic_plan(spot_btc=str(held))).status == "completed"


def test_orders_missing_from_the_journal_are_refused(
    run: Runner, gate: FakeGate, tmp_path: Path
) -> None:
    plan = basic_plan()
    with pytest.raises(Crash):
        run(plan, transport=_crash_transport(on_path="/futures/usdt/batch_orders"))
    run.state = tmp_path / "another-state.db"  # the journal is gone
    with pytest.raises(ReconcileError, match="not in the journal"):
        run(plan)


def test_single_position_mode_is_refused(run: Runner, gate: FakeGate) -> None:
    gate.dual_mode = False
    with pytest.raises(ReconcileError, match="dual \\(hedge\\) mode"):
        run(basic_plan())


def test_plan_not_matching_venue_rules_is_refused(run: Runner, gate: FakeGate) -> None:
    gate.multiplier = D("0.001")
    with pytest.raises(PreTradeCheckFailed, match=r"multiplier is 0\.001 BTC on Gate but 0\.0001"):
        run(basic_plan())
    gate.multiplier = D("0.0001")
    gate.price_precision = 0
    with pytest.raises(PreTradeCheckFailed, match="not a multiple of the tick 1"):
        run(basic_plan())


def test_stale_plan_is_refused(run: Runner, vclock: VirtualClock) -> None:
    vclock.advance(11 * 60_000)
    with pytest.raises(UsageError, match="max_plan_age"):
        run(basic_plan())


def test_plan_validation(run: Runner) -> None:
    with pytest.raises(UsageError, match="venue 'paper'"):
        run(basic_plan(venue="paper"))
    with pytest.raises(InvalidInputError, match="two orders for leg BTC_SPOT"):
        run(make_plan([spot_buy(), spot_buy()]))
    with pytest.raises(InvalidInputError, match="does not belong"):
        run(make_plan([order(Leg.BTC_SPOT, Action.OPEN_LONG, "1", "1")]))


def test_missing_keys(server: FakeServer, vclock: VirtualClock, tmp_path: Path) -> None:
    plan = basic_plan()
    req = ExecuteRequest(plan, gate_settings(server.gate_url), vclock.now_ms(), live=True,
                         state_path=tmp_path / "s.db")  # fmt: skip
    with pytest.raises(ConfigError, match="GATE_API_KEY"):
        execute_live(req, plan_digest(plan), LiveDeps(clock=vclock))


def test_second_concurrent_execution_is_refused(run: Runner, gate: FakeGate) -> None:
    from btcn.errors import StateError

    with StateStore(run.state) as store, store.run_lock("gate"), pytest.raises(StateError):
        run(basic_plan())


# --- crash anywhere, resume ---------------------------------------------------------------------------
class Crash(BaseException):
    """Stands for kill -9: no ``except Exception`` handler runs."""


def _crash_transport(
    after_requests: int = 0, after: bool = True, on_path: str = ""
) -> httpx.BaseTransport:
    """Crash at the n-th request, or at the first request whose path contains ``on_path``;
    ``after``: the venue receives and processes the request, btcn never sees the answer."""

    class CrashingTransport(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()
            self.count = 0

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self.count += 1
            hit = (on_path and on_path in request.url.path) or self.count == after_requests
            if hit and not after:
                raise Crash
            response = self.inner.handle_request(request)
            if hit:
                response.read()  # the venue acted; the answer never reaches btcn
                raise Crash
            return response

    return CrashingTransport()


SCENARIOS: dict[str, Callable[[FakeGate], None]] = {
    "half_maker": lambda g: None,
    "no_maker": lambda g: g.maker_fill_fraction.update(spot=D(0), futures=D(0)),
    "cancel_race": lambda g: g.fill_on_cancel.update(spot=D("0.5"), futures=D(1)),
    "poc_cross": lambda g: g.set_mid(D("99999.9"), spread=D("0.2")),
    "slow_creates": lambda g: setattr(g, "create_latency_s", 0.01),
    "lost_answer": lambda g: g.add_fault(
        method="POST", path="/futures/usdt/batch_orders", kind="status", status=502, when="after"
    ),
    "refused": lambda g: g.add_fault(
        method="POST", path="/spot/batch_orders", kind="status", status=503, when="before"
    ),
}


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    crash_at=st.integers(min_value=1, max_value=48),
    after=st.booleans(),
    scenario=st.sampled_from(sorted(SCENARIOS)),
    second_crash=st.one_of(st.none(), st.integers(min_value=1, max_value=30)),
)
def test_crash_anywhere_then_resume_never_duplicates(crash_at: int, after: bool, scenario: str,
                                                     second_crash: int | None, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """Property: kill the run at any request (before it is sent, or after the venue acted but
    before btcn saw the answer), maybe twice, then re-run: no client id is ever created twice,
    every fill is in the final report and the positions are the plan's intent."""
    clock = VirtualClock()
    gate = FakeGate(KEY, SECRET, spot_btc="0.3", long_contracts=200, short_contracts=3000,
                    clock=clock.now_s)  # fmt: skip
    SCENARIOS[scenario](gate)
    plan = make_plan([
        order(Leg.BTC_SPOT, Action.BUY, "0.2", "99999.9"),
        order(Leg.BTC_PERP_LONG, Action.CLOSE_LONG, "200", "100000.1"),
        order(Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, "2000", "100000.1"),
    ], spot_btc="0.3", long_contracts="200", short_contracts="3000")  # fmt: skip
    state = tmp_path_factory.mktemp("crash") / "state.db"
    with FakeServer(gate) as server:
        runner = Runner(server, clock, state)
        crashes = 0
        for point in (crash_at, second_crash):
            if point is None:
                continue
            try:
                runner(plan, transport=_crash_transport(point, after))
            except Crash:
                crashes += 1
            except TransportError:
                pass
        report = runner(plan)
        if report.status == "already_executed":  # the crash came after the run had finished
            with StateStore(state) as store:
                first = store.executed_report(plan_digest(plan), "gate") or ""
            report = ExecutionReport.model_validate_json(first)
    assert gate.duplicate_texts() == {}
    assert report.status == "completed", dump_json(report)
    assert_no_duplicates_and_no_lost_fills(gate, report)
    assert gate.pos["long"][0] == 0 and gate.pos["short"][0] == 5000
    assert gate.spot["BTC"][0] + gate.spot["BTC"][1] == D("0.3") + D("0.2") - sum(
        D(t["fee"]) for t in gate.spot_trades if t["fee_currency"] == "BTC"
    )


# --- look-ups when Gate's history lags, cancels that keep failing ---------------------------------
def test_finished_spot_order_is_found_in_the_order_history(run: Runner, gate: FakeGate) -> None:
    # The market (IOC) spot order finishes at once; its answer is lost. Gate no longer resolves a
    # finished spot order by text, so btcn finds it in the finished-order list.
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="status", status=502,
                   when="after", skip=1)  # fmt: skip
    report = run(make_plan([spot_buy()]))
    assert report.status == "completed" and len(gate.creations) == 2
    assert_no_duplicates_and_no_lost_fills(gate, report)


def test_order_missing_from_lagging_history_is_found_by_its_trades(
    run: Runner, gate: FakeGate
) -> None:
    gate.history_visible = False
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="reset", when="after", skip=1)
    gate.add_fault(method="POST", path="/futures/usdt/batch_orders", kind="reset", when="after",
                   skip=1)  # fmt: skip
    report = run(basic_plan())
    assert report.status == "completed" and len(gate.creations) == 4
    assert_no_duplicates_and_no_lost_fills(gate, report)


def test_fills_missing_from_the_trade_feed_are_booked_from_the_order(run: Runner, gate: FakeGate,
                                                                     vclock: VirtualClock) -> None:  # fmt: skip
    gate.trades_visible = False
    report = run(make_plan([short_open()]))
    assert report.status == "completed"
    o = report.orders[0]
    assert sum(f.qty_venue for f in o.fills) == D(2000)
    assert {f.fee_usdt for f in o.fills} == {D(0)}  # unknown until the trades appear
    assert vclock.sleeps.count(0.5) == 8  # four polls per order before giving up


def test_cancel_failures_are_retried_then_checked(run: Runner, gate: FakeGate) -> None:
    gate.add_fault(method="DELETE", path="/spot/orders/.*", kind="reset", when="before", times=2)
    report = run(make_plan([spot_buy()]), max_retries=1)
    assert report.status == "completed" and gate.duplicate_texts() == {}


def test_order_that_cannot_be_cancelled_stops_the_run_then_resumes(
    run: Runner, gate: FakeGate
) -> None:
    from btcn.exchange.errors import UncertainOrderError

    fault = gate.add_fault(method="DELETE", path="/futures/usdt/orders/.*", kind="status",
                           status=503, times=99)  # fmt: skip
    plan = make_plan([short_open()])
    with pytest.raises(UncertainOrderError, match="still open after 3 cancels") as info:
        run(plan, max_retries=0)
    assert info.value.exit_code == ExitCode.EXCHANGE and "re-run" in (info.value.hint or "")
    assert len(gate.creations) == 1  # no market order while the PostOnly may still fill
    fault.times = 0
    report = run(plan)
    assert report.status == "completed" and len(gate.creations) == 2


def test_market_remainder_given_up_after_three_lost_requests(run: Runner, gate: FakeGate) -> None:
    gate.set_mid(D("100000.2"), spread=D("0.2"))  # the PostOnly sell limit 100000.1 crosses
    gate.add_fault(method="POST", path="/futures/usdt/batch_orders", kind="reset", when="before",
                   skip=1, times=3)  # fmt: skip
    report = run(make_plan([short_open()]))
    o = report.orders[0]
    assert report.status == "failed" and o.status == "rejected"
    assert "not placed after 3 tries" in o.detail and o.detail.count("never reached Gate") == 3
    assert gate.creations == []


def test_rate_limit_that_persists_stops_then_resumes(run: Runner, gate: FakeGate) -> None:
    from btcn.exchange.errors import RateLimitedError

    fault = gate.add_fault(method="POST", path="/spot/batch_orders", kind="rate_limit", times=99)
    plan = make_plan([spot_buy()])
    with pytest.raises(RateLimitedError):
        run(plan, max_retries=1)
    fault.times = 0
    report = run(plan)
    assert report.status == "completed"
    assert "never reached Gate" in report.orders[0].detail  # the refused PostOnly


def test_request_arriving_after_its_deadline_is_refused_and_replaced(
    run: Runner, gate: FakeGate
) -> None:
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="skew", delay_s=20)
    report = run(make_plan([spot_buy()]))
    assert report.status == "completed"
    assert "never reached Gate" in report.orders[0].detail
    assert creates(gate) == [
        attempt_cid(plan_digest(make_plan([spot_buy()])), Leg.BTC_SPOT, "m", 1)
    ]


def test_rules_and_minimums_are_checked_before_sending(run: Runner, gate: FakeGate) -> None:
    gate.trade_status = "untradable"
    gate.amount_precision = 2
    plan = make_plan(
        [spot_buy(qty="0.123"), order(Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, "1.5", "100000.1")]
    )
    with pytest.raises(PreTradeCheckFailed) as info:
        run(plan)
    for part in ("BTC_USDT is not tradable", "not a multiple of 0.01", "not a whole number"):
        assert part in info.value.message
    gate.trade_status, gate.amount_precision = "tradable", 6
    gate.spot["BTC"][0] = D("0.00001")
    tiny = make_plan([order(Leg.BTC_SPOT, Action.SELL, "0.00001", "100000.1")], spot_btc="0.00001")
    with pytest.raises(PreTradeCheckFailed, match="below the minimum"):
        run(tiny)
    gate.spot["BTC"][0] = D(0)
    with pytest.raises(PreTradeCheckFailed, match=r"selling 0\.1 BTC, 0 BTC available"):
        run(make_plan([order(Leg.BTC_SPOT, Action.SELL, "0.1", "100000.1")]))
    gate.order_size_max = D(100)
    with pytest.raises(PreTradeCheckFailed, match=r"2000 contracts outside \[1, 100\]"):
        run(make_plan([short_open()]))
    assert gate.creations == []
