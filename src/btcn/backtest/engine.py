"""The event-skipping backtest engine.

Between two events (a fill, a funding settlement, a liquidation) the positions are constant, so
NAV, weights and the trigger condition of a whole stretch of bars are computed at once with the
same array-capable functions the planner uses (:mod:`btcn.core.valuation`,
:mod:`btcn.core.threshold`). At the first bar where the trigger holds, the engine processes that
bar exactly like every other "special" bar: it calls the full planner
(:func:`btcn.core.planner.decide`) just as ``btcn plan`` does. ``naive=True`` processes every bar
that way; a property test shows both modes give identical trades and equity.

Within one bar the order of events is: fills of orders decided earlier, the plan's
``after_orders`` transfers once its orders are all done, the liquidation check (intrabar worst
price), funding at the bar's close, the equity record at the close, and the decision at the close
followed at once by the plan's ``before_orders`` transfers -- before any fill of its orders, as
``btcn execute`` does. The transfers are the plan's own (:mod:`btcn.core.treasury`, computed by
the planner); each is capped, when applied, by what the source wallet then has available.

A decision is due when a leg drifted beyond ``thr`` (or, in book mode, the net delta beyond
``max_delta_drift``) and the cooldown is over, or -- cooldown or not -- when the treasury wants a
transfer-only plan (:class:`btcn.core.treasury.TransferScan`, the float form of
:func:`btcn.core.treasury.plan_transfers` with no orders).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from btcn.backtest.columns import EquityColumns
from btcn.backtest.fills import post_only_fills, taker_price
from btcn.backtest.ledger import Ledger
from btcn.backtest.market import Market
from btcn.backtest.records import (
    BlockedRecord,
    EngineOutput,
    EngineParams,
    LiquidationEvent,
    Pending,
)
from btcn.backtest.unified import UNIFIED_COLUMNS, UnifiedModel, liquidate_account
from btcn.contracts.enums import Action, Leg
from btcn.core import valuation
from btcn.core.book import Quotes
from btcn.core.legs import SIDE_OF
from btcn.core.liquidation import breached, linear_terms, requirement, worst_price
from btcn.core.money import ZERO, dec, round_down_to_step
from btcn.core.planner import decide
from btcn.core.signals import signal_in_force
from btcn.core.threshold import AtrReading
from btcn.core.treasury import (
    Transfer,
    TransferScan,
    TreasuryFloats,
    after_orders_allowed,
    applied_amount,
    available_estimate,
)
from btcn.core.trigger import Fired, fired, in_cooldown

F64 = npt.NDArray[np.float64]


MIN_WINDOW = 256  # bars scanned at once by the fast path, growing while nothing happens
MAX_WINDOW = 65_536


def liquidation_mask(fb: valuation.FloatBook, low: F64, high: F64, k: float) -> F64:
    """:func:`btcn.core.liquidation.breached` for the ledger's float book."""
    return breached(fb.futures_usdt, fb.long_btc, fb.long_entry_usdt, fb.short_btc,
                    fb.short_entry_usdt, k, low, high)  # fmt: skip


