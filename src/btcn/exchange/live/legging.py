"""Hedge sized to fills: the market remainders are sized from what each leg really filled.

Pure functions (no venue access). After the PostOnly window the executor sends the **spot**
remainder first, then sizes the **perp** remainders so that the book's net delta after the run is
the plan's ``net_delta_after_btc``:

* *spot sized to perp*: a perp leg that can no longer fill (refused) leaves a hedge gap; the spot
  remainder is cut by that gap (rounded to the spot step).
* *perp sized to spot*: once spot is final, its shortfall (planned minus filled, net of the BTC
  fee the plan assumed) is taken off the perp remainders — the short leg first, then the long —
  rounded to the nearest whole contract.
* Nothing is ever sent beyond the plan's own remainder, and nothing is reversed: a leg that had
  already filled more than the other can match leaves a *deviation*, which the report gives
  (``net_delta_after_btc`` as executed) and which ends the run ``partial`` when it exceeds
  ``max_delta_drift``.

Delta contributions are in BTC: spot BUY +qty (net of its BTC fee), SELL −qty; OPEN_LONG /
CLOSE_SHORT +contracts × multiplier; CLOSE_LONG / OPEN_SHORT −contracts × multiplier.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from btcn.contracts import Leg, Plan, Side
from btcn.core.legs import delta_sign
from btcn.core.money import ZERO

MAX_FEE_FRACTION = Decimal("0.01")


@dataclass(frozen=True)
class LegFill:
    """One leg's order as the sizing sees it (venue units: BTC for spot, contracts for perps)."""

    leg: Leg
    sign: int  # +1: the order adds delta, -1: it removes delta
    unit_btc: Decimal  # BTC per venue unit
    planned: Decimal  # the plan's quantity
    filled: Decimal  # filled so far
    can_send: Decimal  # the most this run may still send (0: finished or refused)

    def contribution(self, qty: Decimal) -> Decimal:
        return self.sign * qty * self.unit_btc


def planned_spot_fee_fraction(plan: Plan) -> Decimal:
    """The share of a spot buy the plan expects to lose to its BTC fee (0 when not stated).

    ``net_delta_after_btc`` is the plan's net delta if every order fills, spot buys net of fee;
    the gap to the gross sum of the orders is that fee."""
    gross = plan.net_delta_btc + sum((delta_sign(o.action) * o.qty_btc for o in plan.orders), ZERO)
    buy = sum(
        (o.qty_btc for o in plan.orders if o.leg is Leg.BTC_SPOT and o.side is Side.BUY), ZERO
    )
    if buy <= 0:
        return ZERO
    frac = (gross - plan.net_delta_after_btc) / buy
    return frac if ZERO <= frac <= MAX_FEE_FRACTION else ZERO


def _spot_factor(spot: LegFill, fee_fraction: Decimal) -> Decimal:
    """Net BTC delta per unit of the spot order (a buy keeps 1 - fee)."""
    return Decimal(1) - fee_fraction if spot.sign > 0 else Decimal(1)


def _round_step(qty: Decimal, step: Decimal) -> Decimal:
    return (qty / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step


def spot_remainder(
    spot: LegFill, perps: list[LegFill], fee_fraction: Decimal, step: Decimal
) -> Decimal:
    """The spot quantity to send now, cut by what the perp legs can no longer fill."""
    gap = ZERO  # the perp legs' planned delta they can no longer reach (signed, BTC)
    for p in perps:
        reachable = min(p.planned, p.filled + p.can_send)
        gap += p.contribution(p.planned - reachable)
    factor = _spot_factor(spot, fee_fraction)
    target = spot.planned + gap / (spot.sign * factor)  # total spot units the hedge wants
    want = _round_step(target - spot.filled, step)
    return min(max(want, ZERO), spot.can_send)


def perp_remainders(
    spot: LegFill | None, perps: list[LegFill], fee_fraction: Decimal
) -> tuple[list[Decimal], Decimal]:
    """Each perp order's quantity to send now (whole contracts, aligned with ``perps``) and the
    delta left unmatched.

    ``spot`` is final here (its remainder was sent). The shortfall of spot's net delta is taken
    off the perp orders in order (short first, in the given order among the short's orders),
    each within what it has filled and may still send.
    """
    gap = ZERO  # delta spot failed to add, net of the fee the plan assumed
    if spot is not None:
        gap = spot.contribution(spot.planned - spot.filled) * _spot_factor(spot, fee_fraction)
    out: dict[int, Decimal] = {}
    order = sorted(range(len(perps)), key=lambda i: 0 if perps[i].leg is Leg.BTC_PERP_SHORT else 1)
    for i in order:
        p = perps[i]
        planned_c = p.contribution(p.planned)
        lo, hi = sorted((p.contribution(p.filled), p.contribution(p.filled + p.can_send)))
        got = min(max(planned_c + gap, lo), hi)
        gap -= got - planned_c
        units = (got / (p.sign * p.unit_btc)) - p.filled
        qty = units.to_integral_value(rounding=ROUND_HALF_EVEN)
        out[i] = min(max(qty, ZERO), p.can_send)
    return [out[i] for i in range(len(perps))], gap
