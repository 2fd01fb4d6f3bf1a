"""The backtest ledger: wallets and one PositionTracker per leg, all in Decimal.

Every fill, funding payment, transfer and liquidation goes through here, so the accounting
identities hold by construction:

* NAV = spot USDT + spot BTC * price + futures wallet + unrealised perp PnL;
* spot USDT and spot BTC never go below zero (spot is never leveraged);
* a perp fill's realised PnL and fee settle in the futures wallet, a spot fill's fee in spot USDT.

On a unified account (``unified=True``) there is one USDT balance: perp PnL, fees and funding
settle in ``spot_usdt`` (``futures_usdt`` stays 0), which may then go below zero (a liability);
a spot buy still never takes it below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from btcn.contracts.enums import Action, Leg
from btcn.core.book import Book
from btcn.core.legs import SIDE_OF
from btcn.core.money import ZERO
from btcn.core.positions import PositionTracker
from btcn.core.projection import fill_book, one_balance, spot_btc_received
from btcn.core.valuation import FloatBook


@dataclass(slots=True)
class TradeRecord:
    bar: int
    ts_ms: int
    leg: str
    action: str
    side: str
    qty_btc: Decimal
    price: Decimal
    fee_usdt: Decimal
    liquidity: str
    position_id: int
    duration_s: float | None
    realized_pnl_usdt: Decimal
    cumulative_pnl_usdt: Decimal
    fee_btc: Decimal = ZERO  # part of the fee taken in BTC (spot buys); valued in fee_usdt


class LedgerError(AssertionError):
    """An accounting invariant broke: a bug, never a user error."""


class Ledger:
    def __init__(self, spot_usdt: Decimal, multiplier_btc: Decimal, unified: bool = False) -> None:
        self.unified = unified
        self.interest_usdt = ZERO  # paid on a negative USDT balance (unified)
        self.spot_usdt = spot_usdt
        self.futures_usdt = ZERO
        self.mult = multiplier_btc
        self.spot = PositionTracker(Leg.BTC_SPOT.value)
        self.long = PositionTracker(Leg.BTC_PERP_LONG.value)
        self.short = PositionTracker(Leg.BTC_PERP_SHORT.value)
        self.fees_usdt = ZERO
        self.funding_usdt = ZERO
        self.realized_usdt = ZERO
        self.turnover_usdt = ZERO
        self.trades: list[TradeRecord] = []
        self._float: FloatBook | None = None

    def _changed(self) -> None:
        self._float = None

    def book(self) -> Book:
        return Book(
            spot_usdt=self.spot_usdt,
            spot_btc=self.spot.qty_btc,
            futures_usdt=self.futures_usdt,
            long_contracts=self.long.qty_btc / self.mult,
            long_entry_usdt=self.long.entry_price,
            short_contracts=self.short.qty_btc / self.mult,
            short_entry_usdt=self.short.entry_price,
        )

    def float_book(self) -> FloatBook:
        if self._float is None:
            self._float = FloatBook.of(self.book(), self.mult)
        return self._float

    def tracker(self, leg: Leg) -> PositionTracker:
        return {
            Leg.BTC_SPOT: self.spot,
            Leg.BTC_PERP_LONG: self.long,
            Leg.BTC_PERP_SHORT: self.short,
        }[leg]

    def perp_unrealized(self, mark: Decimal) -> Decimal:
        return self.long.unrealized_pnl(mark) + self.short.unrealized_pnl(mark)

    def fill(self, bar: int, ts_ms: int, leg: Leg, action: Action, qty_btc: Decimal, price: Decimal,
             fee_rate: Decimal, liquidity: str) -> TradeRecord:  # fmt: skip
        buy = SIDE_OF[action].value == "BUY"
        # the money: core.projection.fill_book, the arithmetic plan and paper use
        try:
            done = fill_book(self.book(), leg, buy, qty_btc, price, fee_rate, self.mult)
        except ValueError as e:  # a perp fill beyond its side: a bug, never a user error
            raise LedgerError(str(e)) from e
        fee, fee_btc = done.fee_usdt, done.fee_btc
        # the perp side as fill_book computed it; the spot leg's entry and realised PnL (reports)
        if done.leg is not None:
            effect = self.tracker(leg).record(done.leg, ts_ms)
        else:
            held = spot_btc_received(qty_btc, fee_rate) if buy else -qty_btc
            effect = self.spot.apply(held, price, ts_ms)
            if effect.flipped:
                raise LedgerError(f"{action} of {qty_btc} BTC flipped the {leg} leg")
        before = self.spot_usdt
        after = one_balance(done.book) if self.unified else done.book
        self.spot_usdt, self.futures_usdt = after.spot_usdt, after.futures_usdt
        spot_buy = buy and leg is Leg.BTC_SPOT
        if self.spot_usdt < 0 and (not self.unified or (spot_buy and self.spot_usdt < before)):
            raise LedgerError(f"spot USDT went negative ({self.spot_usdt})")
        self.fees_usdt += fee
        self.realized_usdt += effect.realized_pnl_usdt
        self.turnover_usdt += qty_btc * price
        record = TradeRecord(
            bar=bar, ts_ms=ts_ms, leg=leg.value, action=action.value, side=SIDE_OF[action].value,
            qty_btc=qty_btc, price=price, fee_usdt=fee, liquidity=liquidity,
            position_id=effect.position_id,
            duration_s=effect.duration_s if effect.closed_qty_btc > 0 else None,
            realized_pnl_usdt=effect.realized_pnl_usdt,
            cumulative_pnl_usdt=self.realized_usdt - self.fees_usdt, fee_btc=fee_btc,
        )  # fmt: skip
        self.trades.append(record)
        self._changed()
        return record

    def pay_funding(self, rate: Decimal, mark: Decimal) -> Decimal:
        """Funding at one settlement: longs pay ``rate * qty * mark`` to shorts (rate > 0)."""
        amount = rate * mark * (self.short.qty_btc - self.long.qty_btc)
        if amount:
            if self.unified:
                self.spot_usdt += amount
            else:
                self.futures_usdt += amount
            self.funding_usdt += amount
            self._changed()
        return amount

    def charge_interest(self, amount: Decimal) -> None:
        """Interest on a negative USDT balance (unified account)."""
        if amount:
            self.spot_usdt -= amount
            self.interest_usdt += amount
            self._changed()

    def transfer_to_futures(self, amount: Decimal) -> None:
        """Move ``amount`` USDT spot -> futures (negative: futures -> spot)."""
        if amount == 0:
            return
        self.spot_usdt -= amount
        self.futures_usdt += amount
        if self.spot_usdt < 0:
            raise LedgerError("a transfer overdrew the spot wallet")
        if self.futures_usdt < 0:
            raise LedgerError("a transfer overdrew the futures wallet")
        self._changed()
