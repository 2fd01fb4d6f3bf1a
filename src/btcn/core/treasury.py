"""The one treasury: USDT between the spot and the futures wallet, for plan, backtest and execute.

A classic Gate account keeps spot and USDT-perpetual funds apart (exchange-api.md section 4.5): the
perp book's margin must sit in the futures wallet, the USDT for spot buys in the spot wallet, and
only the futures wallet's ``available`` may leave it (never unrealised profit). Every plan carries
the transfers this module computes from the snapshot's balances and the planned orders; the
backtester applies the very same list at the point of the sequence where ``execute`` performs it.

Futures equity ``E = wallet + unrealised PnL`` of the book *after* the planned orders (projected at
their limit prices, at the mark), initial margin ``IM = (long + short notional) / leverage``:

* target ``T = IM * (1 + margin_buffer)``; the liquidation guard needs ``E_liq``, the equity at
  which a move of ``min_liquidation_distance`` against the book does not liquidate it
  (:func:`btcn.core.liquidation.wallet_for_distance`); the aim is ``max(T, E_liq)``;
* **before orders**, when ``E < low = max(T * (1 - transfer_band), E_liq, IM)``: spot -> futures
  ``aim - E`` (capped by spot USDT). Margin comes before spot buys;
* **before orders**, when the planned spot buys cost more than spot USDT: futures -> spot, from the
  futures cash above the aim and within ``available`` (``fund_spot``);
* **after orders**, when ``E > high = T * (1 + transfer_band)`` and at least ``transfer_band * T``
  could move: futures -> spot down to the aim, never beyond ``available`` (``sweep``). The band on
  both sides is the hysteresis: a book inside it transfers nothing, run after run.

``available`` is the venue's figure when the snapshot has it, else btcn's estimate
``max(0, wallet + min(uPnL, 0) - IM)`` (unrealised profit excluded, unrealised loss included).
Transfers move NAV between wallets and never change it.

The float functions at the end accept NumPy arrays: the backtester scans a stretch of bars for the
first bar where a transfer-only plan would be due with the very arithmetic :func:`transfer_due`
uses on one bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from btcn.contracts.enums import Wallet
from btcn.contracts.plan import TransferReason, TransferWhen
from btcn.core.book import Book
from btcn.core.liquidation import wallet_for_distance
from btcn.core.money import ONE, ZERO

F = Any  # float or NumPy array
When = TransferWhen
Reason = TransferReason


@dataclass(frozen=True, slots=True)
class TreasuryParams:
    leverage: Decimal = Decimal(3)
    margin_buffer: Decimal = Decimal("0.5")
    transfer_band: Decimal = Decimal("0.25")
    min_liquidation_distance: Decimal = Decimal("0.30")
    k: Decimal = Decimal("0.0045")  # maintenance rate + taker fee (liquidation rule)
    dust_usdt: Decimal = Decimal("1")  # smaller transfers are not worth a request


@dataclass(frozen=True, slots=True)
class Transfer:
    from_wallet: Wallet
    to_wallet: Wallet
    amount_usdt: Decimal
    reason: Reason
    when: When
    detail: str


@dataclass(frozen=True, slots=True)
class Levels:
    """Futures equity of a book and the treasury's levels for it, in USDT."""

    equity: Decimal
    initial_margin: Decimal
    target: Decimal
    liquidation_equity: Decimal
    low: Decimal
    high: Decimal
    aim: Decimal


def unrealized(book: Book, mark: Decimal, mult: Decimal) -> Decimal:
    return (mark - book.long_entry_usdt) * book.long_contracts * mult + (
        book.short_entry_usdt - mark
    ) * book.short_contracts * mult


