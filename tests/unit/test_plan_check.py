"""core/plan_check.py: execute refuses a plan whose orders are not internally consistent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.contracts import Action, Leg, Side, dump_json
from btcn.core.plan_check import check_plan
from btcn.errors import ExitCode, InvalidInputError
from tests.helpers import make_plan, order

TOL = 0.0125

GOOD = [
    order(Leg.BTC_SPOT, Action.BUY, "0.2", "99999.9"),
    order(Leg.BTC_PERP_LONG, Action.CLOSE_LONG, "200", "100000.1"),
    order(Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, "2000", "100000.1"),
]


def test_a_plan_as_btcn_writes_it_passes() -> None:
    check_plan(make_plan(GOOD), TOL)
    check_plan(make_plan([]), TOL)


def _with(i: int, **changes: object):
    orders = list(GOOD)
    orders[i] = orders[i].model_copy(update=changes)
    return make_plan(orders)


@pytest.mark.parametrize(
    ("plan", "needle"),
    [
        (_with(0, qty_venue=Decimal("-0.2"), qty_btc=Decimal("-0.2")), "finite positive"),
        (_with(0, limit_price_usdt=Decimal("1e400")), "finite positive"),
        (_with(0, limit_price_usdt=Decimal("NaN")), "finite positive"),
        (_with(0, side=Side.SELL), "contradicts action"),
        (_with(0, venue_unit="contracts"), "venue_unit must be 'BTC'"),
        (_with(2, venue_unit="BTC"), "venue_unit must be 'contracts'"),
        (_with(0, action=Action.OPEN_LONG, side=Side.BUY), "is not for this leg"),
        (_with(0, qty_venue=Decimal("0.2000001"), qty_btc=Decimal("0.2000001")), "venue step"),
        (_with(2, qty_venue=Decimal("2000.5"), qty_btc=Decimal("0.20005")), "venue step"),
        (_with(2, qty_btc=Decimal("2")), "does not match qty_venue"),
        (_with(0, qty_btc=Decimal("0.3")), "does not match qty_venue"),
        (_with(1, limit_price_usdt=Decimal("120000")), "from P_ref"),
        (make_plan([GOOD[0], GOOD[0]]), "second order for the same leg"),
        (make_plan(GOOD).model_copy(update={"weights": []}), "weights must list each"),
    ],
)
def test_inconsistent_orders_are_refused(plan, needle: str) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        check_plan(plan, TOL)


@given(st.decimals(min_value=Decimal("0.5"), max_value=Decimal("1.5"), places=4))
def test_the_price_band_is_the_tolerance_around_p_ref(ratio: Decimal) -> None:
    limit = (Decimal(100000) * ratio).quantize(Decimal("0.1"))
    plan = _with(0, limit_price_usdt=limit, notional_usdt=limit * Decimal("0.2"))
    inside = abs(limit / Decimal(100000) - 1) <= Decimal(str(TOL))
    if inside:
        check_plan(plan, TOL)
    else:
        with pytest.raises(InvalidInputError, match="from P_ref"):
            check_plan(plan, TOL)


class _Transfer:
    def __init__(self, amount: object) -> None:
        self.amount_usdt = amount


@pytest.mark.parametrize("amount", [Decimal(0), Decimal(-5), Decimal("Infinity"), None])
def test_transfers_of_a_version_2_plan_need_a_positive_amount(amount: object) -> None:
    plan = make_plan(GOOD)
    object.__setattr__(plan, "transfers", [_Transfer(Decimal(10)), _Transfer(amount)])
    with pytest.raises(InvalidInputError, match=r"transfers\[1\]"):
        check_plan(plan, TOL)


def test_execute_refuses_before_anything_is_stored(tmp_path: Path) -> None:
    bad = _with(0, side=Side.SELL).model_copy(update={"venue": "paper"})
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(dump_json(bad))
    state = tmp_path / "state.db"
    for mode in ("--dry-run", None, "--live"):
        args = ["execute", str(plan_file), "--state", str(state)] + ([mode] if mode else [])
        res = CliRunner().invoke(app, args)
        assert res.exit_code == ExitCode.INVALID_INPUT, (mode, res.output)
        assert "contradicts action" in res.stderr and res.stdout == ""
    assert not state.exists()


def test_a_hand_edited_quantity_of_1e400_is_refused(tmp_path: Path) -> None:
    raw = json.loads(dump_json(make_plan(GOOD, venue="paper")))
    raw["orders"][0]["qty_venue"] = "1e400"
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(raw))
    res = CliRunner().invoke(app, ["execute", "--dry-run", str(plan_file)])
    assert res.exit_code == ExitCode.INVALID_INPUT and "qty_venue" in res.stderr
