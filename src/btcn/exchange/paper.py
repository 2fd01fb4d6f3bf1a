"""The paper venue: a documented, deterministic fill model over a paper account.

Fill model for one planned order (quantities in venue units: BTC for spot, contracts for perps):

1. PostOnly phase: ``maker_fill_fraction`` of the order (rounded down to the venue step) fills at
   the plan's limit price and pays the maker fee.
2. After the PostOnly window the remainder goes Market: it fills at the leg's valuation price from
   the plan, moved against us by ``slippage`` (buys pay ``price * (1 + slippage)``, sells receive
   ``price * (1 - slippage)``), and pays the taker fee.
3. Spot is never leveraged: a spot buy is cut to what the USDT balance pays for (fee included) and a
   spot sell to the BTC held, rounded down to the step; the order then reports ``partially_filled``.

Fees: a spot buy's fee is taken in BTC, as Gate charges the asset received (the BTC credited is
``qty * (1 - fee rate)``; ``fee_usdt`` reports its value); a spot sell's fee in USDT. Every fill
changes the book by :func:`btcn.core.projection.fill_book`, the arithmetic plan and backtest use;
realised PnL and perp fees settle in the futures wallet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from btcn.contracts.enums import Action, Leg
from btcn.contracts.plan import PlannedOrder
from btcn.core.book import Book
from btcn.core.legs import SIDE_OF
from btcn.core.money import ONE, ZERO, round_down_to_step
from btcn.core.projection import fill_book, one_balance


@dataclass(frozen=True, slots=True)
class FeeRates:
    spot_maker: Decimal
    spot_taker: Decimal
    perp_maker: Decimal
    perp_taker: Decimal

    def rate(self, leg: Leg, maker: bool) -> Decimal:
        if leg is Leg.BTC_SPOT:
            return self.spot_maker if maker else self.spot_taker
        return self.perp_maker if maker else self.perp_taker


@dataclass(frozen=True, slots=True)
class PaperFill:
    qty_venue: Decimal
    qty_btc: Decimal
    price_usdt: Decimal
    fee_usdt: Decimal
    maker: bool
    fee_btc: Decimal = ZERO  # the part of the fee taken in BTC (spot buys)


def simulate_order(
    order: PlannedOrder,
    valuation_price: Decimal,
    step_venue: Decimal,
    btc_per_unit: Decimal,
    fees: FeeRates,
    maker_fill_fraction: Decimal,
    slippage: Decimal,
) -> list[PaperFill]:
    """The fills of one order under the paper fill model (no balance check; see apply)."""
    buy = SIDE_OF[order.action].value == "BUY"
    maker_qty = round_down_to_step(order.qty_venue * maker_fill_fraction, step_venue)
    taker_qty = order.qty_venue - maker_qty
    fills = []
    spot_buy = buy and order.leg is Leg.BTC_SPOT
    if maker_qty > 0:
        price = order.limit_price_usdt
        qty_btc = maker_qty * btc_per_unit
        rate = fees.rate(order.leg, True)
        fee = qty_btc * price * rate
        fills.append(
            PaperFill(maker_qty, qty_btc, price, fee, True, qty_btc * rate if spot_buy else ZERO)
        )
    if taker_qty > 0:
        price = valuation_price * (ONE + slippage if buy else ONE - slippage)
        qty_btc = taker_qty * btc_per_unit
        rate = fees.rate(order.leg, False)
        fee = qty_btc * price * rate
        fills.append(
            PaperFill(taker_qty, qty_btc, price, fee, False, qty_btc * rate if spot_buy else ZERO)
        )
    return fills


def clip_spot_fill(
    fill: PaperFill, buy: bool, book: Book, step_btc: Decimal, fee_rate: Decimal
) -> PaperFill | None:
    """Cut a spot fill so it never overdraws USDT (buys) or BTC (sells)."""
    if buy:  # the fee is taken in BTC: the USDT pays the quantity only
        affordable = round_down_to_step(book.spot_usdt / fill.price_usdt, step_btc)
        qty = min(fill.qty_btc, affordable)
    else:
        qty = min(fill.qty_btc, round_down_to_step(book.spot_btc, step_btc))
    if qty <= 0:
        return None
    if qty == fill.qty_btc:
        return fill
    return PaperFill(qty, qty, fill.price_usdt, qty * fill.price_usdt * fee_rate, fill.maker,
                     qty * fee_rate if buy else ZERO)  # fmt: skip


def apply_fill(book: Book, leg: Leg, action: Action, fill: PaperFill, multiplier_btc: Decimal,
               fee_rate: Decimal, *, unified: bool = False) -> tuple[Book, Decimal]:  # fmt: skip
    """The book after one fill (:func:`btcn.core.projection.fill_book`, the arithmetic plan and
    backtest use), and the PnL it realised (perp legs only). On a unified account the perp's PnL
    and fee settle into the one USDT balance (:func:`btcn.core.projection.one_balance`), as in the
    backtest ledger."""
    done = fill_book(book, leg, SIDE_OF[action].value == "BUY", fill.qty_btc, fill.price_usdt,
                     fee_rate, multiplier_btc)  # fmt: skip
    after = one_balance(done.book) if unified else done.book
    return after, done.leg.realized_pnl_usdt if done.leg is not None else ZERO


def apply_transfer(book: Book, from_wallet: str, amount: Decimal) -> tuple[Book, Decimal]:
    """Move ``amount`` USDT out of ``from_wallet`` (sized by the caller with
    :func:`btcn.core.treasury.applied_amount`)."""
    if amount <= 0:
        return book, ZERO
    sign = 1 if from_wallet == "spot" else -1
    return replace(
        book,
        spot_usdt=book.spot_usdt - sign * amount,
        futures_usdt=book.futures_usdt + sign * amount,
        futures_available_usdt=None,
    ), amount