class Engine:
    def __init__(self, market: Market, params: EngineParams, first: int, stop: int,
                 progress: Callable[[int], None] | None = None) -> None:  # fmt: skip
        self.m = market
        self.p = params
        self.first = first
        self.stop = stop
        self.progress = progress
        # a unified account's model (fresh per run: it keeps the interest clock); None: classic
        self.unified = UnifiedModel(params.unified) if params.unified is not None else None
        self.equity = EquityColumns(first, stop, UNIFIED_COLUMNS if self.unified else ())
        self.cols = self.equity.cols
        self._window = MIN_WINDOW
        self.ledger = Ledger(params.initial_nav_usdt, params.perp_spec.multiplier_btc,
                             unified=self.unified is not None)  # fmt: skip
        self.pending: list[Pending] = []
        self.plan_filled = False
        self.plan_complete = True  # every order of the plan in flight filled in full so far
        self.last_rebalance_ms: int | None = None
        self.blocked: list[BlockedRecord] = []
        self.liquidations: list[LiquidationEvent] = []
        self.rebalances = 0
        self.decisions = 0
        self.transfers = 0
        self.cancelled = 0
        self.refusals: dict[str, int] = {}
        self.t = params.planner.targets
        self.mmr = float(params.maintenance_margin_rate + params.fees.perp_taker)  # Gate's k
        self.lev = float(params.leverage)
        tp = params.planner.treasury
        self.tf = TreasuryFloats.of(tp) if tp is not None else None
        self.book_mode = params.planner.rebalance == "book"
        self.mdd = params.planner.max_delta_drift
        self.cooldown_ms = params.planner.cooldown_ms
        self.after: list[Transfer] = []  # the decided plan's after_orders transfers
        self._scan_for: valuation.FloatBook | None = None
        self._scan_cache: TransferScan | None = None
        # funding settlements inside [first, stop)
        fb = market.funding_bar
        sel = (fb >= first) & (fb < stop)
        self.f_bars = fb[sel]
        self.f_rates = market.funding_rate[sel]
        self.f_marks = market.funding_mark[sel]
        self.f_ptr = 0
        self.sig_ts = market.signals.timestamps_ms
        self.sig_vals = market.signals.values

    # --- recording -------------------------------------------------------------------------
    def _record(self, lo: int, hi: int) -> None:
        """Note that bars [lo, hi) close with the current ledger; columns are built at the end."""
        self.equity.record(lo, hi, self.ledger.float_book())

    def _fired(self, fb: valuation.FloatBook, sl: slice | int) -> Fired:
        """:func:`btcn.core.trigger.fired` on a stretch of bars or on one bar (as Python floats:
        the same IEEE arithmetic, faster than NumPy scalars)."""
        m = self.m
        if isinstance(sl, int):
            ps, pp, thr = float(m.spot_close[sl]), float(m.perp_close[sl]), float(m.thr[sl])
        else:
            ps, pp, thr = m.spot_close[sl], m.perp_close[sl], m.thr[sl]
        return fired(fb, ps, pp, ps, thr, self.t, book_mode=self.book_mode,
                     max_delta_drift=self.mdd)  # fmt: skip

    def _may_trade(self, j: int) -> bool:
        """The trigger of :meth:`_stretch` for one bar (:mod:`btcn.core.trigger`): some leg beyond
        thr or the net delta beyond its limit, NAV > 0, cooldown over -- or a transfer due.

        When it is false the planner could only answer no_action/cooldown, so it is not called.
        """
        m, fb = self.m, self.ledger.float_book()
        f = self._fired(fb, j)
        if not f.nav > 0:
            return False
        if (f.drift or f.delta) and not in_cooldown(
            int(m.open_ms[j]) + m.bar_ms, self.last_rebalance_ms, self.cooldown_ms
        ):
            return True
        return self.tf is not None and self._scan(fb).due(float(m.perp_close[j]))

    def _scan(self, fb: valuation.FloatBook) -> TransferScan:
        """The treasury's no-order rule for the current book in the mark (cached per book)."""
        if self._scan_for is not fb:
            assert self.tf is not None
            self._scan_cache = TransferScan.of(fb.futures_usdt, fb.spot_usdt, fb.long_btc,
                                               fb.long_entry_usdt, fb.short_btc,
                                               fb.short_entry_usdt, self.tf)  # fmt: skip
            self._scan_for = fb
        assert self._scan_cache is not None
        return self._scan_cache

    # --- the loop ----------------------------------------------------------------------------
    def run(self, naive: bool = False) -> EngineOutput:
        j = self.first
        report_every = max((self.stop - self.first) // 100, 1)
        next_report = j + report_every
        while j < self.stop:
            if naive or self.pending or self._is_funding_bar(j):
                j = self._special(j)
            else:
                j = self._stretch(j)
            if self.progress is not None and j >= next_report:
                self.progress(j - self.first)
                next_report = j + report_every
        self.equity.materialise(self.m, self.lev, self.mmr, unified=self.unified)
        if self.progress is not None:
            self.progress(self.stop - self.first)
        return EngineOutput(
            first=self.first, stop=self.stop, columns=self.cols, ledger=self.ledger,
            blocked=self.blocked, liquidations=self.liquidations, rebalances=self.rebalances,
            decisions=self.decisions, transfers=self.transfers, cancelled_orders=self.cancelled,
            guardrail_refusals=self.refusals,
        )  # fmt: skip

    def _is_funding_bar(self, j: int) -> bool:
        return self.f_ptr < self.f_bars.shape[0] and int(self.f_bars[self.f_ptr]) == j

    def _stretch(self, j: int) -> int:
        """Bars from j on where nothing happens, scanned at once; returns the next bar to do."""
        m = self.m
        end = int(self.f_bars[self.f_ptr]) if self.f_ptr < self.f_bars.shape[0] else self.stop
        # Scan an adaptive window, not everything up to the next event: after a rebalance the rest
        # of the data would otherwise be re-scanned each time (quadratic without funding events).
        end = min(end, self.stop, j + self._window)
        fb = self.ledger.float_book()
        sl = slice(j, end)
        pp = m.perp_close[sl]
        f = self._fired(fb, sl)
        trig = f.drift | f.delta
        if in_cooldown(int(m.open_ms[j]) + m.bar_ms, self.last_rebalance_ms, self.cooldown_ms):
            # bars close in order: only a stretch that starts in the cooldown has bars in it
            trig &= ~in_cooldown(m.open_ms[sl] + m.bar_ms, self.last_rebalance_ms, self.cooldown_ms)
        if self.tf is not None:
            scan = self._scan(fb)
            if scan.maybe(float(pp.min()), float(pp.max())):  # else due on no bar of the stretch
                trig |= scan.due_array(pp)
        trig &= f.nav > 0
        trig |= self._liq_mask(fb, m.perp_low[sl], m.perp_high[sl])
        hits = np.flatnonzero(trig)
        if hits.size:
            k = j + int(hits[0])
            self._window = min(max(MIN_WINDOW, 2 * int(hits[0])), MAX_WINDOW)
        else:
            k = end
            self._window = min(2 * self._window, MAX_WINDOW)
        if k > j:
            self._record(j, k)
        return self._special(k) if k < end else end

    def _special(self, j: int) -> int:
        """Process one bar in full (the reference path)."""
        m = self.m
        bar_open_ms = int(m.open_ms[j])
        if self.unified is not None and self._balance_event(j):
            # on the balance held since the previous event (it changes only at events)
            paid = self.unified.interest_due(self.ledger.spot_usdt, bar_open_ms)
            self.ledger.charge_interest(paid)
            self.cols["interest_usdt"][j - self.first] += float(paid)
        self._fills(j, bar_open_ms)
        self._liquidation(j, bar_open_ms)
        if self._is_funding_bar(j):
            rate = dec(float(self.f_rates[self.f_ptr]))
            mark_f = float(self.f_marks[self.f_ptr])
            mark = dec(mark_f) if not math.isnan(mark_f) else dec(float(m.perp_close[j]))
            paid = self.ledger.pay_funding(rate, mark)
            self.cols["funding_usdt"][j - self.first] += float(paid)
            self.f_ptr += 1
        self._record(j, j + 1)
        if not self.pending and j < self.stop - 1 and self._may_trade(j):
            self._decide(j)
        return j + 1

    # --- events --------------------------------------------------------------------------------
    def _fills(self, j: int, ts_ms: int) -> None:
        if not self.pending:
            return
        m, p, led = self.m, self.p, self.ledger
        still: list[Pending] = []
        fee_bar = ZERO
        rests = {id(o): self._rest_fills(o, j) for o in self.pending
                 if o.fill_bar == j and o.phase == "post"}  # fmt: skip
        # Legging control (as execute does): once one leg's PostOnly order filled, the legs still
        # resting go market at once at their own limit price moved by the slippage -- in live
        # trading the remainder follows within the PostOnly window, not a bar later.
        legged = any(rests.values()) and not all(rests.values())
        for o in self.pending:
            if o.fill_bar != j:
                still.append(o)
                continue
            spot = o.leg is Leg.BTC_SPOT
            buy = SIDE_OF[o.action].value == "BUY"
            if o.phase == "post":
                if rests[id(o)]:
                    price, maker = o.limit, True
                elif legged:
                    price, maker = taker_price(buy, o.limit, p.slippage), False
                elif j + 1 < self.stop and m.contiguous_next[j]:
                    still.append(Pending(o.leg, o.action, o.qty_btc, o.limit, j + 1, "market"))
                    continue
                else:
                    self.cancelled += 1
                    self.plan_complete = False
                    continue
            else:
                bar_open = m.spot_open[j] if spot else m.perp_open[j]
                price, maker = taker_price(buy, dec(float(bar_open)), p.slippage), False
            rate = p.fees.rate(o.leg, maker)
            qty = o.qty_btc
            if spot:  # never leveraged: cut to what the balances allow
                if buy:  # the fee is taken in BTC: the USDT pays the quantity only
                    qty = min(qty, round_down_to_step(led.spot_usdt / price, p.spot_spec.step_btc))
                else:
                    qty = min(qty, round_down_to_step(led.spot.qty_btc, p.spot_spec.step_btc))
            else:
                held = led.tracker(o.leg).qty_btc
                if o.action in (Action.CLOSE_LONG, Action.CLOSE_SHORT):
                    qty = min(qty, held)
            if qty < o.qty_btc:
                self.plan_complete = False
            if qty <= 0:
                self.cancelled += 1
                continue
            rec = led.fill(
                j, ts_ms, o.leg, o.action, qty, price, rate, "maker" if maker else "taker"
            )
            fee_bar += rec.fee_usdt
            self.plan_filled = True
        self.cols["fees_usdt"][j - self.first] += float(fee_bar)
        self.pending = still
        if not still:
            self._plan_ended(j)

    def _plan_ended(self, j: int) -> None:
        """Every order of the plan in flight has ended: its after-orders transfers, as the one
        after-orders policy (:func:`btcn.core.treasury.after_orders_allowed`) allows."""
        if self.plan_filled:
            self.plan_filled = False
            self.rebalances += 1
        done = [t for t in self.after if after_orders_allowed(t.from_wallet, self.plan_complete)]
        self._apply_transfers(j, done)
        self.after = []
        self.plan_complete = True

    def _rest_fills(self, o: Pending, j: int) -> bool:
        """Whether a resting PostOnly order fills during bar j (the bar trades through it)."""
        m = self.m
        spot = o.leg is Leg.BTC_SPOT
        lo = m.spot_low[j] if spot else m.perp_low[j]
        hi = m.spot_high[j] if spot else m.perp_high[j]
        return post_only_fills(
            SIDE_OF[o.action].value == "BUY", float(o.limit), float(lo), float(hi)
        )

    def _apply_transfers(self, j: int, transfers: list[Transfer] | tuple[Transfer, ...]) -> None:
        """Perform transfers in order, each moving :func:`btcn.core.treasury.applied_amount`: the
        planned amount capped by what its source wallet has available now (spot USDT; futures: the
        wallet less margin and unrealised loss, never unrealised profit), to the cent, none under
        the dust level."""
        led = self.ledger
        tp = self.p.planner.treasury
        dust = tp.dust_usdt if tp is not None else ZERO
        for t in transfers:
            if t.from_wallet == "spot":
                available = led.spot_usdt
            else:
                mark = dec(float(self.m.perp_close[j]))
                available = available_estimate(led.book(), mark, led.mult, self.p.leverage)
            amount = applied_amount(t.amount_usdt, available, dust)
            if t.from_wallet == "futures":
                amount = -amount
            if amount:
                led.transfer_to_futures(amount)
                self.transfers += 1
                self.cols["transfer_usdt"][j - self.first] += float(amount)

    def _balance_event(self, j: int) -> bool:
        """Whether the USDT balance may change at bar j (fills, funding, a liquidation): the bars
        both the event-skipping path and the bar-by-bar loop process in full."""
        if self.pending or self._is_funding_bar(j):
            return True
        return bool(self._liq_mask(self.ledger.float_book(), float(self.m.perp_low[j]),
                                   float(self.m.perp_high[j])))  # fmt: skip

    def _liq_mask(self, fb: valuation.FloatBook, low: F64, high: F64) -> F64:
        if self.unified is not None:
            return self.unified.liquidation_mask(fb, low, high)
        return liquidation_mask(fb, low, high, self.mmr)

    def _transfers_at_close(self, j: int, transfers: list[Transfer]) -> None:
        """A decision's transfers at bar j's close: the bar's row (already recorded) shows the
        wallets after them, so ``transfer_usdt``, the wallets, the margin ratio and the
        liquidation distance of one row agree."""
        done = self.transfers
        self._apply_transfers(j, transfers)
        if self.transfers != done:
            self.equity.rerecord(j, self.ledger.float_book())

    def _liquidation(self, j: int, ts_ms: int) -> None:
        m, led = self.m, self.ledger
        fb = led.float_book()
        if fb.long_btc + fb.short_btc == 0:
            return
        if self.unified is not None:  # the whole account, by the unified rule
            done = liquidate_account(m, led, self.unified, self.p.fees, j, ts_ms)
            if done is not None:
                self.cols["fees_usdt"][j - self.first] += float(done[0])
                self.liquidations.append(done[1])
                self.pending = []
            return
        lo, hi = float(m.perp_low[j]), float(m.perp_high[j])
        if not liquidation_mask(fb, lo, hi, self.mmr):
            return
        # the extreme of the bar where equity minus the requirement is lowest
        _, b = linear_terms(fb.futures_usdt, fb.long_btc, fb.long_entry_usdt, fb.short_btc,
                            fb.short_entry_usdt, self.mmr)  # fmt: skip
        price_f = worst_price(b, lo, hi)
        equity = fb.futures_usdt + valuation.unrealized_pnl(fb, price_f)
        maint = requirement(fb.long_btc, fb.short_btc, self.mmr, price_f)
        price = dec(price_f)
        rate = self.p.fees.perp_taker
        fee_bar = ZERO
        for leg, action in (
            (Leg.BTC_PERP_LONG, Action.CLOSE_LONG),
            (Leg.BTC_PERP_SHORT, Action.CLOSE_SHORT),
        ):
            qty = led.tracker(leg).qty_btc
            if qty > 0:
                fee_bar += led.fill(j, ts_ms, leg, action, qty, price, rate, "liquidation").fee_usdt
        absorbed = ZERO
        if led.futures_usdt < 0:  # the exchange's insurance fund takes a negative balance
            absorbed = -led.futures_usdt
            led.futures_usdt = ZERO
            led._changed()
        self.cols["fees_usdt"][j - self.first] += float(fee_bar)
        self.liquidations.append(LiquidationEvent(j, ts_ms, price_f, equity, maint, absorbed))
        kept = [o for o in self.pending if o.leg is Leg.BTC_SPOT]
        if len(kept) < len(self.pending):
            self.plan_complete = False  # the liquidation ended the perp orders
            self.pending = kept
            if not kept:
                self._plan_ended(j)

    def _decide(self, j: int) -> None:
        m, p = self.m, self.p
        as_of = int(m.open_ms[j]) + m.bar_ms
        ps = dec(float(m.spot_close[j]))
        quotes = Quotes(p_ref=ps, spot=ps, perp_mark=dec(float(m.perp_close[j])))
        atr = AtrReading(float(m.atr[j]), int(m.atr_used[j]))
        signal = signal_in_force(self.sig_ts, self.sig_vals, as_of, p.planner.signal_max_age_ms)
        d = decide(
            self.ledger.book(), quotes, p.spot_spec, p.perp_spec, p.planner, now_ms=as_of, atr=atr,
            signal=signal, last_rebalance_ms=self.last_rebalance_ms, data_as_of_ms=as_of,
        )  # fmt: skip
        self.decisions += 1
        if d.safe_mode:
            for g in d.guardrails:
                if not g.ok:
                    self.refusals[g.name] = self.refusals.get(g.name, 0) + 1
        for b in d.blocked:
            self.blocked.append(BlockedRecord(as_of, b.leg.value, b.action.value, b.side.value,
                                              b.signal.value, b.rule, b.qty_btc, b.notional_usdt))  # fmt: skip
        before = [t for t in d.transfers if t.when == "before_orders"]
        after = [t for t in d.transfers if t.when == "after_orders"]
        if not d.orders or not m.contiguous_next[j]:
            if d.orders:
                self.cancelled += len(d.orders)  # nothing to fill on: a data gap follows
                return
            self._transfers_at_close(j, before + after)  # a transfer-only plan
            return
        self._transfers_at_close(j, before)  # before any fill of this plan's orders
        self.after = after
        self.last_rebalance_ms = as_of
        self.pending = [
            Pending(o.leg, o.action, o.qty_btc, o.limit_price_usdt, j + 1, "post") for o in d.orders
        ]


def run_engine(market: Market, params: EngineParams, first: int, stop: int, *, naive: bool = False,
               progress: Callable[[int], None] | None = None) -> EngineOutput:  # fmt: skip
    return Engine(market, params, first, stop, progress).run(naive=naive)
