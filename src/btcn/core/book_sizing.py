"""A book-level rebalance: the spot leg to its target, the perp legs hedged to the planned spot.

When a book rebalance fires (some leg's ``|w - target| > thr``, or ``|net delta|`` beyond
``max_delta_drift``):

1. **Spot** goes to its target as in the per-leg rule (venue step, spot never overdrawn) when a
   weight drifted; a rebalance fired by the net delta alone leaves spot as it is. A buy is capped by
   the USDT the spot wallet will hold after the plan's before-orders transfers (spot USDT plus the
   futures cash the treasury may move, minus the margin it must move the other way).
2. **The hedge** is sized from the BTC the spot wallet will hold after the plan: held + bought x
   (1 - fee) (Gate keeps a spot buy's fee in BTC) or held - sold. The perp legs then make the
   planned net delta equal the targets' net delta ``(t_spot + t_long - t_short) * NAV / P_ref``
   (zero for the default targets), rounded to the nearest contract.
3. **Three legs.** ``BTC_PERP_LONG`` goes to its own target (nearest contract); ``BTC_PERP_SHORT``
   carries the hedge. Should the hedge call for a negative short, the short closes and the long
   takes the rest. So the short is the hedge leg and the long a directional leg sized by weight.
4. **Locked profit.** When the spot buy had to be capped and the short holds unrealised profit,
   part of the short is closed (a ``realise`` CLOSE_SHORT) and re-opened by the leg's rebalance
   order in the same plan: Gate realises the profit, the after-orders sweep brings it to spot, and
   the next rebalance buys with it. Cost: the perp fee twice on the realised part. Skipped when the
   signal would block either half.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

from btcn.contracts.enums import Action, Leg, Side, Signal
from btcn.contracts.snapshot import PerpSpec, SpotSpec
from btcn.core.book import Book, Quotes
from btcn.core.gating import blocking_rule
from btcn.core.intents import Dropped, OrderIntent, PlannerParams
from btcn.core.legs import SIDE_OF, action_for
from btcn.core.money import ONE, ZERO, dec, round_down_to_step
from btcn.core.projection import project, spot_btc_received
from btcn.core.sizing import limit_price, size_leg
from btcn.core.treasury import TreasuryParams, spot_capacity


@dataclass(frozen=True, slots=True)
class BookSizing:
    intents: tuple[OrderIntent, ...]
    dropped: tuple[Dropped, ...]
    spot_capped: bool


def spot_buffer(params: PlannerParams) -> Decimal:
    return ONE + max(params.spot_maker_fee, params.spot_taker_fee) + params.slippage


def spot_cost(
    orders: tuple[OrderIntent, ...] | list[OrderIntent], params: PlannerParams
) -> Decimal:
    """What the spot buys among ``orders`` may cost in USDT, fees and slippage included."""
    buf = spot_buffer(params)
    return sum(
        (o.qty_btc * o.limit_price_usdt * buf for o in orders
         if o.leg is Leg.BTC_SPOT and o.side is Side.BUY),
        ZERO,
    )  # fmt: skip


def spot_proceeds(orders: tuple[OrderIntent, ...] | list[OrderIntent], params: PlannerParams) -> Decimal:  # fmt: skip
    buf = ONE - max(params.spot_maker_fee, params.spot_taker_fee) - params.slippage
    return sum(
        (o.qty_btc * o.limit_price_usdt * buf for o in orders
         if o.leg is Leg.BTC_SPOT and o.side is Side.SELL),
        ZERO,
    )  # fmt: skip


def _nearest(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).quantize(ONE, rounding=ROUND_HALF_EVEN) * step


def _perp_order(
    leg: Leg, held: Decimal, want: Decimal, quotes: Quotes, spot_spec: SpotSpec,
    perp_spec: PerpSpec, reason: str,
) -> tuple[OrderIntent | None, Dropped | None]:  # fmt: skip
    """The order taking a perp leg from ``held`` to ``want`` contracts."""
    diff = want - held
    if diff == 0:
        return None, None
    increase = diff > 0
    action = action_for(leg, increase)
    side = SIDE_OF[action]
    contracts = abs(diff)
    qty_btc = contracts * perp_spec.multiplier_btc
    limit = limit_price(leg, side is Side.BUY, quotes, spot_spec, perp_spec)
    notional = qty_btc * limit
    if contracts < perp_spec.min_size_contracts or notional < perp_spec.min_notional_usdt:
        return None, Dropped(
            leg, action, side, qty_btc,
            f"below venue minimum ({perp_spec.min_size_contracts} contracts, "
            f"{perp_spec.min_notional_usdt} USDT)",
        )  # fmt: skip
    return OrderIntent(leg, action, side, contracts, "contracts", qty_btc, limit, notional,
                       reason), None  # fmt: skip


def hedge(
    book: Book, spot: OrderIntent | None, nav_d: Decimal, quotes: Quotes, spot_spec: SpotSpec,
    perp_spec: PerpSpec, params: PlannerParams,
) -> tuple[list[OrderIntent], list[Dropped]]:  # fmt: skip
    """Perp orders that bring the planned net delta to the targets' net delta (rule 2 and 3)."""
    mult, step = perp_spec.multiplier_btc, perp_spec.step_contracts
    spot_after = book.spot_btc
    if spot is not None:
        if spot.side is Side.BUY:
            spot_after += spot_btc_received(spot.qty_btc, params.spot_maker_fee)
        else:
            spot_after -= spot.qty_btc
    t_spot, t_long, t_short = (dec(t) for t in params.targets)
    target_net = (t_spot + t_long - t_short) * nav_d / quotes.p_ref
    long_c = _nearest(t_long * nav_d / quotes.perp_mark / mult, step)
    short_c = _nearest((spot_after + long_c * mult - target_net) / mult, step)
    if short_c < 0:
        long_c -= short_c
        short_c = ZERO
    why = f"hedge: spot after {spot_after} BTC, target net delta {target_net:.6f} BTC"
    intents, dropped = [], []
    for leg, held, want in ((Leg.BTC_PERP_LONG, book.long_contracts, long_c),
                            (Leg.BTC_PERP_SHORT, book.short_contracts, short_c)):  # fmt: skip
        o, d = _perp_order(leg, held, want, quotes, spot_spec, perp_spec, why)
        if o is not None:
            intents.append(o)
        if d is not None:
            dropped.append(d)
    return intents, dropped


