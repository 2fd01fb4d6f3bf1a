"""A plan is checked before it is worked, whatever produced the file.

``btcn execute`` (paper, dry run and live alike) refuses a plan whose orders are not internally
consistent. A plan written by ``btcn plan`` always passes; these checks catch a file edited by
hand, produced by another tool, or damaged:

* every order's ``qty_venue``, ``qty_btc``, ``limit_price_usdt`` and ``notional_usdt`` are finite,
  positive and at most 1e18;
* ``leg``, ``side`` and ``venue_unit`` agree with ``action`` (``LEG_OF``/``SIDE_OF``; spot in BTC,
  perps in contracts), and no leg has two orders — except the short's realise pair: one
  ``purpose = "realise"`` CLOSE_SHORT beside the leg's rebalance order;
* ``qty_venue`` is a whole multiple of the venue step (``spot_spec.step_btc`` or
  ``perp_spec.step_contracts``), and for a perp ``qty_btc = qty_venue * multiplier_btc``
  (for spot, ``qty_btc = qty_venue``);
* each limit price lies within ``price_tolerance`` of the plan's ``p_ref_usdt``; the caller
  passes the guardrail's ``max_price_deviation`` plus the worst slippage it may add
  (``execute`` uses ``guardrails.max_price_deviation + max(execution.slippage,
  gate.spot_ioc_slippage)``), since ``btcn plan`` prices orders at the venue's quotes, which the
  guardrail keeps that close to ``P_ref``;
* ``weights`` list each leg once, with a positive price (the executor reads the starting book
  and the marks from them);
* when the plan carries ``transfers`` (schema version 2), each amount is finite and positive.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from btcn.contracts import LEGS, Leg, Plan
from btcn.contracts.limits import decimal_problem
from btcn.core.legs import LEG_OF, SIDE_OF
from btcn.errors import InvalidInputError

# qty_btc and qty_venue * multiplier are both exact decimals in a plan btcn wrote; allow only
# the rounding a foreign writer may add in its last printed digit.
QTY_REL_TOLERANCE = Decimal("1e-9")


def _positive(value: Decimal, what: str) -> None:
    if not value.is_finite() or value <= 0 or decimal_problem(value):
        raise InvalidInputError(
            f"plan: {what} must be a finite positive number (at most 1e18), got {value:.6g}"
        )


def _on_step(qty: Decimal, step: Decimal) -> bool:
    try:
        return (qty % step) == 0
    except InvalidOperation:  # a quotient too large for the context: not a sane quantity
        return False


def check_plan(plan: Plan, max_price_deviation: float) -> None:
    """Raise InvalidInputError naming the first inconsistent order (see the module docstring)."""
    tolerance = Decimal(str(max_price_deviation))
    p_ref = plan.p_ref_usdt
    if plan.orders:
        _positive(p_ref, "p_ref_usdt")
    legs = [w.leg for w in plan.weights]
    if sorted(legs, key=LEGS.index) != list(LEGS):
        raise InvalidInputError(
            "plan: weights must list each of BTC_SPOT, BTC_PERP_LONG, BTC_PERP_SHORT once"
        )
    if plan.orders:
        for w in plan.weights:
            _positive(w.price_usdt, f"weights ({w.leg.value}) price_usdt")
    seen: set[tuple[Leg, str]] = set()
    for i, o in enumerate(plan.orders):
        where = f"orders[{i}] ({o.leg.value} {o.action.value})"
        purpose = getattr(o, "purpose", "rebalance")
        if (o.leg, purpose) in seen:
            raise InvalidInputError(f"plan: {where}: a second order for the same leg")
        seen.add((o.leg, purpose))
        if purpose == "realise" and o.action.value != "CLOSE_SHORT":
            raise InvalidInputError(f"plan: {where}: a realise order must be a CLOSE_SHORT")
        if LEG_OF[o.action] is not o.leg:
            raise InvalidInputError(f"plan: {where}: action {o.action.value} is not for this leg")
        if SIDE_OF[o.action] is not o.side:
            raise InvalidInputError(
                f"plan: {where}: side {o.side.value} contradicts action {o.action.value}"
            )
        spot = o.leg is Leg.BTC_SPOT
        unit = "BTC" if spot else "contracts"
        if o.venue_unit != unit:
            raise InvalidInputError(f"plan: {where}: venue_unit must be {unit!r}")
        for name in ("qty_venue", "qty_btc", "limit_price_usdt", "notional_usdt"):
            _positive(getattr(o, name), f"{where} {name}")
        step = plan.spot_spec.step_btc if spot else plan.perp_spec.step_contracts
        if not _on_step(o.qty_venue, step):
            raise InvalidInputError(
                f"plan: {where}: qty_venue {o.qty_venue} is not a multiple of the venue step {step}"
            )
        expected = o.qty_venue if spot else o.qty_venue * plan.perp_spec.multiplier_btc
        if abs(o.qty_btc - expected) > expected * QTY_REL_TOLERANCE:
            raise InvalidInputError(
                f"plan: {where}: qty_btc {o.qty_btc} does not match qty_venue {o.qty_venue} "
                f"({expected} BTC)"
            )
        deviation = abs(o.limit_price_usdt / p_ref - 1)
        if deviation > tolerance:
            raise InvalidInputError(
                f"plan: {where}: limit price {o.limit_price_usdt} is {deviation:.2%} from "
                f"P_ref {p_ref} (allowed {tolerance:.2%})"
            )
    transfers: list[Any] = list(getattr(plan, "transfers", None) or [])
    for i, t in enumerate(transfers):
        amount = getattr(t, "amount_usdt", None)
        if not isinstance(amount, Decimal | int | float) or not Decimal(str(amount)).is_finite() \
                or Decimal(str(amount)) <= 0:  # fmt: skip
            raise InvalidInputError(
                f"plan: transfers[{i}] amount_usdt must be a finite positive number"
            )
