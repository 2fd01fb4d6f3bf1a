"""One source for every default: the core's parameter objects built from a ``btcn.toml`` that sets
nothing equal the core's own defaults, field for field. A default written a second time (in the
settings, or in the core) that drifts from the other fails here."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from btcn.contracts import PerpSpec
from btcn.core.intents import DEFAULT_TARGETS, PlannerParams
from btcn.core.treasury import TreasuryParams
from btcn.runtime.settings import Settings
from btcn.stages.common import planner_params, treasury_params


def test_planner_params_from_default_settings_are_the_core_defaults() -> None:
    s = Settings()
    built = planner_params(s, s.execution.slippage)
    assert built == PlannerParams(targets=DEFAULT_TARGETS)
    # and for the backtest's slippage, which has its own key
    assert planner_params(s, s.backtest.slippage) == PlannerParams(targets=DEFAULT_TARGETS)


def test_treasury_params_from_default_settings_are_the_core_defaults() -> None:
    s = Settings()
    maintenance = Decimal(str(s.backtest.maintenance_margin_rate))
    assert maintenance == PerpSpec().maintenance_rate  # the contract's default rate
    assert treasury_params(s, maintenance) == TreasuryParams()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rebalance", "per_leg"),
        ("max_net_delta", 0.2),
        ("cooldown_ms", 1),
        ("slippage", Decimal(1)),
    ],
)
def test_the_comparison_sees_a_drifted_default(field: str, value: object) -> None:
    """The equality above compares every field: one changed default is enough to break it."""
    s = Settings()
    core = dataclasses.replace(PlannerParams(targets=DEFAULT_TARGETS), **{field: value})
    assert planner_params(s, s.execution.slippage) != core


def test_the_decision_defaults_are_the_documented_ones() -> None:
    """The values themselves (README and the manual state them): book-level rebalance, a 5 %
    net-delta guardrail, one rebalance per hour."""
    p = PlannerParams(targets=DEFAULT_TARGETS)
    assert (p.rebalance, p.max_net_delta, p.cooldown_ms) == ("book", 0.05, 3_600_000)
    assert (p.threshold_floor, p.atr_multiplier, p.max_delta_drift) == (0.005, 0.2, 0.002)
    t = TreasuryParams()
    assert (t.leverage, t.margin_buffer, t.transfer_band) == (3, Decimal("0.5"), Decimal("0.25"))