def _cap_spot(spot: OrderIntent, capacity: Decimal, spot_spec: SpotSpec,
              params: PlannerParams) -> OrderIntent | None:  # fmt: skip
    qty = round_down_to_step(
        max(capacity, ZERO) / (spot.limit_price_usdt * spot_buffer(params)), spot_spec.step_btc
    )
    if qty >= spot.qty_btc:
        return spot
    if (
        qty <= 0
        or qty < spot_spec.min_qty_btc
        or qty * spot.limit_price_usdt < spot_spec.min_notional_usdt
    ):
        return None
    return replace(spot, qty_venue=qty, qty_btc=qty, notional_usdt=qty * spot.limit_price_usdt,
                   reason=spot.reason + "; capped by spot USDT and transferable futures cash")  # fmt: skip


def _realise(
    book: Book, intents: list[OrderIntent], shortfall: Decimal, quotes: Quotes,
    spot_spec: SpotSpec, perp_spec: PerpSpec, signal: Signal, params: PlannerParams,
) -> list[OrderIntent]:  # fmt: skip
    """Rule 4: a realise CLOSE_SHORT plus the same contracts added to the short's OPEN_SHORT."""
    mult = perp_spec.multiplier_btc
    gain = book.short_entry_usdt - quotes.perp_mark  # profit per BTC of short
    short = next((o for o in intents if o.leg is Leg.BTC_PERP_SHORT), None)
    if gain <= 0 or book.short_contracts <= 0 or (short is not None and
                                                  short.action is not Action.OPEN_SHORT):  # fmt: skip
        return intents
    if params.apply_signal_logic and (
        blocking_rule(signal, Leg.BTC_PERP_SHORT, Side.BUY) is not None
        or blocking_rule(signal, Leg.BTC_PERP_SHORT, Side.SELL) is not None
    ):
        return intents
    step = perp_spec.step_contracts
    need = (shortfall / (gain * mult) / step).to_integral_value(rounding=ROUND_CEILING) * step
    x = min(max(need, perp_spec.min_size_contracts), book.short_contracts)
    if x < perp_spec.min_size_contracts:
        return intents
    close_limit = limit_price(Leg.BTC_PERP_SHORT, True, quotes, spot_spec, perp_spec)
    realise = OrderIntent(
        Leg.BTC_PERP_SHORT, Action.CLOSE_SHORT, Side.BUY, x, "contracts", x * mult, close_limit,
        x * mult * close_limit,
        f"realise {x * mult} BTC of the short's unrealised profit (~{gain * x * mult:.2f} USDT) "
        f"to fund spot buys; re-opened by the OPEN_SHORT",
        "realise",
    )  # fmt: skip
    out = [o for o in intents if o.leg is not Leg.BTC_PERP_SHORT]
    if short is None:
        open_limit = limit_price(Leg.BTC_PERP_SHORT, False, quotes, spot_spec, perp_spec)
        reopen = OrderIntent(Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, Side.SELL, x, "contracts",
                             x * mult, open_limit, x * mult * open_limit,
                             "re-open the realised part of the short")  # fmt: skip
    else:
        c = short.qty_venue + x
        reopen = replace(short, qty_venue=c, qty_btc=c * mult, notional_usdt=c * mult * short.limit_price_usdt,
                         reason=short.reason + f"; plus {x} contracts re-opened after the realise")  # fmt: skip
    return [*out, realise, reopen]


