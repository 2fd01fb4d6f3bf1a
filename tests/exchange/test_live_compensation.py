"""Compensating orders never open what the plan closes; the report is the venue's, order by order.

The held-out trial of issue 16: a plan BUYs spot, CLOSE_LONGs the whole long and CLOSE_SHORTs part
of the short; the perp PostOnly orders fill at once, the spot IOC is refused
``BALANCE_NOT_ENOUGH``. btcn used to compensate with an OPEN_LONG (``…-lc-m``, not reduce-only)
on the long whose target is zero, and the report claimed BTC_PERP_LONG filled 166.
"""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from benchmarks.fault_suite import compensating_opens, report_fills_by_leg, venue_fills_by_leg
from btcn.cli.app import app
from btcn.cli.render import execution_table
from btcn.contracts import Action, ExecutionReport, Leg, dump_json, parse_artifact
from btcn.core.legs import delta_sign
from btcn.errors import ExchangeError, InvalidInputError
from btcn.exchange.journal import ORDER_PAYLOADS, PLAN_PAYLOADS, TRANSFER_PAYLOADS
from btcn.exchange.live.compensate import PerpSide, compensation_choices, contracts_for
from btcn.runtime.state import StateStore
from btcn.stages.execute import plan_digest
from tests.exchange.live_support import (
    Crash,
    D,
    Runner,
    crash_transport,
    hedged_plan,
    spot_buy,
    transfer,
)
from tests.fakes import FakeGate, FakeServer
from tests.helpers import KEY, SECRET, VirtualClock, make_plan, order


@pytest.fixture
def run(server: FakeServer, vclock: VirtualClock, tmp_path: Path) -> Runner:
    return Runner(server, vclock, tmp_path / "state.db")


def venue_position_change(gate: FakeGate, side: str) -> Decimal:
    """Contracts the venue's trade history added to one side of the hedge-mode position."""
    total = D(0)
    for o in gate.orders.values():
        if o.market != "futures" or o.filled == 0:
            continue
        pos_side = ("short" if o.side == "buy" else "long") if o.reduce_only else (
            "long" if o.side == "buy" else "short"
        )  # fmt: skip
        if pos_side == side:
            total += -o.filled if o.reduce_only else o.filled
    return total


def report_position_change(report: ExecutionReport, leg: Leg) -> Decimal:
    total = D(0)
    for o in report.orders:
        if o.leg is leg:
            sign = 1 if o.action.value.startswith("OPEN") else -1
            total += sign * o.filled_qty_venue
    return total


def test_refused_spot_buy_is_compensated_on_the_short_never_by_reopening_the_long(
    run: Runner, gate: FakeGate
) -> None:
    gate.spot["BTC"] = [D("0.075"), D(0)]
    gate.pos["long"] = [D(250), D(100000)]
    gate.pos["short"] = [D(1000), D(100000)]
    gate.maker_fill_fraction = {"spot": D(0), "futures": D(1)}  # the perp PostOnly fill at once
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="status", status=400,
                   label="BALANCE_NOT_ENOUGH", skip=1)  # fmt: skip  # the IOC, not the PostOnly
    plan = make_plan(
        [spot_buy("0.0166", "99999.9"),
         order(Leg.BTC_PERP_LONG, Action.CLOSE_LONG, "250", "100000.1"),
         order(Leg.BTC_PERP_SHORT, Action.CLOSE_SHORT, "84", "99999.9")],
        spot_btc="0.075", long_contracts="250", short_contracts="1000",
    )  # fmt: skip
    report = run(plan)
    # The long's target is zero: nothing may open it again.
    opens = [o for o in gate.orders.values() if o.market == "futures" and not o.reduce_only]
    assert opens == [] and gate.pos["long"][0] == 0
    comps = [o for o in report.orders if o.purpose == "compensate"]
    assert [(c.leg, c.action, c.filled_qty_venue) for c in comps] == [
        (Leg.BTC_PERP_SHORT, Action.CLOSE_SHORT, D(166))
    ]
    assert comps[0].client_order_id.endswith("-pc-m")
    assert gate.pos["short"][0] == 1000 - 84 - 166
    assert report.hedge_rule == "perp_reduced" and abs(report.net_delta_after_btc or 0) < D("1e-4")
    # Per leg, the report's fills are the venue's.
    assert report_position_change(report, Leg.BTC_PERP_LONG) == venue_position_change(gate, "long")
    assert report_position_change(report, Leg.BTC_PERP_SHORT) == venue_position_change(
        gate, "short"
    )
    close_long = next(o for o in report.orders if o.leg is Leg.BTC_PERP_LONG)
    assert (close_long.action, close_long.filled_qty_venue) == (Action.CLOSE_LONG, D(250))


# --- the rule, directly ------------------------------------------------------------------------------
contracts = st.integers(min_value=0, max_value=5000).map(Decimal)


