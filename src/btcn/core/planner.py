"""The rebalance decision: one pure function shared by ``btcn plan`` and the backtester.

Order of work in :func:`decide`:

1. value the book (floats, the same arithmetic as the backtester's window scan) and the threshold;
2. guardrails that empty the plan (NAV, data age, price deviation) and the cooldown;
3. sizing. ``rebalance = "book"`` (default in settings): when any leg's ``|w - target| > thr`` or
   ``|net delta| > max_delta_drift``, spot to its target and the perp legs hedged to the planned
   spot (:mod:`btcn.core.book_sizing`). ``"per_leg"`` (btcn 0.1): every leg beyond ``thr`` sized
   on its own (:func:`btcn.core.sizing.size_leg`), rounded toward zero to the venue step;
4. guardrails on the sized orders (net delta: risk-reducing only; order notional: empty plan);
5. signal gating: orders the signal forbids move to ``blocked`` with their rule; it never resizes
   another leg, and ``net_delta_after`` reports the tilt it leaves;
6. the treasury's transfers for the orders that remain (:mod:`btcn.core.treasury`), also during
   the cooldown (a transfer is not a rebalance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from btcn.contracts.enums import LEGS, Leg
from btcn.contracts.plan import PlanStatus, RebalanceMode, ThresholdSource, Trigger
from btcn.contracts.snapshot import PerpSpec, SpotSpec
from btcn.core import valuation
from btcn.core.book import Book, Quotes
from btcn.core.book_sizing import size_book, spot_cost, spot_proceeds
from btcn.core.gating import blocking_rule
from btcn.core.guardrails import GuardrailCheck, net_delta_check, notional_check, pre_guardrails
from btcn.core.intents import Blocked, Dropped, OrderIntent, PlannerParams
from btcn.core.money import ZERO
from btcn.core.projection import net_delta_btc, project
from btcn.core.signals import SignalReading
from btcn.core.sizing import size_leg
from btcn.core.threshold import AtrReading, threshold
from btcn.core.treasury import Transfer, plan_transfers
from btcn.core.trigger import fired, in_cooldown
from btcn.core.unified_guard import loan_check, margin_check

Status = PlanStatus


@dataclass(frozen=True, slots=True)
class ThresholdDecision:
    thr: float
    floor: float
    atr_multiplier: float
    atr_window_ms: int
    atr_periods: int
    atr_candles_used: int
    atr_24h_usdt: float | None
    atr_term: float | None
    source: ThresholdSource
    note: str


@dataclass(frozen=True, slots=True)
class CooldownState:
    cooldown_ms: int
    last_rebalance_ms: int | None
    next_allowed_ms: int | None
    active: bool


@dataclass(frozen=True, slots=True)
class LegState:
    leg: Leg
    qty_btc: Decimal
    price_usdt: Decimal
    notional_usdt: Decimal
    weight: float
    target: float
    drift: float


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    safe_mode: bool
    nav_usdt: Decimal
    net_delta_btc: Decimal
    net_delta_pct_nav: float
    threshold: ThresholdDecision
    cooldown: CooldownState
    signal: SignalReading
    guardrails: tuple[GuardrailCheck, ...]
    legs: tuple[LegState, ...]
    orders: tuple[OrderIntent, ...] = field(default=())
    blocked: tuple[Blocked, ...] = field(default=())
    dropped: tuple[Dropped, ...] = field(default=())
    rebalance: RebalanceMode = "book"
    trigger: Trigger | None = None
    net_delta_after_btc: Decimal = ZERO
    net_delta_after_pct_nav: float = math.nan
    transfers: tuple[Transfer, ...] = field(default=())


def threshold_decision(atr: AtrReading, p_ref: float, params: PlannerParams) -> ThresholdDecision:
    thr = threshold(atr.atr_usdt, p_ref, params.threshold_floor, params.atr_multiplier)
    have_atr = not math.isnan(atr.atr_usdt) and atr.candles_used > 0
    term = params.atr_multiplier * atr.atr_usdt / p_ref if have_atr else None
    if not have_atr:
        note = "no full 24h candle in the data yet: threshold is the floor alone"
    elif atr.candles_used < params.atr_periods:
        note = f"ATR from {atr.candles_used} of {params.atr_periods} 24h candles (short history)"
    else:
        note = f"ATR from {atr.candles_used} 24h candles"
    source: ThresholdSource = (
        "atr" if term is not None and term > params.threshold_floor else "floor"
    )
    return ThresholdDecision(
        thr=thr,
        floor=params.threshold_floor,
        atr_multiplier=params.atr_multiplier,
        atr_window_ms=params.atr_window_ms,
        atr_periods=params.atr_periods,
        atr_candles_used=atr.candles_used if have_atr else 0,
        atr_24h_usdt=atr.atr_usdt if have_atr else None,
        atr_term=term,
        source=source,
        note=note,
    )


def cooldown_state(now_ms: int, last_rebalance_ms: int | None, cooldown_ms: int) -> CooldownState:
    """At most one rebalance per ``cooldown_ms``, measured from the last executed rebalance."""
    if last_rebalance_ms is None:
        return CooldownState(cooldown_ms, None, None, False)
    active = bool(in_cooldown(now_ms, last_rebalance_ms, cooldown_ms))
    return CooldownState(cooldown_ms, last_rebalance_ms, last_rebalance_ms + cooldown_ms, active)


@dataclass(frozen=True, slots=True)
class BookValuation:
    fb: valuation.FloatBook  # the book as the float trigger sees it
    nav_f: float  # the float NAV the trigger uses
    nav_usdt: Decimal  # the exact NAV sizing uses
    legs: tuple[LegState, ...]
    net_delta_btc: Decimal
    net_delta_frac: float  # net delta * P_ref / NAV (NaN when NAV <= 0)


def value_book(
    book: Book, quotes: Quotes, multiplier_btc: Decimal, targets: tuple[float, float, float]
) -> BookValuation:
    """NAV, each leg's quantity, notional, weight and drift, and the net delta."""
    fb = valuation.FloatBook.of(book, multiplier_btc)
    p_spot, p_perp = float(quotes.spot), float(quotes.perp_mark)
    nav_f = valuation.nav(fb, p_spot, p_perp)
    if nav_f > 0:
        _, w_spot, w_long, w_short = valuation.weights(fb, p_spot, p_perp)
        ws: tuple[float, float, float] = (w_spot, w_long, w_short)
    else:
        ws = (math.nan, math.nan, math.nan)
    qty = (
        book.spot_btc,
        book.long_contracts * multiplier_btc,
        book.short_contracts * multiplier_btc,
    )
    prices = (quotes.spot, quotes.perp_mark, quotes.perp_mark)
    legs = tuple(
        LegState(leg, q, p, q * p, w, t, w - t)
        for leg, q, p, w, t in zip(LEGS, qty, prices, ws, targets, strict=True)
    )
    net = qty[0] + qty[1] - qty[2]
    frac = float(net) * float(quotes.p_ref) / nav_f if nav_f > 0 else math.nan
    return BookValuation(
        fb, nav_f, valuation.nav_decimal(book, quotes, multiplier_btc), legs, net, frac
    )


