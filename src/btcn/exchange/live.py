"""``btcn execute --live``: work a plan on Gate, crash-safe and without ever sending an order twice.

Sequence of one run (a re-run of the same plan resumes at whatever step the last one reached):

1. Refuse duplicates: a plan already executed on this venue is reported ``already_executed``.
2. Read the venue rules; the plan's contract multiplier, steps and ticks must match them.
3. **Resolve** every order the journal knows but whose outcome is unknown (intent written, answer
   never seen): look it up by Gate id or client order id (``text``), cancel it if it still rests,
   and book its fills. Not finding it is conclusive only after its ``x-gate-exptime`` deadline.
4. **Reconcile**: dual (hedge) mode on; spot BTC and both perp sides equal the plan's starting
   book plus every fill the journal holds; no open order with btcn's prefix from another plan;
   no order of this plan on the venue that the journal does not know (a lost state store).
5. **Pre-check** every leg still to send (balance, margin, position for closes, minimum size and
   notional, step and tick): if one leg would be rejected, nothing is sent.
6. PostOnly phase: every leg at the plan's limit (``poc``) in one batch per market; wait
   ``[execution] post_only_window``; cancel; the final order state gives the filled quantity.
7. Market phase: the unfilled remainder as IOC — futures ``price "0"`` + ``ioc``; spot a marketable
   limit IOC (best ask/bid moved by ``[gate] spot_ioc_slippage``) so the amount stays in BTC.
8. Report; record the executed plan, and the rebalance time only when every leg completed.

The journal (state store) receives each intent in a committed transaction **before** its request
is sent, and each outcome after. Client order ids are deterministic (plan digest, leg, phase; a
market order whose request provably never reached Gate is re-sent under ``...-m2``, ``...-m3``),
so a run killed at any instant — even between send and acknowledgement — is finished by a re-run
that looks every uncertain id up before anything else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx

from btcn.contracts import (
    ExecutionReport,
    Leg,
    Plan,
    Side,
    dump_json,
)
from btcn.core.ids import PREFIX
from btcn.core.legs import LEG_OF
from btcn.core.money import ZERO, dec, is_step_multiple
from btcn.errors import ExchangeError, InvalidInputError, UsageError
from btcn.exchange import gate_wire as w
from btcn.exchange import translate as tr
from btcn.exchange.clock import Clock, SystemClock
from btcn.exchange.credentials import Credentials, gate_credentials
from btcn.exchange.duplicates import already_executed_report
from btcn.exchange.errors import (
    ORDER_DONE_LABELS,
    POST_ONLY_REJECT_LABELS,
    AuthError,
    ClockSkewError,
    PreTradeCheckFailed,
    RateLimitedError,
    ReconcileError,
    RejectedError,
    ServerError,
    TransportError,
    UncertainOrderError,
    is_not_found,
)
from btcn.exchange.gate import GateClient
from btcn.exchange.journal import (
    Attempt,
    LegRun,
    apply_event,
    attempt_cid,
    chronological,
    fill_json,
    market_of,
    order_report,
)
from btcn.exchange.retry import RetryPolicy
from btcn.runtime.state import StateStore

if TYPE_CHECKING:
    from btcn.stages.execute import ExecuteRequest

log = logging.getLogger("btcn.exchange.live")

VENUE = "gate"
MAX_MARKET_ATTEMPTS = 3
EXPTIME_MARGIN_MS = 1_000
HISTORY_MARGIN_S = 600
RESUME_HINT = "re-run the same command to resume: orders are looked up by client id, never re-sent"


@dataclass
class LiveDeps:
    """What a test injects: a virtual clock, an httpx transport, keys, the retry policy."""

    clock: Clock | None = None
    transport: httpx.BaseTransport | None = None
    credentials: Credentials | None = None
    retry: RetryPolicy | None = None


# --- the executor -------------------------------------------------------------------------------
class LiveExecutor:
    def __init__(
        self, plan: Plan, digest: str, req: ExecuteRequest, gate: GateClient, store: StateStore,
        clock: Clock,
    ) -> None:  # fmt: skip
        self.plan = plan
        self.digest = digest
        self.req = req
        self.settings = req.settings
        self.gs = req.settings.gate
        self.gate = gate
        self.store = store
        self.clock = clock
        self.pair = plan.spot_spec.pair
        self.contract = plan.perp_spec.contract
        self.mult = plan.perp_spec.multiplier_btc
        self.legs: dict[Leg, LegRun] = {o.leg: LegRun(o) for o in plan.orders}
        self.by_cid: dict[str, Attempt] = {}
        self.first_ms: int | None = None  # when this plan was first worked (journal)
        self.pair_rules: w.CurrencyPair | None = None
        self.contract_rules: w.Contract | None = None

    # --- journal ---------------------------------------------------------------------------------
    def _journal(self, entries: list[tuple[str, str, dict[str, Any]]]) -> None:
        self.store.journal_append(self.digest, VENUE, entries, self.clock.now_ms())

    def _load_journal(self) -> bool:
        events = self.store.journal_events(self.digest, VENUE)
        for ev in events:
            apply_event(self.legs, self.by_cid, ev)
        if events:
            self.first_ms = events[0].ts_ms
        return bool(events)

    # --- entry ------------------------------------------------------------------------------------
    def run(self) -> ExecutionReport:
        resumed = self._load_journal()
        now = self.clock.now_ms()
        if not resumed and now - self.plan.as_of_ms > self.gs.max_plan_age_ms:
            raise UsageError(
                f"plan is {(now - self.plan.as_of_ms) // 1000} s old; [gate] max_plan_age is "
                f"{self.gs.max_plan_age}",
                hint="take a fresh snapshot and plan again (btcn fetch snapshot --venue gate)",
            )
        self.gate.sync_clock()
        if abs(self.gate.offset_ms) > 5_000:
            log.warning("local clock is %.1f s off Gate's; using Gate's time",
                        self.gate.offset_ms / 1000)  # fmt: skip
        self._check_rules()
        if resumed:
            log.info("resuming plan %s from the journal", self.digest[:12])
        else:
            self._journal([("", "plan", {
                "as_of_ms": self.plan.as_of_ms,
                "orders": [o.model_dump(mode="json") for o in self.plan.orders],
            })])  # fmt: skip
            self.first_ms = now
        for a in list(self.by_cid.values()):
            if not a.settled:
                self._settle(a)
        self._reconcile()
        self._pre_check()
        self._post_only_phase()
        self._market_phase()
        return self._finish()

    # --- venue rules -------------------------------------------------------------------------------
    def _check_rules(self) -> None:
        legs = set(self.legs)
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
            for leg in legs & {Leg.BTC_PERP_LONG, Leg.BTC_PERP_SHORT}:
                o = self.legs[leg].order
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

    # --- looking orders up -----------------------------------------------------------------------
    def _get_by_id(self, a: Attempt) -> tr.VenueOrder | None:
        assert a.order_id is not None
        try:
            if market_of(a.leg) == "spot":
                return tr.spot_order(self.gate.get_spot_order(a.order_id, self.pair))
            return tr.futures_order(self.gate.get_futures_order(a.order_id))
        except RejectedError as exc:
            if is_not_found(exc):
                return None
            raise

    def _find(self, a: Attempt) -> tr.VenueOrder | None:
        """The venue's view of an attempt, by id when known, else by ``text``; None if absent."""
        if a.order_id is not None:
            found = self._get_by_id(a)
            if found is not None:
                return found
        since_s = int((self.first_ms or self.plan.as_of_ms) / 1000) - HISTORY_MARGIN_S
        if market_of(a.leg) == "spot":
            try:
                return tr.spot_order(self.gate.get_spot_order(a.cid, self.pair))
            except RejectedError as exc:
                if not is_not_found(exc):
                    raise
            # Gate resolves a spot text only while the order is open: search the history.
            for o in self._spot_history(since_s):
                if o.text == a.cid:
                    return tr.spot_order(o)
            trades = [
                t for t in self.gate.spot_trades(self.pair, from_s=since_s) if t.text == a.cid
            ]
        else:
            try:
                return tr.futures_order(self.gate.get_futures_order(a.cid))
            except RejectedError as exc:
                if not is_not_found(exc):
                    raise
            for fo in self._futures_history(since_s):
                if fo.text == a.cid:
                    return tr.futures_order(fo)
            trades_f = [t for t in self.gate.futures_trades(self.contract) if t.text == a.cid]
            trades = trades_f  # type: ignore[assignment]
        if trades:
            a.order_id = trades[0].order_id
            return self._get_by_id(a)
        return None

    def _spot_history(self, since_s: int) -> list[w.SpotOrder]:
        out: list[w.SpotOrder] = []
        out += self.gate.list_spot_orders(self.pair, "open")
        page = 1
        while True:
            rows = self.gate.list_spot_orders(self.pair, "finished", page=page, from_s=since_s)
            out += rows
            if len(rows) < 100 or page >= 20:
                return out
            page += 1

    def _futures_history(self, since_s: int) -> list[w.FuturesOrder]:
        out: list[w.FuturesOrder] = list(self.gate.list_futures_orders(self.contract, "open"))
        offset = 0
        while True:
            rows = self.gate.list_futures_orders(self.contract, "finished", offset=offset)
            out += rows
            oldest = min((tr.seconds_to_ms(r.create_time) or 0 for r in rows), default=0)
            if len(rows) < 100 or oldest < since_s * 1000 or offset >= 2000:
                return out
            offset += 100

    def _fills(self, a: Attempt, order: tr.VenueOrder) -> list[tr.TradeFill]:
        """Fills of a finished order from the trade history; qty must add up to the order's."""
        if order.filled_venue == 0:
            return []
        fills: list[tr.TradeFill] = []
        for _ in range(4):
            if order.market == "spot":
                rows = self.gate.spot_trades(self.pair, order_id=order.order_id)
                base = self.pair_rules.base if self.pair_rules else "BTC"
                quote = self.pair_rules.quote if self.pair_rules else "USDT"
                fills = [tr.spot_fill(t, base, quote) for t in rows]
            else:
                fills = [tr.futures_fill(t) for t in
                         self.gate.futures_trades(self.contract, order_id=order.order_id)]  # fmt: skip
            if sum((f.qty_venue for f in fills), ZERO) == order.filled_venue:
                return sorted(fills, key=chronological)
            self.clock.sleep(0.5)  # the trade feed can lag the order state by a moment
        got = sum((f.qty_venue for f in fills), ZERO)
        missing = order.filled_venue - got
        log.warning("%s: trades show %s of %s filled; booking the rest at the order's average "
                    "price", a.cid, got, order.filled_venue)  # fmt: skip
        if missing > 0 and order.avg_price_usdt is not None:
            fills.append(tr.TradeFill(
                order.market, "unlisted", order.order_id, a.cid, missing, order.avg_price_usdt,
                ZERO, "USDT", ZERO, False, None,
            ))  # fmt: skip
        return fills

    def _cancel(self, a: Attempt, order: tr.VenueOrder) -> tr.VenueOrder:
        """Cancel until the venue shows the order finished; never return while it may fill."""
        for _ in range(3):
            try:
                if order.market == "spot":
                    done = tr.spot_order(self.gate.cancel_spot_order(order.order_id, self.pair))
                else:
                    done = tr.futures_order(self.gate.cancel_futures_order(order.order_id))
                if not done.is_open:
                    return done
            except RejectedError as exc:
                if exc.label not in ORDER_DONE_LABELS:
                    raise
                # Already finished: a fill won the race against the cancel.
            except (TransportError, ServerError) as exc:
                log.warning("%s: cancel failed (%s); checking the order", a.cid, exc.message)
            a.order_id = order.order_id
            current = self._get_by_id(a)
            if current is None:  # a never-filled cancelled futures order vanishes
                return tr.VenueOrder(order.market, order.order_id, a.cid, False, order.qty_venue,
                                     ZERO, None, "cancelled", order.side)  # fmt: skip
            if not current.is_open:
                return current
            order = current
        raise UncertainOrderError(
            f"{a.cid}: order {order.order_id} is still open after 3 cancels", hint=RESUME_HINT
        )

    def _find_or_wait(self, a: Attempt) -> tr.VenueOrder | None:
        """Look an attempt up; "not found" counts only once its request deadline has passed."""
        order = self._find(a)
        if order is None:
            wait_ms = a.exptime_ms + EXPTIME_MARGIN_MS - self.gate.venue_now_ms()
            if wait_ms > 0:
                log.info("%s: not found yet; waiting %.1f s for its request deadline", a.cid,
                         wait_ms / 1000)  # fmt: skip
                self.clock.sleep(wait_ms / 1000)
                order = self._find(a)
        if order is None:
            a.state = "absent"
            self._journal([(a.cid, "absent", {"reason": "not on the venue after its deadline"})])
            log.info("%s: never reached Gate", a.cid)
        return order

    def _settle(self, a: Attempt) -> None:
        """Bring an attempt to a final state (or prove it never existed)."""
        order = self._find_or_wait(a)
        if order is None:
            return
        if order.is_open:
            order = self._cancel(a, order)
        self._final(a, order)

    def _resolve_after_send(self, a: Attempt) -> None:
        """After an ambiguous create: a resting PostOnly keeps resting for its window."""
        order = self._find_or_wait(a)
        if order is None:
            return
        if order.is_open and a.phase == "p":
            a.state = "acked"
            a.order_id = order.order_id
            self._journal([(a.cid, "ack", {"order_id": order.order_id, "open": True,
                                           "filled": str(order.filled_venue)})])  # fmt: skip
            return
        if order.is_open:
            order = self._cancel(a, order)
        self._final(a, order)

    def _final(self, a: Attempt, order: tr.VenueOrder) -> None:
        fills = self._fills(a, order)
        a.state = "final"
        a.order_id = order.order_id
        a.filled = order.filled_venue
        a.avg_price = order.avg_price_usdt
        a.finish_as = order.finish_as
        a.fills = [fill_json(f) for f in fills]
        self._journal([(a.cid, "final", {
            "order_id": order.order_id, "filled": str(order.filled_venue),
            "avg_price": str(order.avg_price_usdt) if order.avg_price_usdt is not None else None,
            "finish_as": order.finish_as, "fills": a.fills,
        })])  # fmt: skip
        log.info("%s: filled %s of %s (%s)", a.cid, order.filled_venue, order.qty_venue,
                 order.finish_as)  # fmt: skip

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
        actual_btc = tr.spot_totals(self.spot_accounts).get("BTC", ZERO)
        tol = dec(self.gs.reconcile_tolerance_btc)
        if abs(actual_btc - exp["spot_btc"]) > tol:
            problems.append(f"spot BTC is {actual_btc}, expected {exp['spot_btc']}")
        for side in ("long", "short"):
            if self.sides[side].contracts != exp[side]:
                problems.append(
                    f"perp {side} is {self.sides[side].contracts} contracts, expected {exp[side]}"
                )
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

    # --- pre-trade checks -------------------------------------------------------------------------
    def _spot_ioc_price(self, side: Side) -> Decimal:
        book = self.gate.spot_order_book(self.pair, limit=5)
        tick = self.plan.spot_spec.tick_usdt
        slip = dec(self.gs.spot_ioc_slippage)
        if side is Side.BUY:
            if not book.asks:
                raise PreTradeCheckFailed(f"{self.pair} has no asks: cannot buy at market")
            raw = Decimal(book.asks[0][0]) * (1 + slip)
            return (raw / tick).to_integral_value(rounding=ROUND_CEILING) * tick
        if not book.bids:
            raise PreTradeCheckFailed(f"{self.pair} has no bids: cannot sell at market")
        raw = Decimal(book.bids[0][0]) * (1 - slip)
        return (raw / tick).to_integral_value(rounding=ROUND_FLOOR) * tick

    def _to_send(self, run: LegRun) -> Decimal:
        """Quantity this run may still send for a leg (0 when the leg is finished)."""
        if run.post is None:
            return run.order.qty_venue
        if not run.post.settled or not all(a.settled for a in run.markets):
            raise UncertainOrderError(
                f"{run.order.leg}: an order's outcome is still unknown", hint=RESUME_HINT
            )
        if run.post.state == "rejected" and run.post.label not in POST_ONLY_REJECT_LABELS:
            return ZERO
        if any(a.state in ("final", "rejected") for a in run.markets):
            return ZERO
        return max(run.remainder, ZERO)

    def _pre_check(self) -> None:
        problems: list[str] = []
        avail = tr.spot_available(self.spot_accounts)
        margin_needed = ZERO
        taker = dec(self.settings.fees.perp_taker)
        for leg, run in self.legs.items():
            qty = self._to_send(run)
            if qty <= 0:
                continue
            o = run.order
            first = run.post is None  # a remainder below the minimum is handled, not refused
            if leg is Leg.BTC_SPOT:
                assert self.pair_rules is not None
                spec = tr.spot_spec(self.pair_rules)
                price = o.limit_price_usdt
                if o.side is Side.BUY:
                    price = max(price, self._spot_ioc_price(o.side))
                if first and (
                    qty < spec.min_qty_btc or qty * o.limit_price_usdt < spec.min_notional_usdt
                ):
                    problems.append(
                        f"{leg}: {qty} BTC is below the minimum ({spec.min_qty_btc} BTC, "
                        f"{spec.min_notional_usdt} USDT)"
                    )
                if o.side is Side.BUY and avail.get("USDT", ZERO) < qty * price:
                    problems.append(
                        f"{leg}: buying {qty} BTC needs up to {qty * price:.2f} USDT, "
                        f"{avail.get('USDT', ZERO)} available"
                    )
                if o.side is Side.SELL and avail.get("BTC", ZERO) < qty:
                    problems.append(
                        f"{leg}: selling {qty} BTC, {avail.get('BTC', ZERO)} BTC available"
                    )
                continue
            assert self.contract_rules is not None
            size_min = tr.to_dec(self.contract_rules.order_size_min)
            size_max = tr.to_dec(self.contract_rules.order_size_max)
            if (first and qty < size_min) or qty > size_max:
                problems.append(f"{leg}: {qty} contracts outside [{size_min}, {size_max}]")
            side_key = "long" if leg is Leg.BTC_PERP_LONG else "short"
            if o.action.value.startswith("CLOSE"):
                held = self.sides[side_key].contracts
                if qty > held:
                    problems.append(f"{leg}: closing {qty} contracts, {held} held")
            else:
                lev = self.sides[side_key].leverage or Decimal(1)  # unknown: assume 1x
                mark = next((lw.price_usdt for lw in self.plan.weights if lw.leg is leg), ZERO)
                price = max(o.limit_price_usdt, mark)
                margin_needed += qty * self.mult * price * (1 / lev + taker)
        fut_avail = tr.to_dec(self.fut_account.available, "futures available")
        if margin_needed > fut_avail:
            problems.append(
                f"perp orders need about {margin_needed:.2f} USDT of margin, {fut_avail} available"
            )
        if problems:
            raise PreTradeCheckFailed(
                "pre-trade check failed, no order was sent: " + "; ".join(problems),
                hint="fund the account or plan again from a fresh snapshot",
            )

    # --- sending ------------------------------------------------------------------------------------
    def _new_attempt(self, run: LegRun, phase: Literal["p", "m"], qty: Decimal) -> Attempt:
        o = run.order
        number = 1 if phase == "p" else len(run.markets) + 1
        cid = attempt_cid(self.digest, o.leg, phase, number)
        if o.leg is Leg.BTC_SPOT:
            price = o.limit_price_usdt if phase == "p" else self._spot_ioc_price(o.side)
            body = tr.spot_order_body(text=cid, pair=self.pair, side=o.side, amount_btc=qty,
                                      price=price, tif="poc" if phase == "p" else "ioc")  # fmt: skip
        else:
            body = tr.futures_order_body(
                text=cid, contract=self.contract, action=o.action, contracts=qty,
                price=o.limit_price_usdt if phase == "p" else None, tif="poc",
            )  # fmt: skip
        exptime = self.gate.venue_now_ms() + self.gs.request_expiry_ms
        return Attempt(cid, o.leg, phase, number, body, exptime)

    def _send(self, attempts: list[Attempt]) -> None:
        """Journal every intent (durably), then send one batch per market."""
        self._journal([(a.cid, "intent", {
            "leg": a.leg.value, "phase": a.phase, "number": a.number, "body": a.body,
            "exptime_ms": a.exptime_ms,
        }) for a in attempts])  # fmt: skip
        for a in attempts:
            self.legs[a.leg].attempts.append(a)
            self.by_cid[a.cid] = a
        for market in ("spot", "futures"):
            batch = [a for a in attempts if market_of(a.leg) == market]
            if batch:
                self._send_batch(market, batch)

    def _send_batch(self, market: str, batch: list[Attempt]) -> None:
        bodies = [a.body for a in batch]
        exptime = min(a.exptime_ms for a in batch)
        log.info("sending %s", ", ".join(f"{a.cid} {a.body.get('time_in_force') or a.body['tif']}"
                                         for a in batch))  # fmt: skip
        try:
            if market == "spot":
                results: list[Any] = self.gate.create_spot_batch(bodies, exptime)
            else:
                results = self.gate.create_futures_batch(bodies, exptime)
        except ExchangeError as exc:
            outcome = _create_outcome(exc)
            names = ", ".join(a.cid for a in batch)
            if outcome == "ambiguous":
                for a in batch:
                    a.state = "ambiguous"
                self._journal([(a.cid, "ambiguous", {"error": exc.message}) for a in batch])
                log.warning("outcome of %s unknown (%s): looking the orders up", names, exc.message)
                for a in batch:
                    self._resolve_after_send(a)
                return
            if outcome == "rejected":
                label = getattr(exc, "label", "")
                for a in batch:
                    a.state = "rejected"
                    a.label = label
                self._journal([(a.cid, "rejected", {"label": label, "message": exc.message})
                               for a in batch])  # fmt: skip
                log.warning("%s rejected: %s", names, exc.message)
                return
            # Provably not executed (expired deadline, 429 after retries, auth, no connection).
            for a in batch:
                a.state = "absent"
            self._journal([(a.cid, "absent", {"reason": exc.message}) for a in batch])
            if outcome == "absent_stop":
                raise
            log.warning("%s not placed: %s", names, exc.message)
            return
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
                self._journal([(a.cid, "rejected", {"label": res.label,
                                                    "message": getattr(res, "message", "") or
                                                    getattr(res, "detail", "")})])  # fmt: skip
                log.info("%s rejected: %s", a.cid, res.label)
                continue
            order = tr.spot_order(res) if market == "spot" else tr.futures_order(res)
            a.order_id = order.order_id
            a.state = "acked"
            self._journal([(a.cid, "ack", {"order_id": order.order_id, "open": order.is_open,
                                           "filled": str(order.filled_venue)})])  # fmt: skip
            if not order.is_open:
                self._final(a, order)

    def _post_only_phase(self) -> None:
        todo = [run for run in self.legs.values() if run.post is None]
        if not todo:
            return
        attempts = [self._new_attempt(run, "p", run.order.qty_venue) for run in todo]
        started = self.clock.now_ms()
        self._send(attempts)
        resting = [a for a in attempts if a.state == "acked"]
        if resting:
            window = self.settings.execution.post_only_window_ms
            wait_ms = started + window - self.clock.now_ms()
            if wait_ms > 0:
                log.info("PostOnly orders resting; waiting %.1f s", wait_ms / 1000)
                self.clock.sleep(wait_ms / 1000)
            for a in resting:
                self._settle(a)

    def _market_min_ok(self, run: LegRun, qty: Decimal) -> bool:
        if run.order.leg is Leg.BTC_SPOT:
            assert self.pair_rules is not None
            spec = tr.spot_spec(self.pair_rules)
            return qty >= spec.min_qty_btc and qty * run.order.limit_price_usdt >= \
                spec.min_notional_usdt  # fmt: skip
        assert self.contract_rules is not None
        return qty >= tr.to_dec(self.contract_rules.order_size_min)

    def _market_phase(self) -> None:
        for _ in range(MAX_MARKET_ATTEMPTS + 1):  # the last round only notes what is left
            todo: list[tuple[LegRun, Decimal]] = []
            for run in self.legs.values():
                qty = self._to_send(run)
                if qty <= 0:
                    continue
                if len(run.markets) >= MAX_MARKET_ATTEMPTS:
                    note = f"market remainder not placed after {MAX_MARKET_ATTEMPTS} tries"
                    if note not in run.detail:
                        run.detail.append(note)
                    continue
                if not self._market_min_ok(run, qty):
                    note = f"remainder {qty} below the venue minimum: not sent"
                    if note not in run.detail:
                        run.detail.append(note)
                    continue
                todo.append((run, qty))
            if not todo:
                return
            self._send([self._new_attempt(run, "m", qty) for run, qty in todo])

    # --- report ---------------------------------------------------------------------------------------
    def _finish(self) -> ExecutionReport:
        orders = [order_report(self.legs[o.leg], self.digest, self.mult) for o in self.plan.orders]
        complete = all(o.status == "filled" for o in orders)
        traded = any(o.filled_qty_venue > 0 for o in orders)
        status = "completed" if complete else "partial" if traded else "failed"
        now = self.clock.now_ms()
        note = "all legs filled on Gate" if complete else (
            "only part of the plan was filled on Gate: see each order's detail; the rebalance "
            "was not recorded, so the next plan can trade again"
        )  # fmt: skip
        report = ExecutionReport(
            as_of_ms=now, venue=VENUE, plan_digest=self.digest, plan_as_of_ms=self.plan.as_of_ms,
            dry_run=False, live=True, status=status, rebalance_recorded=complete,  # type: ignore[arg-type]
            orders=orders, note=note,
        )  # fmt: skip
        with self.store.transaction() as db:
            self.store.journal_append(
                self.digest, VENUE, [("", "done", {"status": status})], now, db
            )
            self.store.record_execution(self.digest, VENUE, now, status, dump_json(report), db)
            if complete:
                self.store.record_rebalance(self.digest, VENUE, self.plan.as_of_ms, now, db)
        return report


