"""Compensating orders: when a perp leg has filled more than the other legs can match (the spot
buy was refused or starved after the short's PostOnly had filled), the excess is reduced at market
(IOC) instead of being left as a naked position until the next plan.

It acts only when the unmatched net delta exceeds ``max_delta_drift`` of NAV (a smaller residue is
left to the next plan's book-level trigger, without paying fees twice), only on the plan's perp
rebalance orders, and never by more than that order filled: an OPEN_SHORT is reduced by a
CLOSE_SHORT (reduce-only), a CLOSE_LONG by an OPEN_LONG, and so on. A compensating order has its
own client ids (``…-pc-m``, ``…-lc-m``; ``m2``, ``m3`` when a request provably never arrived) and
its own line in the report. What it cannot remove is reported (``deviation_reported``).
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_EVEN, Decimal

from btcn.contracts import Action, Leg, PlannedOrder
from btcn.core.legs import SIDE_OF, delta_sign
from btcn.core.money import ZERO
from btcn.exchange.journal import LegRun, run_key
from btcn.exchange.live.base import ExecutorBase
from btcn.exchange.live.legging import LegFill, perp_remainders, planned_spot_fee_fraction

log = logging.getLogger("btcn.exchange.live")

REVERSE = {
    Action.OPEN_SHORT: Action.CLOSE_SHORT, Action.CLOSE_SHORT: Action.OPEN_SHORT,
    Action.OPEN_LONG: Action.CLOSE_LONG, Action.CLOSE_LONG: Action.OPEN_LONG,
}  # fmt: skip


class Compensator(ExecutorBase):
    def _drift_limit_btc(self) -> Decimal:
        limit = self.plan.max_delta_drift
        if limit is None:
            limit = self.settings.strategy.max_delta_drift
        if self.plan.p_ref_usdt <= 0:
            return Decimal("Infinity")
        return Decimal(str(limit)) * self.plan.nav_usdt / self.plan.p_ref_usdt

    def _unmatched(self) -> Decimal:
        """Delta (BTC) the perp legs should still add for the executed book to be the plan's,
        given every fill so far (compensating orders included)."""
        fee = planned_spot_fee_fraction(self.plan)
        spot = self.legs.get(Leg.BTC_SPOT)
        spot_fill = None
        if spot is not None:
            o = spot.order
            spot_fill = LegFill(o.leg, delta_sign(o.action), Decimal(1), o.qty_venue, spot.filled,
                                ZERO)  # fmt: skip
        final = [
            LegFill(r.order.leg, delta_sign(r.order.action), self.mult, r.order.qty_venue,
                    r.filled, ZERO)
            for r in self._perp_runs()  # type: ignore[attr-defined]
        ]  # fmt: skip
        _, unmatched = perp_remainders(spot_fill, final, fee)
        for r in self.legs.values():
            if r.purpose == "compensate":
                unmatched -= delta_sign(r.order.action) * r.filled * self.mult
        return unmatched

    def _compensation_candidates(self, unmatched: Decimal) -> list[LegRun]:
        runs = [r for r in self.legs.values() if r.purpose == "rebalance"
                and r.order.leg is not Leg.BTC_SPOT and r.filled > 0
                and delta_sign(REVERSE[r.order.action]) * unmatched > 0]  # fmt: skip
        return sorted(runs, key=lambda r: 0 if r.order.leg is Leg.BTC_PERP_SHORT else 1)

    def _compensate(self) -> None:
        unmatched = self._unmatched()
        if abs(unmatched) <= self._drift_limit_btc():
            return
        for run in self._compensation_candidates(unmatched):
            key = run_key(run.order.leg, "compensate")
            comp = self.legs.get(key)
            done = comp.filled if comp is not None else ZERO
            room = run.filled - done
            want = (abs(unmatched) / self.mult).to_integral_value(rounding=ROUND_HALF_EVEN)
            qty = min(want, room)
            if comp is None:
                if qty <= 0:
                    continue
                comp = self._compensation_run(run, qty)
                self.legs[key] = comp
            log.warning("%s filled more than the other legs can match (%s BTC unmatched): "
                        "reducing it by %s contracts at market", run.order.leg, unmatched, qty)  # fmt: skip

            def size(r: LegRun, base: LegRun = run) -> Decimal:
                left = (abs(self._unmatched()) / self.mult).to_integral_value(
                    rounding=ROUND_HALF_EVEN
                )
                return min(left, self._to_send(r), base.filled - r.filled)  # type: ignore[attr-defined]

            self._market_rounds([comp], size)  # type: ignore[attr-defined]
            unmatched = self._unmatched()
            if abs(unmatched) <= self.mult / 2:
                return

    def _compensation_run(self, run: LegRun, qty: Decimal) -> LegRun:
        o = run.order
        action = REVERSE[o.action]
        order = PlannedOrder(
            leg=o.leg, action=action, side=SIDE_OF[action], qty_venue=qty, venue_unit="contracts",
            qty_btc=qty * self.mult, limit_price_usdt=o.limit_price_usdt,
            notional_usdt=qty * self.mult * o.limit_price_usdt,
            reason=f"compensating order: {o.leg} {o.action} filled more than the other legs "
            "could match (hedge sized to fills)",
        )  # fmt: skip
        comp = LegRun(order, purpose="compensate")
        comp.detail.append(order.reason)
        return comp
