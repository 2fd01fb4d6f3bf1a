"""Venue rules and reconciliation: the account must match the plan's starting book plus
every journaled fill before anything is sent."""

from __future__ import annotations

import logging
from decimal import Decimal

from btcn.contracts import Leg, Side
from btcn.core.ids import PREFIX
from btcn.core.money import ZERO, dec, is_step_multiple
from btcn.core.reconcile import Holdings, differences
from btcn.exchange import translate as tr
from btcn.exchange.errors import PreTradeCheckFailed, ReconcileError
from btcn.exchange.live.base import HISTORY_MARGIN_S, ExecutorBase

log = logging.getLogger("btcn.exchange.live")


class Reconciler(ExecutorBase):
    # --- venue rules -------------------------------------------------------------------------------
    def _check_rules(self) -> None:
        legs = {run.order.leg for run in self.legs.values()}
        problems: list[str] = []
        if Leg.BTC_SPOT in legs:
            self.pair_rules = self.gate.currency_pair(self.pair)
            live = tr.spot_spec(self.pair_rules)
            if self.pair_rules.trade_status not in ("tradable", "buyable", "sellable"):
                problems.append(f"{self.pair} is not tradable ({self.pair_rules.trade_status})")
            o = self.legs[Leg.BTC_SPOT].order
            if not is_step_multiple(o.qty_venue, live.step_btc):
                problems.append(f"spot quantity {o.qty_venue} is not a multiple of {live.step_btc}")
            if not is_step_multiple(o.limit_price_usdt, live.tick_usdt):
                problems.append(
                    f"spot limit {o.limit_price_usdt} is not a multiple of the tick {live.tick_usdt}"
                )
        if legs & {Leg.BTC_PERP_LONG, Leg.BTC_PERP_SHORT}:
            self.contract_rules = self.gate.contract(self.contract)
            live_p = tr.perp_spec(self.contract_rules)
            if live_p.multiplier_btc != self.mult:
                problems.append(
                    f"contract multiplier is {live_p.multiplier_btc} BTC on Gate but "
                    f"{self.mult} in the plan"
                )
            if self.contract_rules.in_delisting:
                problems.append(f"{self.contract} is being delisted")
            for o in (r.order for r in self.legs.values() if r.order.leg is not Leg.BTC_SPOT):
                leg = o.leg
                if o.qty_venue != o.qty_venue.to_integral_value():
                    problems.append(f"{leg} size {o.qty_venue} is not a whole number of contracts")
                if not is_step_multiple(o.limit_price_usdt, live_p.tick_usdt):
                    problems.append(
                        f"{leg} limit {o.limit_price_usdt} is not a multiple of {live_p.tick_usdt}"
                    )
        if problems:
            raise PreTradeCheckFailed(
                "the plan does not match Gate's trading rules: " + "; ".join(problems),
                hint="take a fresh snapshot (it carries the venue rules) and plan again",
            )

    # --- reconcile ---------------------------------------------------------------------------------
    def _expected(self) -> dict[str, Decimal]:
        """Starting book (the plan's legs) plus every fill of this plan the journal holds."""
        start = {lw.leg: lw.qty_btc for lw in self.plan.weights}
        exp = {
            "spot_btc": start.get(Leg.BTC_SPOT, ZERO),
            "long": start.get(Leg.BTC_PERP_LONG, ZERO) / self.mult,
            "short": start.get(Leg.BTC_PERP_SHORT, ZERO) / self.mult,
        }
        base = self.pair_rules.base.upper() if self.pair_rules else "BTC"
        for run in self.legs.values():
            buy = run.order.side is Side.BUY
            for a in run.attempts:
                if a.state != "final":
                    continue
                for f in a.fills:
                    qty = Decimal(f["qty"])
                    if run.order.leg is Leg.BTC_SPOT:
                        fee_btc = Decimal(f["fee"]) if f["fee_currency"] == base else ZERO
                        exp["spot_btc"] += (qty if buy else -qty) - fee_btc
                    else:
                        key = "long" if run.order.leg is Leg.BTC_PERP_LONG else "short"
                        grows = run.order.action.value.startswith("OPEN")
                        exp[key] += qty if grows else -qty
        return exp

    def _read_balances(self) -> None:
        """Spot and futures balances again (after a transfer), for the pre-trade check."""
        self.fut_account = self.gate.futures_account()
        self.spot_accounts = self.gate.spot_accounts()

    def _reconcile(self) -> None:
        problems: list[str] = []
        fut = self.gate.futures_account()
        if not tr.is_dual_mode(fut):
            raise ReconcileError(
                "the Gate futures account is not in dual (hedge) mode",
                hint="btcn holds BTC_PERP_LONG and BTC_PERP_SHORT at once: switch the USDT "
                "perpetual account to hedge mode (no open positions or orders allowed while "
                "switching)",
            )
        self.fut_account = fut
        self.spot_accounts = self.gate.spot_accounts()
        self.sides = tr.position_sides(self.gate.dual_positions(self.contract), self.contract)
        exp = self._expected()
        actual = Holdings(tr.spot_totals(self.spot_accounts).get("BTC", ZERO),
                          self.sides["long"].contracts, self.sides["short"].contracts)  # fmt: skip
        expected = Holdings(exp["spot_btc"], exp["long"], exp["short"])
        problems += differences(expected, actual, dec(self.gs.reconcile_tolerance_btc))
        # Orders with btcn's prefix: ours must all be known; another plan's must not be open.
        mine = f"{PREFIX}{self.digest[:12]}-"
        since_s = int((self.first_ms or self.plan.as_of_ms) / 1000) - HISTORY_MARGIN_S
        open_spot = self.gate.list_spot_orders(self.pair, "open")
        open_fut = self.gate.list_futures_orders(self.contract, "open")
        foreign = [o.text for o in [*open_spot, *open_fut]
                   if o.text.startswith(PREFIX) and not o.text.startswith(mine)]  # fmt: skip
        if foreign:
            problems.append(
                "open btcn orders of another plan: "
                + ", ".join(sorted(foreign))
                + " (re-run that plan's execute to finish it, or cancel them on Gate)"
            )
        seen = {o.text for o in self._spot_history(since_s)} | {
            o.text for o in self._futures_history(since_s)
        }
        seen |= {t.text for t in self.gate.spot_trades(self.pair, from_s=since_s)}
        seen |= {t.text for t in self.gate.futures_trades(self.contract)}
        unknown = sorted(t for t in seen if t.startswith(mine) and t not in self.by_cid)
        if unknown:
            problems.append(
                "orders of this plan exist on Gate but not in the journal: "
                + ", ".join(unknown)
                + " (was the state store replaced? use the --state of the first run)"
            )
        if problems:
            raise ReconcileError(
                "the Gate account does not match the plan: " + "; ".join(problems),
                hint="nothing was sent; take a fresh snapshot and plan again",
            )