def _create_outcome(exc: Exception) -> str:
    """What a failed create means: ``ambiguous`` (look it up), ``rejected`` (the venue refused
    it), ``absent`` (provably never placed; carry on) or ``absent_stop`` (never placed; stop)."""
    if isinstance(exc, TransportError):
        return "ambiguous" if exc.maybe_processed else "absent_stop"
    if isinstance(exc, ServerError):
        return "ambiguous"
    if isinstance(exc, ClockSkewError):
        return "absent"  # Timestamp or x-gate-exptime refused: the venue did not act
    if isinstance(exc, (RateLimitedError, AuthError)):
        return "absent_stop"
    if isinstance(exc, RejectedError):
        return "rejected"
    return "ambiguous"  # e.g. a 2xx whose body cannot be read: the order may well exist


# --- entry point --------------------------------------------------------------------------------
def _validate_plan(plan: Plan) -> None:
    if plan.venue != VENUE:
        raise UsageError(
            f"--live sends orders to Gate, but this plan is for venue {plan.venue!r}",
            hint="plan from a Gate snapshot (btcn fetch snapshot --venue gate), or drop --live",
        )
    seen: set[Leg] = set()
    for o in plan.orders:
        if o.leg in seen:
            raise InvalidInputError(f"plan: two orders for leg {o.leg}; btcn sends one per leg")
        seen.add(o.leg)
        if LEG_OF[o.action] is not o.leg:
            raise InvalidInputError(f"plan: action {o.action} does not belong to leg {o.leg}")
        if o.qty_venue <= 0 or o.limit_price_usdt <= 0:
            raise InvalidInputError(f"plan: {o.leg} needs a positive quantity and limit price")