def levels(book: Book, mark: Decimal, mult: Decimal, p: TreasuryParams) -> Levels:
    upnl = unrealized(book, mark, mult)
    equity = book.futures_usdt + upnl
    im = (book.long_contracts + book.short_contracts) * mult * mark / p.leverage
    target = im * (ONE + p.margin_buffer)
    if im > 0:
        e_liq = wallet_for_distance(book, mark, mult, p.k, p.min_liquidation_distance) + upnl
    else:
        e_liq = ZERO
    low = max(target * (ONE - p.transfer_band), e_liq, im)
    aim = max(target, e_liq)
    high = max(target * (ONE + p.transfer_band), aim)
    return Levels(equity, im, target, e_liq, low, high, aim)


def available_estimate(book: Book, mark: Decimal, mult: Decimal, leverage: Decimal) -> Decimal:
    """What Gate would let leave the futures wallet (btcn's estimate when the venue's is unknown)."""
    upnl = unrealized(book, mark, mult)
    im = (book.long_contracts + book.short_contracts) * mult * mark / leverage
    return max(ZERO, book.futures_usdt + min(upnl, ZERO) - im)


def futures_available(book: Book, mark: Decimal, mult: Decimal, leverage: Decimal) -> Decimal:
    if book.futures_available_usdt is not None:
        return book.futures_available_usdt
    return available_estimate(book, mark, mult, leverage)


def _q(x: Decimal) -> Decimal:
    """Transfer amounts to the cent, rounded down (never more than computed)."""
    return x.quantize(Decimal("0.01"), rounding="ROUND_DOWN")


def after_orders_allowed(from_wallet: Wallet, all_filled: bool) -> bool:
    """The after-orders policy every executor (paper, backtest, ``execute --live``) applies.

    A planned ``after_orders`` transfer is performed once every order of the plan has ended.
    A transfer *out of* futures (a sweep) is performed only when every order filled in full: a
    book that did not trade as planned keeps its margin, and the next plan -- computed from the
    real book -- sweeps what is still surplus. A transfer *into* futures (the rest of a top-up)
    is always performed: it only protects the short."""
    return from_wallet == "spot" or all_filled


def applied_amount(planned_usdt: Decimal, available_usdt: Decimal, dust_usdt: Decimal) -> Decimal:
    """What a planned transfer moves when it is performed: the planned amount capped by what the
    source wallet has available at that moment, to the cent, rounded down; zero when that is
    below ``dust_usdt`` (the venue's minimum is one cent; btcn skips transfers under the dust
    level as not worth a request). Every executor moves exactly this amount."""
    amount = _q(min(planned_usdt, max(available_usdt, ZERO)))
    return amount if amount >= dust_usdt and amount > 0 else ZERO