@st.composite
def perp_sides(draw: st.DrawFn) -> tuple[PerpSide, PerpSide]:
    out = []
    for leg in (Leg.BTC_PERP_LONG, Leg.BTC_PERP_SHORT):
        start, change = draw(contracts), draw(st.integers(-5000, 5000))
        target = max(start + change, D(0))
        held = draw(contracts)
        out.append(PerpSide(leg, held, target, target < start))
    return out[0], out[1]


@given(perp_sides(), st.integers(-10_000, 10_000).map(lambda n: Decimal(n) / 10_000), contracts)
def test_a_compensating_order_never_opens_a_zero_target_or_a_reduced_side(
    sides: tuple[PerpSide, PerpSide], need_btc: Decimal, budget: Decimal
) -> None:
    long, short = sides
    choices = compensation_choices(need_btc, long, short, budget)
    by_leg = {Leg.BTC_PERP_LONG: long, Leg.BTC_PERP_SHORT: short}
    for leg, action, cap in choices:
        side = by_leg[leg]
        assert 0 < cap <= budget and delta_sign(action) * need_btc > 0  # the right way
        if action.value.startswith("OPEN"):
            assert side.target > 0 and not side.plan_reduces
            assert side.held + cap <= side.target  # never beyond the target
        else:
            assert cap <= side.held  # reduce-only: never past zero
    if choices and len(choices) == 2:
        assert choices[0][1].value.startswith("CLOSE")  # reduce-only first


def test_the_rule_by_hand() -> None:
    long = PerpSide(Leg.BTC_PERP_LONG, D(0), D(0), True)  # closed by the plan
    short = PerpSide(Leg.BTC_PERP_SHORT, D(916), D(916), True)
    assert compensation_choices(D("0.0166"), long, short, D(250)) == [
        (Leg.BTC_PERP_SHORT, Action.CLOSE_SHORT, D(250))
    ]
    # delta in excess and no long to close: the short may grow only if the plan grows it
    assert compensation_choices(D("-0.01"), long, short, D(5000)) == []
    growing = PerpSide(Leg.BTC_PERP_SHORT, D(500), D(2000), False)
    assert compensation_choices(D("-0.01"), long, growing, D(5000)) == [
        (Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, D(1500))
    ]
    assert compensation_choices(D("-0.01"), long, growing, D(0)) == []  # nothing filled
    assert contracts_for(D("0.01665"), D("0.0001")) == 166  # ties to even


# --- the report contract ------------------------------------------------------------------------------
def test_a_version_2_report_is_read_with_each_orders_purpose_from_its_client_id(
    run: Runner, gate: FakeGate
) -> None:
    gate.maker_fill_fraction = {"spot": D(0), "futures": D(1)}
    gate.spot_asks = [(D("100000.05"), D("0.05"))]  # thin book: the short is compensated
    report = run(hedged_plan())
    assert [o.purpose for o in report.orders] == ["rebalance", "rebalance", "compensate"]
    raw = json.loads(dump_json(report))
    assert raw["schema_version"] == 3
    old = {
        **raw,
        "schema_version": 2,
        "orders": [{k: v for k, v in o.items() if k != "purpose"} for o in raw["orders"]],
    }
    back = parse_artifact(json.dumps(old), ExecutionReport)
    assert back == report
    with pytest.raises(InvalidInputError, match="schema_version 4 is not supported"):
        parse_artifact(json.dumps({**raw, "schema_version": 4}), ExecutionReport)


def test_schema_and_table_show_the_purpose(run: Runner, gate: FakeGate, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["schema", "execution_report"])
    schema = json.loads(res.stdout)
    assert schema["properties"]["schema_version"]["const"] == 3
    assert "purpose" in schema["$defs"]["OrderExecution"]["properties"]
    gate.maker_fill_fraction = {"spot": D(0), "futures": D(1)}
    gate.spot_asks = [(D("100000.05"), D("0.05"))]
    report = run(hedged_plan())
    path = tmp_path / "r.json"
    path.write_text(dump_json(report))
    console = Console(record=True, width=200)
    with patch("btcn.cli.render.err_console", return_value=console):
        execution_table(report)
    text = console.export_text()
    assert "purpose" in text and "compensate" in text and "CLOSE_SHORT" in text