def decide(
    book: Book,
    quotes: Quotes,
    spot_spec: SpotSpec,
    perp_spec: PerpSpec,
    params: PlannerParams,
    *,
    now_ms: int,
    atr: AtrReading,
    signal: SignalReading,
    last_rebalance_ms: int | None,
    data_as_of_ms: int | None,
) -> Decision:
    mult = perp_spec.multiplier_btc
    thr_info = threshold_decision(atr, float(quotes.p_ref), params)
    thr = thr_info.thr
    cooldown = cooldown_state(now_ms, last_rebalance_ms, params.cooldown_ms)

    val = value_book(book, quotes, mult, params.targets)
    nav_f, nav_d, legs = val.nav_f, val.nav_usdt, val.legs
    ws = tuple(leg.weight for leg in legs)
    qty_btc = tuple(leg.qty_btc for leg in legs)
    net_btc, net_pct = val.net_delta_btc, val.net_delta_frac

    checks = pre_guardrails(nav_f, quotes, now_ms, data_as_of_ms, params)
    base = dict(
        nav_usdt=nav_d,
        net_delta_btc=net_btc,
        net_delta_pct_nav=net_pct * 100.0,
        threshold=thr_info,
        cooldown=cooldown,
        signal=signal,
        legs=legs,
    )
    if any(not c.ok for c in checks):
        return _finish(book, quotes, perp_spec, params, treasury=False, status="safe_mode",
                       safe_mode=True, guardrails=tuple(checks), **base)  # fmt: skip
    if cooldown.active:
        # a transfer is not a rebalance: a margin top-up may happen during the cooldown
        return _finish(book, quotes, perp_spec, params, status="cooldown", safe_mode=False,
                       guardrails=tuple(checks), **base)  # fmt: skip

    book_mode = params.rebalance == "book"
    f = fired(val.fb, float(quotes.spot), float(quotes.perp_mark),
              float(quotes.p_ref), thr, params.targets, book_mode=book_mode,
              max_delta_drift=params.max_delta_drift)  # fmt: skip
    drift, delta_fired = bool(f.drift), bool(f.delta)
    trigger: Trigger | None = "drift" if drift else "delta" if delta_fired else None
    intents: list[OrderIntent] = []
    dropped: list[Dropped] = []
    if book_mode and trigger is not None:
        sized = size_book(book, quotes, spot_spec, perp_spec, params, nav_d=nav_d,
                          weight_spot=ws[0], thr=thr, drift=drift, signal=signal.value)  # fmt: skip
        intents, dropped = list(sized.intents), list(sized.dropped)
    elif not book_mode:
        for i, leg in enumerate(LEGS):
            target = params.targets[i]
            if not valuation.beyond(ws[i], target, thr):
                continue
            intent, drop = size_leg(
                leg,
                target,
                qty_btc[i],
                nav_d,
                book,
                quotes,
                spot_spec,
                perp_spec,
                params,
                ws[i],
                thr,
            )
            if intent is not None:
                intents.append(intent)
            if drop is not None:
                dropped.append(drop)

    def after(orders: Sequence[OrderIntent]) -> tuple[Decimal, float]:
        btc = _net_after(book, orders, mult, params)
        return btc, _frac(btc, quotes, nav_f)

    delta_check, intents, refused = net_delta_check(intents, net_btc, net_pct, after, params,
                                                    book_mode=book_mode)  # fmt: skip
    checks.append(delta_check)
    dropped += refused
    delta_ok = delta_check.ok
    notional = notional_check(intents, params)
    checks.append(notional)
    notional_ok = notional.ok
    if params.margin_guard is not None:  # a unified account: no loan, margin within limits
        unified = unified_checks(book, intents, quotes, mult, params)
        checks += unified
        notional_ok = notional_ok and all(c.ok for c in unified)
    if not notional_ok:
        return _finish(
            book, quotes, perp_spec, params, treasury=False,
            status="safe_mode",
            safe_mode=True,
            guardrails=tuple(checks),
            dropped=tuple(dropped),
            trigger=trigger,
            **base,
        )  # fmt: skip

    orders: list[OrderIntent] = []
    blocked: list[Blocked] = []
    for o in intents:
        rule = blocking_rule(signal.value, o.leg, o.side) if params.apply_signal_logic else None
        if rule is None:
            orders.append(o)
        else:
            blocked.append(
                Blocked(o.leg, o.action, o.side, o.qty_btc, o.notional_usdt, signal.value, rule)
            )
    safe = not delta_ok
    if safe:
        status: Status = "safe_mode"
    elif orders:
        status = "rebalance"
    elif blocked:
        status = "blocked"
    else:
        status = "no_action"
    return _finish(
        book, quotes, perp_spec, params,
        status=status,
        safe_mode=safe,
        guardrails=tuple(checks),
        orders=tuple(orders),
        blocked=tuple(blocked),
        dropped=tuple(dropped),
        trigger=trigger,
        **base,
    )  # fmt: skip


