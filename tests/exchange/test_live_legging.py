"""Deadlines computed when a request is sent, and the hedge sized to what each leg filled."""

from __future__ import annotations

from pathlib import Path

import pytest

from btcn.contracts import Action, Leg
from btcn.exchange.errors import PreTradeCheckFailed
from btcn.exchange.live.legging import (
    LegFill,
    perp_remainders,
    planned_spot_fee_fraction,
    spot_remainder,
)
from btcn.runtime.state import StateStore
from btcn.stages.execute import plan_digest
from tests.exchange.live_support import D, Runner, hedged_plan, short_open, spot_buy, transfer
from tests.fakes import FakeGate, FakeServer
from tests.helpers import VirtualClock, make_plan, order


@pytest.fixture
def run(server: FakeServer, vclock: VirtualClock, tmp_path: Path) -> Runner:
    return Runner(server, vclock, tmp_path / "state.db")


def _exptimes(gate: FakeGate, path: str) -> list[tuple[int, float]]:
    return [(exp, now) for p, exp, now in gate.exptimes if p == path]


# --- deadlines ------------------------------------------------------------------------------------
def test_spot_timeout_leaves_the_futures_postonly_a_valid_deadline(
    run: Runner, gate: FakeGate
) -> None:
    """Issue 11: the spot batch times out; the futures PostOnly batch must still go out with a
    deadline in the future and rest as PostOnly (maker), not skip to market."""
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="timeout", when="before",
                   delay_s=1.5)  # fmt: skip
    report = run(hedged_plan())
    (fut_exp, fut_now), *_ = _exptimes(gate, "/futures/usdt/batch_orders")
    assert fut_exp > fut_now * 1000  # the deadline had not passed when it arrived
    short = report.orders[1]
    assert short.fills[0].liquidity == "maker" and short.fills[0].price_usdt == D("100000.1")
    assert "REQUEST_EXPIRED" not in short.detail and "never reached" not in short.detail
    assert report.status == "completed"


def test_retry_after_a_resync_carries_a_fresh_journaled_deadline(
    run: Runner, gate: FakeGate
) -> None:
    # The venue clock jumps 70 s: the Timestamp is refused, the 120 s deadline has not passed.
    gate.add_fault(method="POST", path="/futures/usdt/batch_orders", kind="skew", delay_s=70)
    plan = make_plan([short_open()])
    report = run(plan, request_expiry="120s")
    first, second = _exptimes(gate, "/futures/usdt/batch_orders")[:2]
    assert second[0] > first[0]  # re-computed for the retry
    assert report.orders[0].fills[0].liquidity == "maker"  # the PostOnly was placed
    with StateStore(run.state) as store:
        events = store.journal_events(plan_digest(plan), "gate")
    deadlines = [e.payload["exptime_ms"] for e in events if e.event == "deadline"]
    assert deadlines == [second[0]]  # journaled before the retry was sent


def test_deadline_refusal_is_not_retried_as_clock_skew(run: Runner, gate: FakeGate) -> None:
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="skew", delay_s=20)
    report = run(make_plan([spot_buy()]))
    assert report.status == "completed" and "never reached Gate" in report.orders[0].detail
    posts = [p for m, p, _ in gate.requests if m == "POST" and p == "/spot/batch_orders"]
    assert len(posts) == 2  # the refused PostOnly once (no retry), then the market order


# --- hedge sized to fills ------------------------------------------------------------------------
def test_usdt_drained_mid_run_cuts_the_short(run: Runner, gate: FakeGate) -> None:
    # The spot market order is refused (USDT gone between PostOnly and market): spot holds the
    # PostOnly's 0.1 BTC, so the short stops at the 1000 contracts its PostOnly filled.
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="status", status=400,
                   label="BALANCE_NOT_ENOUGH", skip=1)  # fmt: skip
    report = run(hedged_plan())
    spot, short = report.orders
    assert spot.filled_qty_venue == D("0.1") and short.filled_qty_venue == 1000
    assert report.hedge_rule == "perp_sized_to_spot"
    assert abs(report.net_delta_after_btc or 0) <= D("0.0002")  # the BTC fee only
    assert report.status == "partial" and "cut from 1000 to 0" in short.detail


