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

:class:`TransferScan` at the end is the float form of :func:`plan_transfers` for a plan with no
orders: the backtester scans a stretch of bars with it for the first bar where a transfer-only plan
is due. ``tests/properties/test_transfer_scan.py`` holds the two equal on random books.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from btcn.contracts.enums import Wallet
from btcn.contracts.plan import TransferReason, TransferWhen
from btcn.core.book import Book
from btcn.core.liquidation import adverse_factor, linear_terms, wallet_for_distance
from btcn.core.money import ONE, ZERO

F = Any  # float or NumPy array
When = TransferWhen
Reason = TransferReason


DUST_USDT = Decimal("1")  # the minimum transfer: smaller amounts are not worth a request


@dataclass(frozen=True, slots=True)
class TreasuryParams:
    leverage: Decimal = Decimal(3)
    margin_buffer: Decimal = Decimal("0.5")
    transfer_band: Decimal = Decimal("0.25")
    min_liquidation_distance: Decimal = Decimal("0.30")
    k: Decimal = Decimal("0.0045")  # maintenance rate + taker fee (liquidation rule)
    dust_usdt: Decimal = DUST_USDT


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


def _q_up(x: Decimal) -> Decimal:
    """To the cent, rounded up: a ``fund_spot`` transfer covers the buy it exists for."""
    return x.quantize(Decimal("0.01"), rounding="ROUND_UP")


def fund_spot_amount(shortfall_usdt: Decimal, room_usdt: Decimal, dust_usdt: Decimal) -> Decimal:
    """The ``fund_spot`` transfer for a spot-buy shortfall: the shortfall rounded UP to the cent,
    at least ``dust_usdt`` (a buy short by less than the dust level is funded with the minimum
    transfer, not left unpaid), never more than ``room_usdt`` floored to the cent (what may leave
    futures); zero when that is not worth moving (:func:`worth_moving`)."""
    if shortfall_usdt <= 0:
        return ZERO
    amount = min(_q_up(max(shortfall_usdt, dust_usdt)), _q(max(room_usdt, ZERO)))
    return amount if worth_moving(amount, dust_usdt) else ZERO


def worth_moving(amount_usdt: Decimal, dust_usdt: Decimal) -> bool:
    """A planned transfer is made when it is at least one cent and at least ``dust_usdt``."""
    return amount_usdt > 0 and amount_usdt >= dust_usdt


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
    return amount if worth_moving(amount, dust_usdt) else ZERO


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
        if worth_moving(topup, p.dust_usdt):
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
        if worth_moving(rest, p.dust_usdt):
            detail = f"the rest of the top-up to {lv.aim:.2f}, from the planned spot sells"
            out.append(Transfer("spot", "futures", rest, "margin", "after_orders", detail))
    fund = ZERO
    shortfall = spot_need_usdt - (before.spot_usdt - topup)
    if shortfall > 0 and topup == 0:
        cash = futures_available(before, mark, mult, p.leverage)
        fund = fund_spot_amount(shortfall, min(cash, lv.equity - lv.aim), p.dust_usdt)
        if fund > 0:
            detail = f"spot buys need {spot_need_usdt:.2f}, spot holds {before.spot_usdt:.2f}"
            out.append(Transfer("futures", "spot", fund, "fund_spot", "before_orders", detail))
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
    if worth_moving(sweep, minimum):
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


# --- the float form for the backtester's scan ------------------------------------------------


@dataclass(frozen=True, slots=True)
class TreasuryFloats:
    leverage: float
    margin_buffer: float
    transfer_band: float
    min_liquidation_distance: float
    k: float
    dust_usdt: float

    @classmethod
    def of(cls, p: TreasuryParams) -> TreasuryFloats:
        return cls(float(p.leverage), float(p.margin_buffer), float(p.transfer_band),
                   float(p.min_liquidation_distance), float(p.k), float(p.dust_usdt))  # fmt: skip


Line = tuple[float, float]  # (alpha, beta): the value alpha + beta * p at the mark p


def _cent_floor(x: F) -> F:
    """:func:`_q` in floats (elementwise). ``0.29 * 100`` is ``28.999999999999996`` in binary
    floats: a hundred-millionth of a cent keeps a whole cent whole."""
    return np.floor(x * 100.0 + 1e-6) / 100.0


