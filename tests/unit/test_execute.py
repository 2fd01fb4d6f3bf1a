from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from btcn.contracts import Plan, Snapshot, dump_json, parse_artifact
from btcn.core.book import Book
from btcn.data.candles import load_candles
from btcn.data.signals import load_signals
from btcn.errors import InvalidInputError, StateError, UsageError
from btcn.runtime.settings import load_settings
from btcn.runtime.state import StateStore
from btcn.stages import execute, plan
from btcn.stages.common import book_from_snapshot
from tests.conftest import EXAMPLES
from tests.helpers import seed_paper_account

D = Decimal


@pytest.fixture
def example_plan() -> Plan:
    snap = parse_artifact((EXAMPLES / "snapshot.json").read_text(), Snapshot)
    req = plan.PlanRequest(snap, load_candles(EXAMPLES / "data" / "spot_5m"), load_settings(),
                           load_signals(EXAMPLES / "signals.csv"))  # fmt: skip
    return plan.run(req)


def req(p: Plan, tmp_path: Path, *, seed: bool = True, **kw) -> execute.ExecuteRequest:
    """Execute ``p`` with the state store of ``tmp_path``, whose paper account holds the example
    snapshot's book (unless ``seed=False`` or it is already there)."""
    if seed and not (tmp_path / "state.db").exists() and not kw.get("dry_run"):
        seed_paper_account(tmp_path / "state.db", EXAMPLES / "snapshot.json")
    return execute.ExecuteRequest(p, load_settings(), now_ms=1_800_000_000_000,
                                  state_path=tmp_path / "state.db", **kw)  # fmt: skip


def test_example_plan_is_a_real_rebalance(example_plan: Plan) -> None:
    assert example_plan.status == "rebalance"
    assert {o.leg for o in example_plan.orders} == {"BTC_SPOT", "BTC_PERP_SHORT"}
    assert example_plan.threshold.atr_candles_used == 14
    assert example_plan.signal.value == "SELL"


def test_dry_run_reports_and_changes_nothing(example_plan: Plan, tmp_path: Path) -> None:
    r = execute.run(req(example_plan, tmp_path, dry_run=True))
    assert r.dry_run and r.status == "completed" and "nothing was stored" in r.note
    assert all(o.status == "simulated" for o in r.orders)
    assert not (tmp_path / "state.db").exists()
    spot = next(o for o in r.orders if o.leg == "BTC_SPOT")
    assert spot.liquidity == "mixed" and spot.market_fallback
    maker, taker = spot.fills
    assert (
        maker.price_usdt
        == next(o for o in example_plan.orders if o.leg == "BTC_SPOT").limit_price_usdt
    )
    assert maker.fee_usdt == maker.qty_btc * maker.price_usdt * D("0.001")
    assert taker.liquidity == "taker" and taker.price_usdt > maker.price_usdt  # buy pays slippage
    assert spot.filled_qty_venue == spot.requested_qty_venue


def test_paper_execution_updates_account_once(example_plan: Plan, tmp_path: Path) -> None:
    first = execute.run(req(example_plan, tmp_path))
    assert first.status == "completed" and first.rebalance_recorded and not first.dry_run
    with StateStore(tmp_path / "state.db") as st:
        book = st.paper_book()
        assert st.last_rebalance_ms("paper") == example_plan.as_of_ms
    assert book is not None and book.short_contracts > 0
    again = execute.run(req(example_plan, tmp_path))
    assert again.status == "already_executed"
    assert all(o.status == "skipped_duplicate" for o in again.orders)
    with StateStore(tmp_path / "state.db") as st:
        assert st.paper_book() == book  # nothing traded twice


def test_paper_book_accounting(example_plan: Plan, tmp_path: Path) -> None:
    r = execute.run(req(example_plan, tmp_path))
    snap = parse_artifact((EXAMPLES / "snapshot.json").read_text(), Snapshot)
    start = book_from_snapshot(snap)
    with StateStore(tmp_path / "state.db") as st:
        end = st.paper_book()
    spot = next(o for o in r.orders if o.leg == "BTC_SPOT")
    short = next(o for o in r.orders if o.leg == "BTC_PERP_SHORT")
    # Gate takes a spot buy's fee in BTC: USDT pays the quantity, the BTC credited is net of fee
    cost = sum(f.qty_btc * f.price_usdt for f in spot.fills)
    fee_btc = sum(f.fee_usdt / f.price_usdt for f in spot.fills)
    moved = sum(
        (t.amount_usdt if t.from_ == "spot" else -t.amount_usdt for t in example_plan.transfers),
        D(0),
    )
    assert example_plan.transfers, "the example plan funds the futures wallet or the spot buy"
    assert end.spot_usdt == start.spot_usdt - cost - moved
    assert end.spot_btc == start.spot_btc + spot.filled_qty_btc - fee_btc
    assert end.short_contracts == start.short_contracts + short.filled_qty_venue
    assert end.futures_usdt == start.futures_usdt - short.fee_usdt + moved
    avg = sum(f.qty_btc * f.price_usdt for f in short.fills) / short.filled_qty_btc
    held = start.short_contracts
    want = (held * start.short_entry_usdt + short.filled_qty_venue * avg) / (
        held + short.filled_qty_venue
    )
    assert abs(end.short_entry_usdt - want) < D("1e-9")  # entry: the size-weighted average