def test_perp_refused_cuts_the_spot_remainder(run: Runner, gate: FakeGate) -> None:
    gate.maker_fill_fraction["spot"] = D(0)
    gate.add_fault(method="POST", path="/futures/usdt/batch_orders", kind="status", status=400,
                   label="INSUFFICIENT_AVAILABLE")  # fmt: skip
    report = run(hedged_plan())
    spot, short = report.orders
    assert spot.filled_qty_venue == 0 and short.status == "rejected"
    assert "cut from 0.2 to 0" in spot.detail and report.hedge_rule == "spot_sized_to_perp"
    assert report.net_delta_after_btc == 0 and report.status == "failed"
    assert [t[-4:] for _, t, _ in gate.creations] == ["sp-p"]  # no spot market order: no naked leg


def test_spot_half_filled_ioc_is_hedged_to_the_nearest_contract(
    run: Runner, gate: FakeGate
) -> None:
    gate.maker_fill_fraction = {"spot": D(0), "futures": D(0)}
    gate.spot_asks = [(D("100000.05"), D("0.123456"))]
    report = run(hedged_plan())
    spot, short = report.orders
    assert spot.filled_qty_venue == D("0.123456") and short.filled_qty_venue == 1235
    assert "IOC filled 0.123456 of 0.2" in spot.detail
    assert report.hedge_rule == "perp_sized_to_spot"


def test_executed_drift_beyond_the_limit_is_partial_and_not_recorded(
    run: Runner, gate: FakeGate
) -> None:
    gate.maker_fill_fraction = {"spot": D(0), "futures": D(1)}  # the short fills at once
    gate.add_fault(method="POST", path="/spot/batch_orders", kind="status", status=400,
                   label="BALANCE_NOT_ENOUGH", times=2)  # fmt: skip
    # ... and the compensating CLOSE_SHORT is refused too: the deviation stays and is reported.
    gate.add_fault(method="POST", path="/futures/usdt/batch_orders", kind="status", status=400,
                   label="RISK_LIMIT_EXCEEDED", skip=1)  # fmt: skip
    plan = hedged_plan()
    report = run(plan)
    assert report.orders[2].status == "rejected"
    assert report.hedge_rule == "deviation_reported" and report.net_delta_after_btc == D("-0.2")
    assert report.status == "partial" and not report.rebalance_recorded
    assert "beyond max_delta_drift 0.2 %" in report.note
    with StateStore(run.state) as store:
        assert store.last_rebalance_ms("gate") is None


def test_realise_order_frees_locked_profit_for_the_spot_buy(run: Runner, gate: FakeGate) -> None:
    """Spot USDT is empty and the short holds 3000 USDT of unrealised profit: the plan closes
    1000 contracts (realise), moves the realised cash to spot, buys, and re-opens the short."""
    gate.spot = {"USDT": [D(0), D(0)], "BTC": [D("0.3"), D(0)]}
    gate.pos["short"] = [D(3000), D(110000)]
    gate.fut_total = D(3500)  # available 200: without realising, nothing could move
    realise = order(Leg.BTC_PERP_SHORT, Action.CLOSE_SHORT, "1000", "99999.9").model_copy(
        update={"purpose": "realise"}
    )
    plan = make_plan(
        [spot_buy("0.009"), realise, short_open("1090")], spot_btc="0.3", short_contracts="3000",
        transfers=[transfer("futures", "spot", "1000", reason="fund_spot")],
    )  # fmt: skip
    report = run(plan)
    assert report.status == "completed", report.note
    digest = plan_digest(plan)
    texts = [t for _, t, _ in gate.creations]
    assert texts[0] == f"t-btcn-{digest[:12]}-pr-m"  # realised first, at market
    posts = [p for m, p, _ in gate.requests if m == "POST"]
    assert posts[:2] == ["/futures/usdt/batch_orders", "/wallet/transfers"]
    assert gate.transfers[0]["amount"] == D(1000) and gate.realised > 0
    assert gate.pos["short"][0] == 3000 - 1000 + 1090
    spot, rel, short = report.orders
    assert (
        spot.filled_qty_venue == D("0.009")
        and rel.status == "filled"
        and rel.client_order_id.endswith("-pr-m")
    )
    assert short.client_order_id.endswith("-ps-p") and report.hedge_rule == "as_planned"
    assert gate.duplicate_texts() == {}