def gate_client_from_settings(
    settings: Any, credentials: Credentials | None, clock: Clock, *,
    transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None,
) -> GateClient:  # fmt: skip
    gs = settings.gate
    policy = retry or RetryPolicy(max_attempts=gs.max_retries + 1, clock=clock)
    return GateClient(
        gs.base_url, credentials=credentials, settle=gs.settle, timeout_s=gs.timeout_s,
        clock=clock, retry=policy, transport=transport,
    )  # fmt: skip


def execute_live(req: ExecuteRequest, digest: str, deps: LiveDeps | None = None) -> ExecutionReport:
    deps = deps or LiveDeps()
    plan = req.plan
    _validate_plan(plan)
    clock = deps.clock or SystemClock()
    if not plan.orders:
        return ExecutionReport(
            as_of_ms=req.now_ms, venue=VENUE, plan_digest=digest, plan_as_of_ms=plan.as_of_ms,
            dry_run=False, live=True, status="nothing_to_do", rebalance_recorded=False,
            orders=[], note="the plan has no orders: nothing was sent",
        )  # fmt: skip
    credentials = deps.credentials or gate_credentials()
    state_path = req.state_path or Path(req.settings.state.path)
    with StateStore(state_path) as store, store.run_lock(VENUE):
        previous = store.executed_report(digest, VENUE)
        if previous is not None:
            return already_executed_report(
                plan, digest, previous, clock.now_ms(), venue=VENUE, live=True
            )
        with gate_client_from_settings(
            req.settings, credentials, clock, transport=deps.transport, retry=deps.retry
        ) as gate:
            return LiveExecutor(plan, digest, req, gate, store, clock).run()