def test_spot_buy_is_cut_to_the_balance(example_plan: Plan, tmp_path: Path) -> None:
    snap = parse_artifact((EXAMPLES / "snapshot.json").read_text(), Snapshot)
    with StateStore(tmp_path / "state.db") as st:  # the plan's book, but only 500 USDT on spot
        st.save_paper_book(replace(book_from_snapshot(snap), spot_usdt=D(500)), 0)
    r = execute.run(req(example_plan.model_copy(update={"transfers": []}), tmp_path))
    spot = next(o for o in r.orders if o.leg == "BTC_SPOT")
    assert spot.status == "partially_filled" and "never leveraged" in spot.detail
    assert r.status == "partial" and not r.rebalance_recorded
    with StateStore(tmp_path / "state.db") as st:
        assert st.paper_book().spot_usdt >= 0
        assert st.last_rebalance_ms("paper") is None


def test_nothing_to_do_and_gate_plan_needs_live(example_plan: Plan, tmp_path: Path) -> None:
    empty = example_plan.model_copy(update={"orders": [], "status": "no_action", "transfers": []})
    assert execute.run(req(empty, tmp_path)).status == "nothing_to_do"
    assert execute.run(req(empty, tmp_path, dry_run=True)).status == "nothing_to_do"
    gate = example_plan.model_copy(update={"venue": "gate"})
    with pytest.raises(UsageError, match="real orders need --live"):
        execute.run(req(gate, tmp_path))
    assert execute.run(req(gate, tmp_path, dry_run=True)).status == "completed"


def test_dry_run_after_execution_says_so(example_plan: Plan, tmp_path: Path) -> None:
    execute.run(req(example_plan, tmp_path))
    r = execute.run(req(example_plan, tmp_path, dry_run=True))
    assert "already executed" in r.note


def test_plan_json_is_byte_identical_for_same_inputs(example_plan: Plan) -> None:
    snap = parse_artifact((EXAMPLES / "snapshot.json").read_text(), Snapshot)
    again = plan.run(plan.PlanRequest(snap, load_candles(EXAMPLES / "data" / "spot_5m"), load_settings(),
                                      load_signals(EXAMPLES / "signals.csv")))  # fmt: skip
    assert dump_json(again) == dump_json(example_plan)
    assert execute.plan_digest(again) == execute.plan_digest(example_plan)


def test_cooldown_from_state(example_plan: Plan, tmp_path: Path) -> None:
    execute.run(req(example_plan, tmp_path))
    last = plan.read_last_rebalance(tmp_path / "state.db", "paper")
    assert last == example_plan.as_of_ms
    assert plan.read_last_rebalance(tmp_path / "missing.db", "paper") is None
    assert plan.read_last_rebalance(None, "paper") is None


def test_corrupt_state_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="cannot open state store"):
        StateStore(bad)


def test_state_store_rolls_back_on_error(tmp_path: Path) -> None:
    with StateStore(tmp_path / "s.db") as st:
        with pytest.raises(RuntimeError), st.transaction() as db:
            st.save_paper_book(Book(D(1), D(2), D(3)), 0, db)
            raise RuntimeError("boom")
        assert st.paper_book() is None


def test_report_is_valid_json_contract(example_plan: Plan, tmp_path: Path) -> None:
    r = execute.run(req(example_plan, tmp_path, dry_run=True))
    raw = json.loads(dump_json(r))
    assert raw["kind"] == "execution_report" and raw["dry_run"] is True
    assert raw["orders"][0]["client_order_id"].startswith("t-btcn-")