# --- the journal's payloads are typed ----------------------------------------------------------------
def test_every_journal_payload_has_exactly_its_types_keys(run: Runner, gate: FakeGate) -> None:
    """Each event written by a run (orders, a compensating order, transfers, the plan) carries the
    keys of its TypedDict: every required key, nothing else."""
    gate.maker_fill_fraction = {"spot": D(0), "futures": D(1)}
    gate.spot_asks = [(D("100000.05"), D("0.05"))]
    plan = hedged_plan(transfers=[transfer("spot", "futures", "100"),
                                  transfer("futures", "spot", "5000", "after_orders", "sweep")])  # fmt: skip
    run(plan)
    with StateStore(run.state) as store:
        events = store.journal_events(plan_digest(plan), "gate")
    kinds = set()
    for ev in events:
        if ev.client_order_id.startswith("xfer-"):
            typed = TRANSFER_PAYLOADS[ev.event]
        elif ev.client_order_id:
            typed = ORDER_PAYLOADS[ev.event]
        else:
            typed = PLAN_PAYLOADS[ev.event]
        keys = set(ev.payload)
        assert (
            typed.__required_keys__ <= keys <= typed.__required_keys__ | typed.__optional_keys__
        ), (ev.event, keys)
        kinds.add((typed.__name__, ev.event))
    assert {"IntentPayload", "FinalPayload", "XferIntentPayload", "XferDonePayload",
            "PlanPayload", "DonePayload"} <= {k for k, _ in kinds}  # fmt: skip
    intents = [ev for ev in events if ev.event == "intent" and "-pc-" in ev.client_order_id]
    assert (
        intents and intents[0].payload["purpose"] == "compensate" and "order" in intents[0].payload
    )


# --- the property, in process: legging faults, crashes, resume ------------------------------------------
LEGGING = {
    "none": lambda g: None,
    "spot_refused": lambda g: g.add_fault(
        method="POST",
        path="/spot/batch_orders",
        kind="status",
        status=400,
        label="BALANCE_NOT_ENOUGH",
        times=3,
    ),
    "ioc_refused": lambda g: g.add_fault(
        method="POST",
        path="/spot/batch_orders",
        kind="status",
        status=400,
        label="BALANCE_NOT_ENOUGH",
        skip=1,
        times=3,
    ),
    "thin_book": lambda g: setattr(g, "spot_asks", [(D("100000.05"), D("0.004"))]),
    "perp_refused": lambda g: g.add_fault(
        method="POST",
        path="/futures/usdt/batch_orders",
        kind="status",
        status=400,
        label="INSUFFICIENT_AVAILABLE",
        times=4,
    ),
}
SHAPES = {  # the plan's orders (book: spot 0.3, long 250, short 3000): net delta after 0
    "grow_short": [(Leg.BTC_SPOT, Action.BUY, "0.2"), (Leg.BTC_PERP_LONG, Action.CLOSE_LONG, "250"),
                   (Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, "1750")],
    "held_out": [(Leg.BTC_SPOT, Action.BUY, "0.0166"),
                 (Leg.BTC_PERP_LONG, Action.CLOSE_LONG, "250"),
                 (Leg.BTC_PERP_SHORT, Action.CLOSE_SHORT, "84")],
}  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    shape=st.sampled_from(sorted(SHAPES)),
    legging=st.sampled_from(sorted(LEGGING)),
    maker=st.sampled_from([D(0), D("0.5"), D(1)]),
    crash_at=st.one_of(st.none(), st.integers(min_value=1, max_value=40)),
    after=st.booleans(),
)
def test_report_fills_per_leg_are_the_venues_and_nothing_reopens_a_closed_leg(
    shape: str, legging: str, maker: Decimal, crash_at: int | None, after: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:  # fmt: skip
    """Property: whatever leg fails and wherever the run is killed, the final report's fills,
    summed per leg, equal the venue's trade history; no order is created twice; no compensating
    order opens a leg whose target is zero or that the plan reduces."""
    clock = VirtualClock()
    gate = FakeGate(KEY, SECRET, spot_btc="0.3", long_contracts=250, short_contracts=3000,
                    clock=clock.now_s)  # fmt: skip
    gate.maker_fill_fraction = {"spot": maker, "futures": maker}
    LEGGING[legging](gate)
    orders = [order(leg, action, qty, "99999.9" if delta_sign(action) > 0 else "100000.1")
              for leg, action, qty in SHAPES[shape]]  # fmt: skip
    plan = make_plan(orders, spot_btc="0.3", long_contracts="250", short_contracts="3000")
    state = tmp_path_factory.mktemp("prop") / "state.db"
    with FakeServer(gate) as server:
        runner = Runner(server, clock, state)
        if crash_at is not None:
            with contextlib.suppress(Crash, ExchangeError):
                runner(plan, transport=crash_transport("", after, crash_at))
        report = runner(plan)
        if report.status == "already_executed":  # the crash came after the run had finished
            with StateStore(state) as store:
                first = store.executed_report(plan_digest(plan), "gate") or ""
            report = ExecutionReport.model_validate_json(first)
    start = {Leg.BTC_SPOT: D("0.3"), Leg.BTC_PERP_LONG: D(250), Leg.BTC_PERP_SHORT: D(3000)}
    assert gate.duplicate_texts() == {}
    assert report_fills_by_leg(report) == venue_fills_by_leg(gate)
    assert compensating_opens(gate, orders, start) == 0
