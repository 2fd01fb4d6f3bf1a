"""Sizing one leg back to its target: venue steps, minimums, and spot never overdrawn."""

from __future__ import annotations

from decimal import Decimal

from btcn.contracts.enums import Leg, Side
from btcn.contracts.snapshot import PerpSpec, SpotSpec
from btcn.core.book import Book, Quotes
from btcn.core.intents import Dropped, OrderIntent, PlannerParams
from btcn.core.legs import SIDE_OF, action_for
from btcn.core.money import ONE, dec, round_down_to_step, round_price


def limit_price(
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


def size_leg(
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
    limit = limit_price(leg, buy, quotes, spot_spec, perp_spec)
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
