"""Venue rules and reconciliation: the account must match the plan's starting book plus
every journaled fill before anything is sent."""

from __future__ import annotations

import logging

from btcn.contracts import Leg
from btcn.core.ids import PREFIX
from btcn.core.money import ZERO, dec, is_step_multiple
from btcn.core.reconcile import Holdings, differences
from btcn.exchange import translate as tr
from btcn.exchange.errors import PreTradeCheckFailed, ReconcileError
from btcn.exchange.live.resolve import Resolver
from btcn.exchange.live.state import HISTORY_MARGIN_S, Balances, Component, LiveContext

log = logging.getLogger("btcn.exchange.live")


class Reconciler(Component):
    """The venue rules, and the account against the plan and the journal."""

    def __init__(self, cx: LiveContext, resolver: Resolver) -> None:
        super().__init__(cx)
        self.resolver = resolver

    # --- venue rules -------------------------------------------------------------------------------
    def check_rules(self) -> None:
        legs = {run.order.leg for run in self.st.legs.values()}
        problems: list[str] = []
        if Leg.BTC_SPOT in legs:
            self.st.pair_rules = self.gate.currency_pair(self.st.pair)
            live = tr.spot_spec(self.st.pair_rules)
            if self.st.pair_rules.trade_status not in ("tradable", "buyable", "sellable"):
                problems.append(
                    f"{self.st.pair} is not tradable ({self.st.pair_rules.trade_status})"
                )
            o = self.st.legs[Leg.BTC_SPOT].order
            if not is_step_multiple(o.qty_venue, live.step_btc):
                problems.append(f"spot quantity {o.qty_venue} is not a multiple of {live.step_btc}")
            if not is_step_multiple(o.limit_price_usdt, live.tick_usdt):
                problems.append(
                    f"spot limit {o.limit_price_usdt} is not a multiple of the tick {live.tick_usdt}"
                )
        if legs & {Leg.BTC_PERP_LONG, Leg.BTC_PERP_SHORT}:
            self.st.contract_rules = self.gate.contract(self.st.contract)
            live_p = tr.perp_spec(self.st.contract_rules)
            if live_p.multiplier_btc != self.st.mult:
                problems.append(
                    f"contract multiplier is {live_p.multiplier_btc} BTC on Gate but "
                    f"{self.st.mult} in the plan"
                )
            if self.st.contract_rules.in_delisting:
                problems.append(f"{self.st.contract} is being delisted")
            for o in (r.order for r in self.st.legs.values() if r.order.leg is not Leg.BTC_SPOT):
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
    def read_balances(self) -> None:
        """Spot and futures balances again (after a transfer), for the pre-trade check."""
        self.st.balances.futures = self.gate.futures_account()
        self.st.balances.spot = self.gate.spot_accounts()

    def reconcile(self) -> None:
        problems: list[str] = []
        fut = self.gate.futures_account()
        if not tr.is_dual_mode(fut):
            raise ReconcileError(
                "the Gate futures account is not in dual (hedge) mode",
                hint="btcn holds BTC_PERP_LONG and BTC_PERP_SHORT at once: switch the USDT "
                "perpetual account to hedge mode (no open positions or orders allowed while "
                "switching)",
            )
        sides = tr.position_sides(self.gate.dual_positions(self.st.contract), self.st.contract)
        self.st.balances_read = Balances(fut, self.gate.spot_accounts(), sides)
        exp = self.st.expected()
        actual = Holdings(tr.spot_totals(self.st.balances.spot).get("BTC", ZERO),
                          sides["long"].contracts, sides["short"].contracts)  # fmt: skip
        expected = Holdings(exp["spot_btc"], exp["long"], exp["short"])
        problems += differences(expected, actual, dec(self.cx.gs.reconcile_tolerance_btc))
        # Orders with btcn's prefix: ours must all be known; another plan's must not be open.
        mine = f"{PREFIX}{self.st.digest[:12]}-"
        since_s = int((self.st.first_ms or self.st.plan.as_of_ms) / 1000) - HISTORY_MARGIN_S
        open_spot = self.gate.list_spot_orders(self.st.pair, "open")
        open_fut = self.gate.list_futures_orders(self.st.contract, "open")
        foreign = [o.text for o in [*open_spot, *open_fut]
                   if o.text.startswith(PREFIX) and not o.text.startswith(mine)]  # fmt: skip
        if foreign:
            problems.append(
                "open btcn orders of another plan: "
                + ", ".join(sorted(foreign))
                + " (re-run that plan's execute to finish it, or cancel them on Gate)"
            )
        seen = {o.text for o in self.resolver.spot_history(since_s)} | {
            o.text for o in self.resolver.futures_history(since_s)
        }
        seen |= {t.text for t in self.gate.spot_trades(self.st.pair, from_s=since_s)}
        seen |= {t.text for t in self.gate.futures_trades(self.st.contract)}
        unknown = sorted(t for t in seen if t.startswith(mine) and t not in self.st.by_cid)
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
