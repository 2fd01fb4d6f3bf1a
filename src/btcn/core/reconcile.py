"""The reconcile rule: does an account hold the book a plan starts from?

One rule for every venue. Live execution (:mod:`btcn.exchange.live.reconcile`) applies it to the
Gate account, the plan's starting book plus the fills its journal holds; paper execution
(:mod:`btcn.stages.execute`) applies it to the paper account. Spot BTC may differ by the
tolerance (``[gate] reconcile_tolerance_btc``: dust from fees paid in BTC); perp sides are whole
contracts and must be equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from btcn.contracts import Leg, Plan
from btcn.core.money import ZERO


@dataclass(frozen=True, slots=True)
class Holdings:
    spot_btc: Decimal
    long_contracts: Decimal
    short_contracts: Decimal


def plan_start(plan: Plan) -> Holdings:
    """The holdings the plan was made from (its snapshot, as the plan's ``weights`` carry it)."""
    start = {lw.leg: lw.qty_btc for lw in plan.weights}
    mult = plan.perp_spec.multiplier_btc
    return Holdings(
        spot_btc=start.get(Leg.BTC_SPOT, ZERO),
        long_contracts=start.get(Leg.BTC_PERP_LONG, ZERO) / mult,
        short_contracts=start.get(Leg.BTC_PERP_SHORT, ZERO) / mult,
    )


def differences(expected: Holdings, actual: Holdings, tolerance_btc: Decimal) -> list[str]:
    """What differs, one phrase per holding; empty when the account matches."""
    problems = []
    if abs(actual.spot_btc - expected.spot_btc) > tolerance_btc:
        problems.append(f"spot BTC is {actual.spot_btc}, expected {expected.spot_btc}")
    for side, have, want in (
        ("long", actual.long_contracts, expected.long_contracts),
        ("short", actual.short_contracts, expected.short_contracts),
    ):
        if have != want:
            problems.append(f"perp {side} is {have} contracts, expected {want}")
    return problems