def unified_checks(book: Book, intents: list[OrderIntent], quotes: Quotes, mult: Decimal,
                   params: PlannerParams) -> list[GuardrailCheck]:  # fmt: skip
    """The unified account's guardrails (:mod:`btcn.core.unified_guard`) on the sized orders."""
    guard = params.margin_guard
    assert guard is not None
    after = project(book, intents, mult, spot_fee=params.spot_maker_fee,
                    perp_fee=params.perp_taker_fee)  # fmt: skip
    return [loan_check(guard), margin_check(book, after, quotes.perp_mark, mult, guard)]


def _net_after(book: Book, orders: list[OrderIntent] | tuple[OrderIntent, ...], mult: Decimal,
               params: PlannerParams) -> Decimal:  # fmt: skip
    after = project(book, orders, mult, spot_fee=params.spot_maker_fee,
                    perp_fee=params.perp_taker_fee)  # fmt: skip
    return net_delta_btc(after, mult)


def _frac(net_btc: Decimal, quotes: Quotes, nav_f: float) -> float:
    return float(net_btc) * float(quotes.p_ref) / nav_f if nav_f > 0 else math.nan


def _finish(book: Book, quotes: Quotes, perp_spec: PerpSpec, params: PlannerParams, *,
            treasury: bool = True, **fields: Any) -> Decision:  # fmt: skip
    """The decision from ``fields``, with the net delta after the orders that will be sent and the
    treasury's transfers for them (built once: the backtester calls this ~1,000 times a year)."""
    mult = perp_spec.multiplier_btc
    orders: tuple[OrderIntent, ...] = fields.get("orders", ())
    nav_d: Decimal = fields["nav_usdt"]
    after_book = project(book, orders, mult, spot_fee=params.spot_maker_fee,
                         perp_fee=params.perp_taker_fee)  # fmt: skip
    net_after = net_delta_btc(after_book, mult)
    transfers: tuple[Transfer, ...] = ()
    tp = params.treasury
    if treasury and tp is not None and nav_d > 0:
        transfers = plan_transfers(
            book, after_book, quotes.perp_mark, mult, tp,
            spot_need_usdt=spot_cost(orders, params),
            spot_proceeds_usdt=spot_proceeds(orders, params),
        )  # fmt: skip
    trigger = fields.pop("trigger", None)
    if trigger is None and any(t.reason in ("margin", "liquidation_guard") for t in transfers):
        trigger = "liquidation"
    return Decision(
        **fields,
        rebalance=params.rebalance,
        trigger=trigger,
        net_delta_after_btc=net_after,
        net_delta_after_pct_nav=_frac(net_after, quotes, float(nav_d)) * 100.0,
        transfers=transfers,
    )