def plan_transfers(
    before: Book,
    after: Book,
    mark: Decimal,
    mult: Decimal,
    p: TreasuryParams,
    *,
    spot_need_usdt: Decimal = ZERO,
    spot_proceeds_usdt: Decimal = ZERO,
) -> tuple[Transfer, ...]:
    """The ordered transfers of one plan.

    ``before`` is the snapshot's book, ``after`` the book projected after the planned orders,
    ``spot_need_usdt`` what the planned spot buys may cost (fees and slippage included),
    ``spot_proceeds_usdt`` what planned spot sells bring (at least): a top-up the spot wallet
    cannot pay before the orders is completed from them after the orders."""
    lv = levels(after, mark, mult, p)
    out: list[Transfer] = []
    topup = ZERO
    if lv.initial_margin > 0 and lv.equity < lv.low:
        guard = lv.liquidation_equity >= lv.target * (ONE - p.transfer_band)
        topup = _q(min(lv.aim - lv.equity, before.spot_usdt))
        if topup >= p.dust_usdt:
            reason: Reason = "liquidation_guard" if guard else "margin"
            detail = (
                f"futures equity {lv.equity:.2f} below {lv.low:.2f}: to {lv.aim:.2f} "
                f"(margin {lv.initial_margin:.2f} x {ONE + p.margin_buffer}"
                f"{', liquidation distance ' + str(p.min_liquidation_distance) if guard else ''})"
            )
            out.append(Transfer("spot", "futures", topup, reason, "before_orders", detail))
        else:
            topup = ZERO
        rest = _q(min(lv.aim - lv.equity - topup, spot_proceeds_usdt))
        if rest >= p.dust_usdt:
            detail = f"the rest of the top-up to {lv.aim:.2f}, from the planned spot sells"
            out.append(Transfer("spot", "futures", rest, "margin", "after_orders", detail))
    fund = ZERO
    shortfall = spot_need_usdt - (before.spot_usdt - topup)
    if shortfall > 0 and topup == 0:
        cash = futures_available(before, mark, mult, p.leverage)
        fund = _q(min(shortfall, cash, max(lv.equity - lv.aim, ZERO)))
        if fund >= p.dust_usdt:
            detail = f"spot buys need {spot_need_usdt:.2f}, spot holds {before.spot_usdt:.2f}"
            out.append(Transfer("futures", "spot", fund, "fund_spot", "before_orders", detail))
        else:
            fund = ZERO
    equity = lv.equity - fund
    if lv.initial_margin == 0 and after.long_contracts == 0 and after.short_contracts == 0:
        excess = after.futures_usdt - fund  # flat book: the whole wallet may go back
        movable = min(excess, futures_available(after, mark, mult, p.leverage) - fund)
        minimum = p.dust_usdt
    else:
        excess = equity - lv.aim if equity > lv.high else ZERO
        movable = min(excess, available_estimate(after, mark, mult, p.leverage) - fund)
        minimum = max(p.transfer_band * lv.target, p.dust_usdt)
    sweep = _q(movable) if movable > 0 else ZERO
    if sweep >= minimum and sweep > 0:
        detail = f"futures equity {equity:.2f} above {lv.high:.2f}: back to {lv.aim:.2f}"
        out.append(Transfer("futures", "spot", sweep, "sweep", "after_orders", detail))
    return tuple(out)


def spot_capacity(before: Book, after: Book, mark: Decimal, mult: Decimal, p: TreasuryParams,
                  spot_need_usdt: Decimal) -> Decimal:  # fmt: skip
    """USDT the spot wallet will hold for buys once the before-orders transfers are done."""
    cash = before.spot_usdt
    for t in plan_transfers(before, after, mark, mult, p, spot_need_usdt=spot_need_usdt):
        if t.when != "before_orders":
            continue
        cash += t.amount_usdt if t.to_wallet == "spot" else -t.amount_usdt
    return cash


# --- float forms for the backtester's scan (elementwise, arrays or scalars) --------------------


@dataclass(frozen=True, slots=True)
class TreasuryFloats:
    leverage: float
    margin_buffer: float
    transfer_band: float
    min_liquidation_distance: float
    k: float

    @classmethod
    def of(cls, p: TreasuryParams) -> TreasuryFloats:
        return cls(float(p.leverage), float(p.margin_buffer), float(p.transfer_band),
                   float(p.min_liquidation_distance), float(p.k))  # fmt: skip


def transfer_due(
    wallet: F, long_btc: F, long_entry: F, short_btc: F, short_entry: F, p_perp: F,
    tf: TreasuryFloats,
) -> F:  # fmt: skip
    """Whether the book as it stands needs a transfer-only plan at mark ``p_perp``: its futures
    equity is below the treasury's low level (margin or liquidation guard), or a sweep of at least
    ``transfer_band * target`` is due. Same rules as :func:`plan_transfers` with no orders."""
    exposure = long_btc + short_btc
    upnl = (p_perp - long_entry) * long_btc + (short_entry - p_perp) * short_btc
    equity = wallet + upnl
    im = exposure * p_perp / tf.leverage
    target = im * (1.0 + tf.margin_buffer)
    # liquidation guard: f(p') >= 0 at the mark moved by the distance against the book
    a = wallet - long_entry * long_btc + short_entry * short_btc
    b = (long_btc - short_btc) - tf.k * exposure
    worst = np.where(
        b < 0, p_perp * (1.0 + tf.min_liquidation_distance),
        np.maximum(p_perp * (1.0 - tf.min_liquidation_distance), 0.0),
    )  # fmt: skip
    guard = a + b * worst < 0
    low = np.maximum(target * (1.0 - tf.transfer_band), im)
    e_liq = (long_entry * long_btc - short_entry * short_btc - b * worst) + upnl
    aim = np.maximum(target, e_liq)
    high = np.maximum(target * (1.0 + tf.transfer_band), aim)
    avail = np.maximum(wallet + np.minimum(upnl, 0.0) - im, 0.0)
    sweep = np.minimum(equity - aim, avail)
    due = (equity < low) | guard
    due = due | ((equity > high) & (sweep >= np.maximum(tf.transfer_band * target, 1.0)))
    return due & (exposure > 0)