@dataclass(slots=True)  # not frozen: built once per book the backtester holds, and cheaply
class TransferScan:
    """Whether ``plan_transfers(book, book, p, ...)`` -- a plan with no orders -- moves anything,
    in floats, for one fixed book as a function of the mark ``p > 0``.

    It is :func:`levels` and :func:`plan_transfers` term by term: for fixed positions every level
    is proportional to the mark (``IM = mu p``, ``T = tau p``, ``E_liq = g p``, so ``low``, ``aim``
    and ``high`` are ``max`` of slopes times ``p``), the futures equity is the line
    ``E = a + u1 p`` and btcn's ``available`` estimate is ``max(min(E, W) - IM, 0)``. So:

    * top-up (``before_orders``): ``E < low`` and ``q(min(aim - E, spot USDT)) >= dust``;
    * sweep of an open book (``after_orders``): ``E > high`` and
      ``q(min(E - aim, available)) >= max(transfer_band * T, dust)``;
    * sweep of a flat perp book: ``q(W) >= dust`` (and at least one cent), whatever the mark;

    with ``q`` the floor to the cent. ``tests/properties/test_transfer_scan.py`` holds it equal to
    :func:`plan_transfers` on random books (and to :func:`btcn.core.planner.decide` in both
    rebalance modes) except within a micro-USDT of a level, where float rounding may decide either
    way. Every test is a sign test of a line in ``p``; :meth:`maybe` bounds them over a stretch of
    marks from its lowest and highest mark, so the backtester scans bar by bar only where a
    transfer may be due."""

    active: bool  # an open perp book
    flat_sweep: bool  # a flat book whose wallet is swept at any mark
    wallet: float
    spot_usdt: float
    equity: Line
    mu: float  # IM / p
    tau: float  # T / p
    low: float  # low / p
    aim: float  # aim / p
    high: float  # high / p
    band: float
    dust: float

    @classmethod
    def of(cls, wallet: float, spot_usdt: float, long_btc: float, long_entry: float,
           short_btc: float, short_entry: float, tf: TreasuryFloats) -> TransferScan:  # fmt: skip
        x = long_btc + short_btc
        dust = max(tf.dust_usdt, 0.01)  # plan_transfers also needs a positive cent amount
        if not x > 0:
            return cls(False, _cent_floor(wallet) >= dust, wallet, spot_usdt, (wallet, 0.0),
                       0.0, 0.0, 0.0, 0.0, 0.0, tf.transfer_band, dust)  # fmt: skip
        u1 = long_btc - short_btc
        # E = a + u1 p; the liquidation function is a + b p
        a, b = linear_terms(wallet, long_btc, long_entry, short_btc, short_entry, tf.k)
        mu = x / tf.leverage
        tau = mu * (1.0 + tf.margin_buffer)
        omega = adverse_factor(b, tf.min_liquidation_distance)  # worst mark / p
        g = u1 - b * omega  # E_liq / p
        low = max(tau * (1.0 - tf.transfer_band), g, mu)
        aim = max(tau, g)
        high = max(tau * (1.0 + tf.transfer_band), aim)
        return cls(True, False, wallet, spot_usdt, (a, u1), mu, tau, low, aim, high,
                   tf.transfer_band, dust)  # fmt: skip

    def due_array(self, p: F) -> F:
        """Elementwise over marks ``p`` (array or scalar)."""
        if not self.active:
            return np.full(np.shape(p), self.flat_sweep, dtype=bool)
        a, u1 = self.equity
        e = a + u1 * p
        topup = (e < self.low * p) & (
            _cent_floor(np.minimum((self.aim - u1) * p - a, self.spot_usdt)) >= self.dust
        )
        avail = np.maximum(np.minimum(e, self.wallet) - self.mu * p, 0.0)
        movable = np.minimum(e - self.aim * p, avail)
        sweep = (e > self.high * p) & (
            _cent_floor(movable) >= np.maximum(self.band * self.tau * p, self.dust)
        )
        return topup | sweep

    def due(self, p: float) -> bool:
        """One mark (:meth:`maybe` first: cheap, and false on most bars)."""
        return self.maybe(p, p) and bool(self.due_array(p))

    def maybe(self, lo: float, hi: float) -> bool:
        """Whether :meth:`due_array` can hold for some mark in ``[lo, hi]`` (conservative: each
        test is a line in ``p``, true somewhere on the interval when true at an end; the floor to
        the cent only makes a test stricter)."""
        if not self.active:
            return self.flat_sweep
        a, u1 = self.equity
        if (
            _somewhere(-a, self.low - u1, lo, hi, strict=True)
            and _somewhere(-a - self.dust, self.aim - u1, lo, hi)
            and self.spot_usdt >= self.dust
        ):
            return True
        band = self.band * self.tau
        return (
            _somewhere(a, u1 - self.high, lo, hi, strict=True)
            and _somewhere(a, u1 - self.aim - band, lo, hi)
            and _somewhere(a - self.dust, u1 - self.aim, lo, hi)
            and _somewhere(a, u1 - self.mu - band, lo, hi)
            and _somewhere(a - self.dust, u1 - self.mu, lo, hi)
            and _somewhere(self.wallet, -self.mu - band, lo, hi)
            and _somewhere(self.wallet - self.dust, -self.mu, lo, hi)
        )


def _somewhere(alpha: float, beta: float, lo: float, hi: float, strict: bool = False) -> bool:
    """Whether the line ``alpha + beta * p`` is >= 0 (> 0 when strict) somewhere in [lo, hi]."""
    top = max(alpha + beta * lo, alpha + beta * hi)
    return top > 0 if strict else top >= 0
