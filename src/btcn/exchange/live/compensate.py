"""Compensating orders: when the perp legs have filled more (or less) than the other legs can match
(the spot buy was refused or starved after a perp PostOnly had filled), the difference is taken out
at market (IOC) instead of being left as a naked position until the next plan.

It acts only when the unmatched net delta exceeds ``max_delta_drift`` of NAV (a smaller residue is
left to the next plan's book-level trigger, without paying fees twice). Which order it sends is
:func:`compensation_choices`, the one rule:

* it only takes back what the plan's perp orders **filled** the other way (their fills are its
  budget): an order that never filled is not re-sent as a compensating order;
* it **prefers a reduce-only close** on the side that can move the delta the right way (delta
  missing: CLOSE_SHORT; delta in excess: CLOSE_LONG), never closing more than the side holds;
* it may **open** (OPEN_LONG / OPEN_SHORT, not reduce-only) only up to the side's target, and
  never on a side whose target is zero or that the plan reduces: a compensating order never opens
  or grows what the plan closes.

A compensating order has its own client ids (``…-pc-m`` on the short, ``…-lc-m`` on the long;
``m2``, ``m3`` when a request provably never arrived), ``purpose`` ``compensate`` and its own row in
the report. What it cannot remove is reported (``deviation_reported``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from btcn.contracts import Action, Leg, PlannedOrder
from btcn.core.legs import SIDE_OF, delta_sign
from btcn.core.money import ZERO
from btcn.exchange.journal import LegRun, run_key
from btcn.exchange.live.legging import LegFill, perp_remainders, planned_spot_fee_fraction
from btcn.exchange.live.phases import Phases
from btcn.exchange.live.state import Component, LiveContext, to_send

log = logging.getLogger("btcn.exchange.live")


@dataclass(frozen=True)
class PerpSide:
    """One side of the hedge-mode perp position, in contracts."""

    leg: Leg
    held: Decimal  # now: the plan's starting book plus every fill of this run
    target: Decimal  # the plan's starting book plus every planned order on this leg
    plan_reduces: bool  # the plan's orders on this leg close more than they open


def perp_side(leg: Leg, start: Decimal, held: Decimal, orders: list[PlannedOrder]) -> PerpSide:
    change = sum((o.qty_venue if o.action.value.startswith("OPEN") else -o.qty_venue
                  for o in orders if o.leg is leg), ZERO)  # fmt: skip
    return PerpSide(leg, held, start + change, change < 0)


def compensation_choices(
    need_btc: Decimal, long: PerpSide, short: PerpSide, budget: Decimal
) -> list[tuple[Leg, Action, Decimal]]:
    """The orders that may move the book's delta by ``need_btc`` (signed), in order of preference,
    each with the most contracts it may send: the reduce-only close first, then an open within the
    side's target (never on a zero target, never on a side the plan reduces); none beyond
    ``budget`` contracts (what the plan's perp orders filled against ``need_btc``)."""
    if need_btc == 0 or budget <= 0:
        return []
    if need_btc > 0:
        close, grow = (short, Action.CLOSE_SHORT), (long, Action.OPEN_LONG)
    else:
        close, grow = (long, Action.CLOSE_LONG), (short, Action.OPEN_SHORT)
    out = [(close[0].leg, close[1], max(close[0].held, ZERO))]
    side = grow[0]
    if side.target > 0 and not side.plan_reduces:
        out.append((side.leg, grow[1], max(side.target - side.held, ZERO)))
    return [(leg, action, min(cap, budget)) for leg, action, cap in out if cap > 0]


def contracts_for(need_btc: Decimal, multiplier_btc: Decimal) -> Decimal:
    """Whole contracts nearest to a delta (ties to even)."""
    return (abs(need_btc) / multiplier_btc).to_integral_value(rounding=ROUND_HALF_EVEN)


def compensating_order(
    leg: Leg, action: Action, qty: Decimal, multiplier_btc: Decimal, price_usdt: Decimal
) -> PlannedOrder:
    return PlannedOrder(
        leg=leg, action=action, side=SIDE_OF[action], qty_venue=qty, venue_unit="contracts",
        qty_btc=qty * multiplier_btc, limit_price_usdt=price_usdt,
        notional_usdt=qty * multiplier_btc * price_usdt,
        reason=f"compensating order: {action} {'adds' if delta_sign(action) > 0 else 'removes'} the "
        "delta the other legs could not match (hedge sized to fills)",
    )  # fmt: skip


class Compensator(Component):
    """Legging's last step: takes back, at market, delta the other legs could not match."""

    def __init__(self, cx: LiveContext, phases: Phases) -> None:
        super().__init__(cx)
        self.phases = phases

    def _drift_limit_btc(self) -> Decimal:
        limit = self.st.plan.max_delta_drift
        if limit is None:
            limit = self.cx.settings.strategy.max_delta_drift
        if self.st.plan.p_ref_usdt <= 0:
            return Decimal("Infinity")
        return Decimal(str(limit)) * self.st.plan.nav_usdt / self.st.plan.p_ref_usdt

    def unmatched(self) -> Decimal:
        """Delta (BTC) the perp legs should still add for the executed book to be the plan's,
        given every fill so far (compensating orders included)."""
        fee = planned_spot_fee_fraction(self.st.plan)
        spot = self.st.legs.get(Leg.BTC_SPOT)
        spot_fill = None
        if spot is not None:
            o = spot.order
            spot_fill = LegFill(o.leg, delta_sign(o.action), Decimal(1), o.qty_venue, spot.filled,
                                ZERO)  # fmt: skip
        final = [
            LegFill(r.order.leg, delta_sign(r.order.action), self.st.mult, r.order.qty_venue,
                    r.filled, ZERO)
            for r in self.st.perp_runs()
        ]  # fmt: skip
        _, unmatched = perp_remainders(spot_fill, final, fee)
        for r in self.st.legs.values():
            if r.purpose == "compensate":
                unmatched -= delta_sign(r.order.action) * r.filled * self.st.mult
        return unmatched

    def _perp_sides(self) -> tuple[PerpSide, PerpSide]:
        held = self.st.expected()
        start = {lw.leg: lw.qty_btc / self.st.mult for lw in self.st.plan.weights}
        orders = list(self.st.plan.orders)
        return (
            perp_side(Leg.BTC_PERP_LONG, start.get(Leg.BTC_PERP_LONG, ZERO), held["long"], orders),
            perp_side(Leg.BTC_PERP_SHORT, start.get(Leg.BTC_PERP_SHORT, ZERO), held["short"],
                      orders),
        )  # fmt: skip

    def _budget(self, need_btc: Decimal) -> Decimal:
        """Contracts the plan's perp orders filled against ``need_btc``, less what compensating
        orders already took back."""
        budget = ZERO
        for r in self.st.legs.values():
            if r.order.leg is Leg.BTC_SPOT or r.filled == 0:
                continue
            against = delta_sign(r.order.action) * need_btc < 0
            if r.purpose != "compensate" and against:
                budget += r.filled
            elif r.purpose == "compensate" and not against:
                budget -= r.filled
        return max(budget, ZERO)

    def _choices(self, need_btc: Decimal) -> list[tuple[Leg, Action, Decimal]]:
        return compensation_choices(need_btc, *self._perp_sides(), self._budget(need_btc))

    def _cap(self, action: Action) -> Decimal:
        """What ``action`` may still send now (the rule of :func:`compensation_choices`)."""
        unmatched = self.unmatched()
        for _, act, cap in self._choices(unmatched):
            if act is action:
                return min(cap, contracts_for(unmatched, self.st.mult))
        return ZERO

    def compensate(self) -> None:
        unmatched = self.unmatched()
        if abs(unmatched) <= self._drift_limit_btc():
            return
        for leg, action, cap in self._choices(unmatched):
            key = run_key(leg, "compensate")
            comp = self.st.legs.get(key)
            if comp is not None and comp.order.action is not action:
                continue  # a resumed run's compensating order on this leg went the other way
            if comp is None:
                qty = min(contracts_for(unmatched, self.st.mult), cap)
                if qty <= 0:
                    continue
                order = compensating_order(leg, action, qty, self.st.mult, self.st.plan.p_ref_usdt)
                comp = LegRun(order, purpose="compensate")
                comp.detail.append(order.reason)
                self.st.legs[key] = comp
            log.warning("the legs filled %s BTC of delta the others cannot match: %s %s at "
                        "market", unmatched, action, comp.order.qty_venue)  # fmt: skip

            def size(r: LegRun) -> Decimal:
                return min(self._cap(r.order.action), to_send(r))

            self.phases.market_rounds([comp], size)
            unmatched = self.unmatched()
            if abs(unmatched) <= self.st.mult / 2:
                return
