from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from btcn.contracts.enums import Action, Leg, Side, Signal
from btcn.core.gating import RULE_BUY_FORBIDS_SELL, RULE_SELL_FORBIDS_SHORT_BUY, blocking_rule
from btcn.core.ids import client_order_id, is_valid_client_order_id
from btcn.core.legs import SIDE_OF, action_for, delta_sign, is_increase
from btcn.core.money import dec, is_step_multiple, round_down_to_step, round_price
from btcn.core.signals import signal_in_force


def test_action_mapping() -> None:
    assert action_for(Leg.BTC_SPOT, True) is Action.BUY
    assert action_for(Leg.BTC_SPOT, False) is Action.SELL
    assert action_for(Leg.BTC_PERP_LONG, True) is Action.OPEN_LONG
    assert action_for(Leg.BTC_PERP_LONG, False) is Action.CLOSE_LONG
    assert action_for(Leg.BTC_PERP_SHORT, True) is Action.OPEN_SHORT
    assert action_for(Leg.BTC_PERP_SHORT, False) is Action.CLOSE_SHORT
    assert SIDE_OF[Action.OPEN_SHORT] is Side.SELL and SIDE_OF[Action.CLOSE_SHORT] is Side.BUY
    assert SIDE_OF[Action.CLOSE_LONG] is Side.SELL and SIDE_OF[Action.OPEN_LONG] is Side.BUY
    assert delta_sign(Action.CLOSE_SHORT) == 1 and delta_sign(Action.OPEN_SHORT) == -1
    assert is_increase(Action.OPEN_SHORT) and not is_increase(Action.CLOSE_LONG)


@pytest.mark.parametrize(
    ("signal", "leg", "side", "blocked"),
    [
        (Signal.BUY, Leg.BTC_SPOT, Side.SELL, True),
        (Signal.BUY, Leg.BTC_PERP_LONG, Side.SELL, True),
        (Signal.BUY, Leg.BTC_PERP_SHORT, Side.SELL, True),
        (Signal.BUY, Leg.BTC_SPOT, Side.BUY, False),
        (Signal.BUY, Leg.BTC_PERP_SHORT, Side.BUY, False),
        (Signal.SELL, Leg.BTC_PERP_SHORT, Side.BUY, True),
        (Signal.SELL, Leg.BTC_PERP_SHORT, Side.SELL, False),
        (Signal.SELL, Leg.BTC_SPOT, Side.SELL, False),
        (Signal.SELL, Leg.BTC_SPOT, Side.BUY, False),
        (Signal.SELL, Leg.BTC_PERP_LONG, Side.BUY, False),
        (Signal.HOLD, Leg.BTC_SPOT, Side.SELL, False),
        (Signal.NONE, Leg.BTC_PERP_SHORT, Side.BUY, False),
    ],
)
def test_gate_table(signal: Signal, leg: Leg, side: Side, blocked: bool) -> None:
    assert (blocking_rule(signal, leg, side) is not None) is blocked


def _manual_rule(signal: Signal, leg: Leg, side: Side) -> str | None:
    """The gating rule as the manual states it, written independently of the table: "BUY forbids
    selling on every leg, SELL forbids buying back the short"; HOLD and NONE forbid nothing."""
    if signal is Signal.BUY and side is Side.SELL:
        return RULE_BUY_FORBIDS_SELL
    if signal is Signal.SELL and leg is Leg.BTC_PERP_SHORT and side is Side.BUY:
        return RULE_SELL_FORBIDS_SHORT_BUY
    return None


def test_gating_is_the_manuals_rule_for_every_signal_leg_and_side() -> None:
    """Every one of the 4 x 3 x 2 combinations, with the rule's name: an extra, a missing or a
    misnamed entry of the table fails here (the old test only counted the entries)."""
    combos = list(itertools.product(Signal, Leg, Side))
    assert len(combos) == 24
    assert [blocking_rule(*c) for c in combos] == [_manual_rule(*c) for c in combos]


def test_signal_in_force() -> None:
    ts = [1000, 2000, 3000]
    vals = [Signal.BUY, Signal.SELL, Signal.HOLD]
    assert signal_in_force(ts, vals, 999, 10_000).value is Signal.NONE
    assert signal_in_force(ts, vals, 1000, 10_000).value is Signal.BUY  # ts <= now
    assert signal_in_force(ts, vals, 2999, 10_000).value is Signal.SELL
    r = signal_in_force(ts, vals, 3000 + 501, 500)
    assert r.value is Signal.NONE and r.stale and r.timestamp_ms == 3000 and r.age_ms == 501
    r = signal_in_force(ts, vals, 3500, 500)
    assert r.value is Signal.HOLD and not r.stale  # age == max age still counts


def test_rounding() -> None:
    assert round_down_to_step(Decimal("0.0123456789"), Decimal("0.000001")) == Decimal("0.012345")
    assert round_down_to_step(Decimal("-1"), Decimal("0.1")) == 0
    assert round_down_to_step(Decimal("107.9"), Decimal(1)) == Decimal(107)
    assert round_price(Decimal("100.05"), Decimal("0.1"), buy=True) == Decimal("100.0")
    assert round_price(Decimal("100.05"), Decimal("0.1"), buy=False) == Decimal("100.1")
    assert round_price(Decimal("100.1"), Decimal("0.1"), buy=False) == Decimal("100.1")
    assert is_step_multiple(Decimal("0.000300"), Decimal("0.0001"))
    assert not is_step_multiple(Decimal("0.00031"), Decimal("0.0001"))
    assert dec(0.1) == Decimal("0.1") and dec("2") == 2 and dec(3) == 3 and dec(Decimal(4)) == 4


def test_client_order_ids_are_deterministic_and_valid() -> None:
    d = "ab" * 32
    a = client_order_id(d, Leg.BTC_SPOT, "p")
    assert a == client_order_id(d, Leg.BTC_SPOT, "p")
    ids = {client_order_id(d, leg, ph) for leg in Leg for ph in "pm"}
    assert len(ids) == 6
    assert all(is_valid_client_order_id(i) and len(i) <= 30 for i in ids)
    assert client_order_id("cd" * 32, Leg.BTC_SPOT, "p") != a
    with pytest.raises(ValueError, match="phase"):
        client_order_id(d, Leg.BTC_SPOT, "x")
    with pytest.raises(ValueError, match="digest"):
        client_order_id("ab", Leg.BTC_SPOT, "p")
    assert not is_valid_client_order_id("btcn-no-prefix")