def test_paper_execution_refuses_an_account_that_is_not_the_plans_book(
    example_plan: Plan, tmp_path: Path
) -> None:
    """The live reconcile rule on paper: the default paper account (0 BTC) is not the example
    snapshot's book (0.477 BTC, a short): exit 3, nothing stored, unless --force."""
    with pytest.raises(InvalidInputError) as info:
        execute.run(req(example_plan, tmp_path, seed=False))
    assert info.value.exit_code == 3
    assert "spot BTC is 0.0, expected 0.477450" in info.value.message
    assert "perp short is 0 contracts, expected 4776" in info.value.message
    assert "btcn fetch snapshot --venue paper" in (info.value.hint or "")
    with StateStore(tmp_path / "state.db") as st:
        assert st.paper_book() is None and st.last_rebalance_ms("paper") is None
    forced = execute.run(req(example_plan, tmp_path, seed=False, force=True))
    assert forced.status == "completed" and "--force: the paper account differed" in forced.note


def test_paper_reconcile_uses_the_live_tolerance(example_plan: Plan, tmp_path: Path) -> None:
    """Spot BTC within [gate] reconcile_tolerance_btc passes, one step beyond it does not; perp
    contracts must be equal."""
    snap = parse_artifact((EXAMPLES / "snapshot.json").read_text(), Snapshot)
    book = book_from_snapshot(snap)
    tol = D(str(load_settings().gate.reconcile_tolerance_btc))
    assert execute.paper_mismatch(example_plan, replace(book, spot_btc=book.spot_btc + tol),
                                  load_settings()) is None  # fmt: skip
    assert "spot BTC" in execute.paper_mismatch(
        example_plan, replace(book, spot_btc=book.spot_btc + tol + D("1e-8")), load_settings()
    )
    assert "perp short is 4775" in execute.paper_mismatch(
        example_plan, replace(book, short_contracts=book.short_contracts - 1), load_settings()
    )


def test_a_dry_run_says_when_the_paper_account_differs(example_plan: Plan, tmp_path: Path) -> None:
    r = execute.run(req(example_plan, tmp_path, dry_run=True))
    assert "the paper account differs from the plan's snapshot (spot BTC is 0.0" in r.note


def _with_transfers(p: Plan, *transfers: tuple[str, str, str, str]) -> Plan:
    from btcn.contracts import PlannedTransfer

    ts = [
        PlannedTransfer(
            from_=f,
            to="spot" if f == "futures" else "futures",
            amount_usdt=D(a),
            reason=reason,
            when=when,
        )
        for f, a, reason, when in transfers
    ]
    return p.model_copy(update={"transfers": ts})


@pytest.mark.parametrize("complete", [True, False])
def test_paper_sweeps_only_after_a_plan_that_filled_in_full(
    example_plan: Plan, tmp_path: Path, complete: bool
) -> None:
    """The after-orders policy of every executor: a sweep out of futures only when every order
    filled in full; the rest of a top-up into futures always."""
    start = Book(spot_usdt=D(10**6) if complete else D(500), spot_btc=D(0), futures_usdt=D(50_000))
    with StateStore(tmp_path / "state.db") as st:
        st.save_paper_book(start, 0)
    p = _with_transfers(example_plan, ("futures", "100", "sweep", "after_orders"))
    r = execute.run(req(p, tmp_path, force=True))  # a hand-made account, not the plan's book
    assert (r.status == "completed") is complete
    with StateStore(tmp_path / "state.db") as st:
        end = st.paper_book()
    short = next(o for o in r.orders if o.leg == "BTC_PERP_SHORT")
    swept = D(100) if complete else D(0)
    assert end.futures_usdt == start.futures_usdt - short.fee_usdt - swept
    # the rest of a top-up into futures is made whether or not the orders filled
    p = _with_transfers(example_plan, ("spot", "7", "margin", "after_orders"))
    for all_filled in (True, False):
        book = Book(spot_usdt=D(10), spot_btc=D(0), futures_usdt=D(0))
        after, _ = execute.paper_transfers(p, book, "after_orders", load_settings(),
                                           all_filled=all_filled)  # fmt: skip
        assert after.futures_usdt == D(7)


def test_paper_transfers_move_the_applied_amount(example_plan: Plan) -> None:
    """Capped by the source wallet's available, floored to the cent, nothing under the dust level."""
    settings = load_settings()
    book = Book(spot_usdt=D("5.678"), spot_btc=D(0), futures_usdt=D(0))
    p = _with_transfers(example_plan, ("spot", "100", "margin", "before_orders"))
    after, done = execute.paper_transfers(p, book, "before_orders", settings)
    assert done[0][1] == D("5.67") and after.spot_usdt == D("0.008")
    dust = Book(spot_usdt=D("0.99"), spot_btc=D(0), futures_usdt=D(0))
    after, done = execute.paper_transfers(p, dust, "before_orders", settings)
    assert done[0][1] == 0 and after == dust