def size_book(
    book: Book, quotes: Quotes, spot_spec: SpotSpec, perp_spec: PerpSpec, params: PlannerParams,
    *, nav_d: Decimal, weight_spot: float, thr: float, drift: bool, signal: Signal,
) -> BookSizing:  # fmt: skip
    """Rules 1-4 of the module docstring."""
    dropped: list[Dropped] = []
    spot: OrderIntent | None = None
    tp: TreasuryParams | None = params.treasury
    mult = perp_spec.multiplier_btc
    if drift:
        # with a treasury the buy is sized to its target first and capped below by what the spot
        # wallet will hold after the transfers (and, if short, realised profit pays the rest later)
        bound = book if tp is None else replace(book, spot_usdt=max(book.spot_usdt, nav_d * 2))
        spot, drop = size_leg(Leg.BTC_SPOT, params.targets[0], book.spot_btc, nav_d, bound, quotes,
                              spot_spec, perp_spec, params, weight_spot, thr)  # fmt: skip
        if drop is not None:
            dropped.append(drop)
    perps, perp_drops = hedge(book, spot, nav_d, quotes, spot_spec, perp_spec, params)
    capped = False
    if spot is not None and spot.side is Side.BUY and tp is not None:
        intents = [spot, *perps]
        after = project(book, intents, mult, spot_fee=params.spot_maker_fee,
                        perp_fee=params.perp_taker_fee)  # fmt: skip
        need = spot_cost(intents, params)
        cap = spot_capacity(book, after, quotes.perp_mark, mult, tp, need)
        if need > cap:
            capped = True
            spot = _cap_spot(spot, cap, spot_spec, params)
            if spot is None:
                dropped.append(Dropped(Leg.BTC_SPOT, Action.BUY, Side.BUY, ZERO,
                                       "no USDT for the spot buy (spot and transferable futures cash)"))  # fmt: skip
            perps, perp_drops = hedge(book, spot, nav_d, quotes, spot_spec, perp_spec, params)
            if params.realise_locked_profit and need - cap >= tp.dust_usdt:
                # only a shortfall worth a transfer is worth a realise pair (two perp fees)
                # the realised profit must first lift the wallet to the margin it backs (only cash
                # above it is available), then pay for the spot buy that could not be paid
                im = (after.long_contracts + after.short_contracts) * mult * quotes.perp_mark
                deficit = max(
                    im / tp.leverage * (ONE + tp.margin_buffer) - after.futures_usdt, ZERO
                )
                perps = _realise(book, perps, need - cap + deficit, quotes, spot_spec, perp_spec,
                                 signal, params)  # fmt: skip
    intents = ([spot] if spot is not None else []) + perps
    return BookSizing(tuple(intents), tuple(dropped + perp_drops), capped)