@dataclass(frozen=True, slots=True)
class TransferLines:
    """:func:`transfer_due` of one book, decomposed: every rule is a sign test of a line
    ``alpha + beta * p`` in the mark ``p`` (equity, margin, the liquidation-guard equity and the
    sweep's levels are all linear in ``p`` for fixed positions). ``single``: due when any line is
    ``< 0``; ``sweep``: due when every line is ``>= 0`` (the first strictly ``> 0``).

    A line is monotone, so over a stretch of bars it can only change sign between the stretch's
    lowest and highest mark: :meth:`maybe` answers from those two prices and the backtester scans
    the stretch bar by bar only when a transfer may be due in it."""

    single: tuple[tuple[float, float], ...]
    sweep: tuple[tuple[float, float], ...]
    active: bool

    @classmethod
    def of(cls, wallet: float, long_btc: float, long_entry: float, short_btc: float,
           short_entry: float, tf: TreasuryFloats) -> TransferLines:  # fmt: skip
        x = long_btc + short_btc
        u0 = short_entry * short_btc - long_entry * long_btc
        u1 = long_btc - short_btc
        mu = x / tf.leverage  # initial margin per unit of mark
        tau = mu * (1.0 + tf.margin_buffer)  # target
        lam = max(tau * (1.0 - tf.transfer_band), mu)  # low
        b = u1 - tf.k * x
        d = tf.min_liquidation_distance
        omega = 1.0 + d if b < 0 else max(1.0 - d, 0.0)  # the adverse move of the guard
        aim = max(tau, u1 - b * omega)  # e_liq = (u1 - b * omega) * p
        eta = max(tau * (1.0 + tf.transfer_band), aim)  # high
        band = tf.transfer_band * tau
        a = wallet + u0  # equity = a + u1 * p
        single = ((a, u1 - lam), (a, b * omega))
        sweep = (
            (a, u1 - eta),  # equity > high (strict)
            (a, u1 - aim - band),  # equity - aim >= band * target
            (a - 1.0, u1 - aim),  # equity - aim >= 1
            (a, u1 - mu - band),  # available (with unrealised loss) >= band * target
            (a - 1.0, u1 - mu),
            (wallet, -mu - band),  # available (no unrealised profit) >= band * target
            (wallet - 1.0, -mu),
        )
        return cls(single, sweep, x > 0)

    def due(self, p: float) -> bool:
        if not self.active:
            return False
        if any(al + be * p < 0 for al, be in self.single):
            return True
        (a0, b0), *rest = self.sweep
        return a0 + b0 * p > 0 and all(al + be * p >= 0 for al, be in rest)

    def maybe(self, lo: float, hi: float) -> bool:
        """Whether :meth:`due` can hold for some mark in ``[lo, hi]``."""
        if not self.active:
            return False
        if any(min(al + be * lo, al + be * hi) < 0 for al, be in self.single):
            return True
        return all(max(al + be * lo, al + be * hi) >= 0 for al, be in self.sweep)

    def due_array(self, p: F) -> F:
        out = np.zeros(np.shape(p), dtype=bool)
        if not self.active:
            return out
        for al, be in self.single:
            out |= al + be * p < 0
        (a0, b0), *rest = self.sweep
        sw = a0 + b0 * p > 0
        for al, be in rest:
            sw &= al + be * p >= 0
        return out | sw
