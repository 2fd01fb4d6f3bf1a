"""Sending: the PostOnly phase, then the market remainders; every intent journaled first."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from btcn.contracts import Leg
from btcn.core.ids import Phase
from btcn.core.legs import delta_sign
from btcn.errors import ExchangeError
from btcn.exchange import translate as tr
from btcn.exchange.errors import UncertainOrderError, write_outcome
from btcn.exchange.gate_unified import spot_account
from btcn.exchange.journal import (
    AbsentPayload,
    AckPayload,
    AmbiguousPayload,
    Attempt,
    DeadlinePayload,
    IntentPayload,
    LegRun,
    RejectedPayload,
    attempt_cid,
    market_of,
)
from btcn.exchange.live.legging import (
    LegFill,
    perp_remainders,
    planned_spot_fee_fraction,
    spot_remainder,
)
from btcn.exchange.live.precheck import PreChecker
from btcn.exchange.live.resolve import Resolver
from btcn.exchange.live.state import (
    MAX_MARKET_ATTEMPTS,
    RESUME_HINT,
    Component,
    LiveContext,
    to_send,
)

log = logging.getLogger("btcn.exchange.live")


class Phases(Component):
    """Sending: the realise orders, the PostOnly phase, the market remainders (hedge sized to
    fills); every intent journaled before its request."""

    def __init__(self, cx: LiveContext, resolver: Resolver, prices: PreChecker) -> None:
        super().__init__(cx)
        self.resolver = resolver
        self.prices = prices

    # --- sending ------------------------------------------------------------------------------------
    def _new_attempt(self, run: LegRun, phase: Phase, qty: Decimal) -> Attempt:
        """An attempt's body; its deadline is set when its request is sent (:meth:`_send`)."""
        o = run.order
        number = 1 if phase == "p" else len(run.markets) + 1
        cid = attempt_cid(self.st.digest, o.leg, phase, number, run.purpose)
        if o.leg is Leg.BTC_SPOT:
            price = o.limit_price_usdt if phase == "p" else self.prices.spot_ioc_price(o.side)
            body = tr.spot_order_body(text=cid, pair=self.st.pair, side=o.side, amount_btc=qty,
                                      price=price, tif="poc" if phase == "p" else "ioc",
                                      account=spot_account(self.cx.settings))  # fmt: skip
        else:
            body = tr.futures_order_body(
                text=cid, contract=self.st.contract, action=o.action, contracts=qty,
                price=o.limit_price_usdt if phase == "p" else None, tif="poc",
            )  # fmt: skip
        return Attempt(cid, o.leg, phase, number, body, 0, purpose=run.purpose)

    def _intent(self, a: Attempt) -> IntentPayload:
        p = IntentPayload(leg=a.leg.value, phase=a.phase, number=a.number, body=a.body,
                          exptime_ms=a.exptime_ms)  # fmt: skip
        if a.purpose != "rebalance":
            p["purpose"] = a.purpose
        if a.purpose == "compensate":  # not in the plan: a re-run needs its order
            p["order"] = self.st.legs[a.key].order.model_dump(mode="json")
        return p

    def _deadline(self) -> int:
        return self.gate.venue_now_ms() + self.cx.gs.request_expiry_ms

    def _send(self, attempts: list[Attempt]) -> None:
        """One batch per market. Each batch's intents are journaled (durably) with a deadline
        computed just before that batch is sent; answers that are ambiguous are looked up once
        every batch is out, so a slow market never makes another market's deadline stale."""
        unknown: list[Attempt] = []
        for market in ("spot", "futures"):
            batch = [a for a in attempts if market_of(a.leg) == market]
            if not batch:
                continue
            deadline = self._deadline()
            for a in batch:
                a.exptime_ms = deadline
            self.cx.journal([(a.cid, "intent", self._intent(a)) for a in batch])
            for a in batch:
                self.st.legs[a.key].attempts.append(a)
                self.st.by_cid[a.cid] = a
            unknown += self._send_batch(market, batch)
        for a in unknown:
            self.resolver.resolve_after_send(a)

    def _batch_deadline(self, batch: list[Attempt]) -> Callable[[], int]:
        """The ``x-gate-exptime`` of each attempt of one request: the journaled deadline for the
        first; a retry (after a clock re-sync) gets a fresh one, journaled before it is sent."""
        calls = [0]

        def deadline() -> int:
            calls[0] += 1
            current = min(a.exptime_ms for a in batch)
            if calls[0] == 1 and current > self.gate.venue_now_ms():
                return current
            fresh = self._deadline()
            self.cx.journal([(a.cid, "deadline", DeadlinePayload(exptime_ms=fresh)) for a in batch])
            for a in batch:
                a.exptime_ms = max(a.exptime_ms, fresh)
            return fresh

        return deadline

    def _send_batch(self, market: str, batch: list[Attempt]) -> list[Attempt]:
        """Send one batch; returns the attempts whose outcome is unknown (to be looked up)."""
        bodies = [a.body for a in batch]
        deadline = self._batch_deadline(batch)
        log.info("sending %s", ", ".join(f"{a.cid} {a.body.get('time_in_force') or a.body['tif']}"
                                         for a in batch))  # fmt: skip
        try:
            if market == "spot":
                results: list[Any] = self.gate.create_spot_batch(bodies, deadline)
            else:
                results = self.gate.create_futures_batch(bodies, deadline)
        except ExchangeError as exc:
            outcome = write_outcome(exc)
            names = ", ".join(a.cid for a in batch)
            if outcome == "ambiguous":
                for a in batch:
                    a.state = "ambiguous"
                self.cx.journal(
                    [(a.cid, "ambiguous", AmbiguousPayload(error=exc.message)) for a in batch]
                )
                log.warning("outcome of %s unknown (%s): looking the orders up", names, exc.message)
                return list(batch)
            if outcome == "rejected":
                label = getattr(exc, "label", "")
                for a in batch:
                    a.state = "rejected"
                    a.label = label
                self.cx.journal([(a.cid, "rejected", RejectedPayload(label=label, message=exc.message))
                               for a in batch])  # fmt: skip
                log.warning("%s rejected: %s", names, exc.message)
                return []
            # Provably not executed (expired deadline, 429 after retries, auth, no connection).
            for a in batch:
                a.state = "absent"
            self.cx.journal([(a.cid, "absent", AbsentPayload(reason=exc.message)) for a in batch])
            if outcome == "absent_stop":
                raise
            log.warning("%s not placed: %s", names, exc.message)
            return []
        if len(results) != len(batch):
            raise UncertainOrderError(
                f"gate answered {len(results)} results for {len(batch)} orders", hint=RESUME_HINT
            )
        for a, res in zip(batch, results, strict=True):
            if res.text and res.text != a.cid:
                raise UncertainOrderError(
                    f"batch answer out of order ({res.text} for {a.cid})", hint=RESUME_HINT
                )
            if not res.succeeded:
                a.state = "rejected"
                a.label = res.label
                self.cx.journal([(a.cid, "rejected", RejectedPayload(
                    label=res.label,
                    message=getattr(res, "message", "") or getattr(res, "detail", "")))])  # fmt: skip
                log.info("%s rejected: %s", a.cid, res.label)
                continue
            order = tr.spot_order(res) if market == "spot" else tr.futures_order(res)
            a.order_id = order.order_id
            a.state = "acked"
            self.cx.journal([(a.cid, "ack", AckPayload(
                order_id=order.order_id, open=order.is_open, filled=str(order.filled_venue)))])  # fmt: skip
            if not order.is_open:
                self.resolver.final(a, order)
        return []

    def post_only_phase(self) -> None:
        todo = [run for run in self.st.legs.values() if run.post is None and not run.market_only]
        if not todo:
            return
        attempts = [self._new_attempt(run, "p", run.order.qty_venue) for run in todo]
        started = self.clock.now_ms()
        self._send(attempts)
        resting = [a for a in attempts if a.state == "acked"]
        if resting:
            window = self.cx.settings.execution.post_only_window_ms
            wait_ms = started + window - self.clock.now_ms()
            if wait_ms > 0:
                log.info("PostOnly orders resting; waiting %.1f s", wait_ms / 1000)
                self.clock.sleep(wait_ms / 1000)
            for a in resting:
                self.resolver.settle(a)

    def _market_min_ok(self, run: LegRun, qty: Decimal) -> bool:
        if run.order.leg is Leg.BTC_SPOT:
            assert self.st.pair_rules is not None
            spec = tr.spot_spec(self.st.pair_rules)
            return qty >= spec.min_qty_btc and qty * run.order.limit_price_usdt >= \
                spec.min_notional_usdt  # fmt: skip
        assert self.st.contract_rules is not None
        return qty >= tr.to_dec(self.st.contract_rules.order_size_min)

    # --- market phase: hedge sized to fills ---------------------------------------------------------
    def _leg_fill(self, run: LegRun) -> LegFill:
        o = run.order
        unit = Decimal(1) if o.leg is Leg.BTC_SPOT else self.st.mult
        return LegFill(o.leg, delta_sign(o.action), unit, o.qty_venue, run.filled,
                       to_send(run))  # fmt: skip

    def _note(self, run: LegRun, note: str) -> None:
        if note not in run.detail:
            run.detail.append(note)

    def market_phase(self) -> None:
        """Spot remainder first (cut if a perp leg can no longer fill), then the perp remainders
        sized to what spot really filled (:mod:`btcn.exchange.live.legging`)."""
        fee = planned_spot_fee_fraction(self.st.plan)
        spot = self.st.legs.get(Leg.BTC_SPOT)
        # realise orders first (final by now: they went before the transfers), then the legs
        perps = self.st.perp_runs()
        if spot is not None:

            def spot_size(run: LegRun) -> Decimal:
                want = self._leg_fill(run)
                qty = spot_remainder(want, [self._leg_fill(p) for p in perps], fee,
                                     self.st.plan.spot_spec.step_btc)  # fmt: skip
                if qty < want.can_send:
                    self._note(run, f"market remainder cut from {want.can_send} to {qty} BTC: a "
                               "perp leg could not fill (hedge sized to fills)")  # fmt: skip
                    self.st.hedge_rules.add("spot_sized_to_perp")
                return qty

            self.market_rounds([spot], spot_size)
        if perps:

            def perp_size(run: LegRun) -> Decimal:
                sized, _ = perp_remainders(
                    self._leg_fill(spot) if spot is not None else None,
                    [self._leg_fill(p) for p in perps], fee,
                )  # fmt: skip
                qty = sized[perps.index(run)]
                can = to_send(run)
                if qty < can:
                    self._note(run, f"market remainder cut from {can} to {qty} contracts to "
                               "match what BTC_SPOT filled (hedge sized to fills)")  # fmt: skip
                    self.st.hedge_rules.add("perp_sized_to_spot")
                return qty

            self.market_rounds([r for r in perps if not r.market_only], perp_size)

    def realise_phase(self) -> None:
        """Realise orders (closing part of a profitable short, so Gate realises the profit and
        it becomes transferable) go first, straight to market (IOC), before the transfers; the
        leg's rebalance order re-opens the short in the PostOnly and market phases."""
        runs = [r for r in self.st.legs.values() if r.purpose == "realise"]
        if runs:
            self.market_rounds(runs, to_send)

    def market_rounds(self, runs: list[LegRun], size: Callable[[LegRun], Decimal]) -> None:
        for _ in range(MAX_MARKET_ATTEMPTS + 1):  # the last round only notes what is left
            todo: list[tuple[LegRun, Decimal]] = []
            for run in runs:
                if to_send(run) <= 0:
                    continue
                qty = size(run)
                if qty <= 0:
                    continue
                if len(run.markets) >= MAX_MARKET_ATTEMPTS:
                    self._note(
                        run, f"market remainder not placed after {MAX_MARKET_ATTEMPTS} tries"
                    )
                    continue
                if not self._market_min_ok(run, qty):
                    self._note(run, f"remainder {qty} below the venue minimum: not sent")
                    continue
                todo.append((run, qty))
            if not todo:
                return
            self._send([self._new_attempt(run, "m", qty) for run, qty in todo])
