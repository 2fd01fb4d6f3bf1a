"""The rebalance decision: one pure function shared by ``btcn plan`` and the backtester.

Order of work in :func:`decide`:

1. value the book (floats, the same arithmetic as the backtester's window scan) and the threshold;
2. guardrails that empty the plan (NAV, data age, price deviation) and the cooldown;
3. size every leg whose ``|w - target| > thr`` back to its target in Decimal, rounded toward zero to
   the venue step, capped so spot never overdraws, and drop orders under the venue minimum;
4. guardrails on the sized orders (net delta: risk-reducing only; order notional: empty plan);
5. signal gating: orders the signal forbids move to ``blocked`` with their rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from btcn.contracts.enums import LEGS, Action, Leg, Side, Signal
from btcn.contracts.snapshot import PerpSpec, SpotSpec
from btcn.core import valuation
from btcn.core.book import Book, Quotes
from btcn.core.gating import blocking_rule
from btcn.core.legs import SIDE_OF, action_for, delta_sign
from btcn.core.money import ONE, ZERO, dec, round_down_to_step, round_price
from btcn.core.signals import SignalReading
from btcn.core.threshold import AtrReading, threshold

Status = Literal["rebalance", "no_action", "cooldown", "blocked", "safe_mode"]
Effect = Literal["none", "empty_plan", "risk_reducing_only"]


@dataclass(frozen=True, slots=True)
class PlannerParams:
    """Every number the decision depends on (built from settings by the stage)."""

    targets: tuple[float, float, float]  # BTC_SPOT, BTC_PERP_LONG, BTC_PERP_SHORT
    threshold_floor: float = 0.005
    atr_multiplier: float = 0.2
    atr_window_ms: int = 86_400_000
    atr_periods: int = 14
    cooldown_ms: int = 3_600_000
    apply_signal_logic: bool = True
    signal_max_age_ms: int = 86_400_000
    spot_maker_fee: Decimal = Decimal("0.001")
    spot_taker_fee: Decimal = Decimal("0.001")
    slippage: Decimal = Decimal("0.0002")
    max_data_age_ms: int = 900_000
    max_price_deviation: float = 0.01
    max_order_notional_usdt: Decimal = Decimal(250_000)
    max_net_delta: float = 0.2


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
    source: Literal["atr", "floor"]
    note: str


@dataclass(frozen=True, slots=True)
class CooldownState:
    cooldown_ms: int
    last_rebalance_ms: int | None
    next_allowed_ms: int | None
    active: bool


@dataclass(frozen=True, slots=True)
class GuardrailCheck:
    name: str
    ok: bool
    value: str
    limit: str
    effect: Effect
    detail: str


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
class OrderIntent:
    leg: Leg
    action: Action
    side: Side
    qty_venue: Decimal
    venue_unit: Literal["BTC", "contracts"]
    qty_btc: Decimal
    limit_price_usdt: Decimal
    notional_usdt: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class Blocked:
    leg: Leg
    action: Action
    side: Side
    qty_btc: Decimal
    notional_usdt: Decimal
    signal: Signal
    rule: str


@dataclass(frozen=True, slots=True)
class Dropped:
    leg: Leg
    action: Action
    side: Side
    qty_btc: Decimal
    reason: str


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
    source: Literal["atr", "floor"] = (
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
    next_allowed = last_rebalance_ms + cooldown_ms
    return CooldownState(cooldown_ms, last_rebalance_ms, next_allowed, now_ms < next_allowed)


@dataclass(frozen=True, slots=True)
class BookValuation:
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
        nav_f, valuation.nav_decimal(book, quotes, multiplier_btc), legs, net, frac
    )


def _limit_price(
    leg: Leg, buy: bool, quotes: Quotes, spot_spec: SpotSpec, perp_spec: PerpSpec
) -> Decimal:
    """PostOnly limit: a buy rests at the best bid, a sell at the best ask (valuation price when
    the book is unknown), rounded to the tick away from the market."""
    if leg is Leg.BTC_SPOT:
        quote = quotes.spot_bid if buy else quotes.spot_ask
        price = quote if quote is not None else quotes.spot
        return round_price(price, spot_spec.tick_usdt, buy=buy)
    quote = quotes.perp_bid if buy else quotes.perp_ask
    price = quote if quote is not None else quotes.perp_mark
    return round_price(price, perp_spec.tick_usdt, buy=buy)


def _pre_guardrails(
    nav_f: float, quotes: Quotes, now_ms: int, data_as_of_ms: int | None, params: PlannerParams
) -> list[GuardrailCheck]:
    checks = [
        GuardrailCheck(
            "nav_positive",
            nav_f > 0,
            f"{nav_f:.2f}",
            "> 0",
            "none" if nav_f > 0 else "empty_plan",
            "NAV must be positive to compute weights",
        )
    ]
    if data_as_of_ms is None:
        checks.append(
            GuardrailCheck(
                "data_age",
                False,
                "unknown",
                f"{params.max_data_age_ms} ms",
                "empty_plan",
                "the age of the market data is unknown",
            )
        )
    else:
        age = now_ms - data_as_of_ms
        ok = 0 <= age <= params.max_data_age_ms
        detail = (
            "market data is fresh"
            if ok
            else ("market data is newer than the snapshot" if age < 0 else "market data is stale")
        )
        checks.append(
            GuardrailCheck(
                "data_age",
                ok,
                f"{age} ms",
                f"{params.max_data_age_ms} ms",
                "none" if ok else "empty_plan",
                detail,
            )
        )
    p_ref = float(quotes.p_ref)
    dev = max(abs(float(quotes.spot) / p_ref - 1.0), abs(float(quotes.perp_mark) / p_ref - 1.0))
    ok = dev <= params.max_price_deviation
    checks.append(
        GuardrailCheck(
            "price_deviation",
            ok,
            f"{dev:.6f}",
            f"{params.max_price_deviation:.6f}",
            "none" if ok else "empty_plan",
            "venue prices agree with P_ref" if ok else "a venue price deviates from P_ref",
        )
    )
    return checks


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

    checks = _pre_guardrails(nav_f, quotes, now_ms, data_as_of_ms, params)
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
        return Decision(status="safe_mode", safe_mode=True, guardrails=tuple(checks), **base)
    if cooldown.active:
        return Decision(status="cooldown", safe_mode=False, guardrails=tuple(checks), **base)

    intents: list[OrderIntent] = []
    dropped: list[Dropped] = []
    for i, leg in enumerate(LEGS):
        target = params.targets[i]
        if not valuation.beyond(ws[i], target, thr):
            continue
        intent, drop = _size_leg(
            leg, target, qty_btc[i], nav_d, book, quotes, spot_spec, perp_spec, params, ws[i], thr
        )
        if intent is not None:
            intents.append(intent)
        if drop is not None:
            dropped.append(drop)

    # Net delta: when beyond its limit, only orders that reduce |net delta| may trade.
    delta_ok = abs(net_pct) <= params.max_net_delta
    checks.append(
        GuardrailCheck(
            "net_delta",
            delta_ok,
            f"{net_pct:.6f}",
            f"{params.max_net_delta:.6f}",
            "none" if delta_ok else "risk_reducing_only",
            "net delta within limit"
            if delta_ok
            else "net delta beyond limit: risk-reducing orders only",
        )
    )
    if not delta_ok:
        direction = 1 if net_btc > 0 else -1
        keep = []
        for o in intents:
            if delta_sign(o.action) == -direction:
                keep.append(o)
            else:
                dropped.append(
                    Dropped(
                        o.leg,
                        o.action,
                        o.side,
                        o.qty_btc,
                        "guardrail net_delta: only risk-reducing orders allowed",
                    )
                )
        intents = keep

    biggest = max((o.notional_usdt for o in intents), default=ZERO)
    notional_ok = biggest <= params.max_order_notional_usdt
    checks.append(
        GuardrailCheck(
            "order_notional",
            notional_ok,
            f"{biggest}",
            f"{params.max_order_notional_usdt}",
            "none" if notional_ok else "empty_plan",
            "order sizes within limit" if notional_ok else "an order exceeds the notional limit",
        )
    )
    if not notional_ok:
        return Decision(
            status="safe_mode",
            safe_mode=True,
            guardrails=tuple(checks),
            dropped=tuple(dropped),
            **base,
        )

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
    return Decision(
        status=status,
        safe_mode=safe,
        guardrails=tuple(checks),
        orders=tuple(orders),
        blocked=tuple(blocked),
        dropped=tuple(dropped),
        **base,
    )


def _size_leg(
    leg: Leg,
    target: float,
    current_btc: Decimal,
    nav_d: Decimal,
    book: Book,
    quotes: Quotes,
    spot_spec: SpotSpec,
    perp_spec: PerpSpec,
    params: PlannerParams,
    weight: float,
    thr: float,
) -> tuple[OrderIntent | None, Dropped | None]:
    """Size one leg back to its target; returns the order or the reason it was dropped."""
    price = quotes.spot if leg is Leg.BTC_SPOT else quotes.perp_mark
    target_btc = dec(target) * nav_d / price
    delta = target_btc - current_btc
    increase = delta > 0
    action = action_for(leg, increase)
    side = SIDE_OF[action]
    buy = side is Side.BUY
    limit = _limit_price(leg, buy, quotes, spot_spec, perp_spec)
    reason = f"|w - target| = |{weight:.6f} - {target:.6f}| > thr {thr:.6f}"
    want = abs(delta)
    if leg is Leg.BTC_SPOT:
        qty = round_down_to_step(want, spot_spec.step_btc)
        if buy:
            # Spot is never leveraged: the buy plus its worst-case fee and slippage fits the USDT.
            buffer = ONE + max(params.spot_maker_fee, params.spot_taker_fee) + params.slippage
            affordable = round_down_to_step(book.spot_usdt / (limit * buffer), spot_spec.step_btc)
            if affordable < qty:
                qty = affordable
                reason += "; capped by spot USDT"
        else:
            held = round_down_to_step(book.spot_btc, spot_spec.step_btc)
            if held < qty:
                qty = held
                reason += "; capped by spot BTC held"
        notional = qty * limit
        if qty <= 0:
            return None, Dropped(
                leg, action, side, qty, "quantity rounds to zero at the venue step"
            )
        if qty < spot_spec.min_qty_btc or notional < spot_spec.min_notional_usdt:
            return None, Dropped(
                leg,
                action,
                side,
                qty,
                f"below venue minimum ({spot_spec.min_qty_btc} BTC, "
                f"{spot_spec.min_notional_usdt} USDT)",
            )
        return OrderIntent(leg, action, side, qty, "BTC", qty, limit, notional, reason), None
    mult = perp_spec.multiplier_btc
    contracts = round_down_to_step(want / mult, perp_spec.step_contracts)
    if not increase:
        held = book.long_contracts if leg is Leg.BTC_PERP_LONG else book.short_contracts
        contracts = min(contracts, held)
    qty_btc = contracts * mult
    notional = qty_btc * limit
    if contracts <= 0:
        return None, Dropped(leg, action, side, qty_btc, "quantity rounds to zero contracts")
    if contracts < perp_spec.min_size_contracts or notional < perp_spec.min_notional_usdt:
        return None, Dropped(
            leg,
            action,
            side,
            qty_btc,
            f"below venue minimum ({perp_spec.min_size_contracts} contracts, "
            f"{perp_spec.min_notional_usdt} USDT)",
        )
    return OrderIntent(
        leg, action, side, contracts, "contracts", qty_btc, limit, notional, reason
    ), None