def test_short_filled_alone_is_reduced_by_a_compensating_order(run: Runner, gate: FakeGate) -> None:
    """Hummingbot #3831: the perp filled while the spot leg did not. btcn reduces the short."""
    gate.maker_fill_fraction = {"spot": D(0), "futures": D(1)}
    gate.spot_asks = [(D("100000.05"), D("0.05"))]  # the spot IOC meets a thin book
    report = run(hedged_plan())
    spot, short, comp = report.orders
    assert spot.filled_qty_venue == D("0.05") and short.filled_qty_venue == 2000
    assert comp.action == Action.CLOSE_SHORT and comp.filled_qty_venue == 1500
    assert gate.pos["short"][0] == 500 and report.hedge_rule == "perp_reduced"
    assert abs(report.net_delta_after_btc or 0) <= D("0.0001")
    assert report.status == "partial" and gate.duplicate_texts() == {}


def test_realise_must_close(run: Runner) -> None:
    bad = order(Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, "100", "100000.1").model_copy(
        update={"purpose": "realise"}
    )
    with pytest.raises(PreTradeCheckFailed, match="must close"):
        run(make_plan([bad]))


# --- the sizing rules, directly ---------------------------------------------------------------------
M = D("0.0001")


def test_perp_sized_to_spot_rounds_to_the_nearest_contract() -> None:
    spot = LegFill(Leg.BTC_SPOT, 1, D(1), D("0.2"), D("0.12346"), D(0))
    short = LegFill(Leg.BTC_PERP_SHORT, -1, M, D(2000), D(0), D(2000))
    sized, left = perp_remainders(spot, [short], D(0))
    assert sized == [D(1235)] and left == 0


def test_fee_the_plan_assumed_is_kept() -> None:
    # The plan bought 0.2 BTC and expected 0.0002 BTC of fee: the short is 1998 contracts.
    plan = make_plan([spot_buy(), short_open("1998")])
    plan = plan.model_copy(update={"net_delta_after_btc": D("0.2") - D("0.0002") - D("0.1998")})
    fee = planned_spot_fee_fraction(plan)
    assert fee == D("0.001")
    spot = LegFill(Leg.BTC_SPOT, 1, D(1), D("0.2"), D("0.1"), D(0))
    short = LegFill(Leg.BTC_PERP_SHORT, -1, M, D(1998), D(0), D(1998))
    sized, _ = perp_remainders(spot, [short], fee)
    assert sized == [D(999)]  # 0.1 BTC bought, 0.0999 held


def test_shortfall_goes_to_the_short_then_the_long() -> None:
    spot = LegFill(Leg.BTC_SPOT, 1, D(1), D("0.2"), D("0.05"), D(0))
    short = LegFill(Leg.BTC_PERP_SHORT, -1, M, D(1000), D(900), D(100))
    close_long = LegFill(Leg.BTC_PERP_LONG, -1, M, D(1000), D(0), D(1000))
    sized, left = perp_remainders(spot, [close_long, short], D(0))
    # 0.15 BTC short of spot: the short can give up only its unsent 100 contracts (0.01 BTC),
    # the long close takes the remaining 0.14 BTC off its 0.1 BTC: it sends nothing.
    assert sized == [D(0), D(0)]
    assert left == D("0.04")


def test_spot_sized_to_a_refused_perp_leg() -> None:
    spot = LegFill(Leg.BTC_SPOT, 1, D(1), D("0.2"), D("0.05"), D("0.15"))
    short = LegFill(Leg.BTC_PERP_SHORT, -1, M, D(2000), D(1200), D(0))  # refused after 1200
    assert spot_remainder(spot, [short], D(0), D("0.000001")) == D("0.07")
    alive = LegFill(Leg.BTC_PERP_SHORT, -1, M, D(2000), D(1200), D(800))
    assert spot_remainder(spot, [alive], D(0), D("0.000001")) == D("0.15")
