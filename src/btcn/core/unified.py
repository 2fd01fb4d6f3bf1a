"""Gate's unified account in multi-currency margin mode (exchange-api.md section 4.7).

One margin pool holds the spot balances and the USDT perpetual. With ``P`` the BTC price (btcn
uses one price for the BTC index and the perp mark; the basis between them is a risk the manual
names, not a term of the rule)::

    USDT equity  x(P) = U + (P - e_L) * L + (e_S - P) * S          (U: USDT balance, may be < 0)
    BTC equity   q    = BTC balance - BTC borrowed                  (coins; no price term)
    margin balance MB(P) = disc_btc(q) * P + disc_usdt(x(P)) - open-order haircut
    maintenance margin MM(P) = mmr * max(L, S) * P                 (the larger hedge-mode side)
    initial margin     IM(P) = max(L, S) * P / leverage
    MMR = MB / MM,  IMR = MB / IM

``disc(amount)`` values a positive equity band by band (like tax brackets) over the discount
tiers, whose limits btcn reads as coin amounts; a negative equity (a liability) counts in full.
Both readings are btcn's choice where Gate's docs are silent (decision 0070).

The whole account is liquidated when MMR <= 100 %, i.e. when ``F(P) = MB(P) - MM(P)`` reaches 0.
``disc_btc(q)`` does not depend on ``P`` (the limits are coins), and ``disc_usdt`` is piecewise
linear in ``x`` with knots at 0 and at the tier limits, so ``F`` is piecewise linear in ``P``:
on the segment where ``x`` lies in ``[k_j, k_j+1]`` and ``disc_usdt(x) = g_j + d_j * (x - k_j)``::

    F(P) = alpha_j + beta_j * P
    alpha_j = g_j + d_j * (a0 - k_j) - haircut,  beta_j = c_btc + d_j * b0 - mmr * max(L, S)
    a0 = U - e_L * L + e_S * S,  b0 = L - S,  c_btc = disc_btc(q)

Each segment's root ``-alpha_j / beta_j`` counts when it is positive and its ``x`` lies on that
segment. The account liquidation price is the nearest root above the price (a rally liquidates)
and the nearest below it (a fall liquidates); the distance is how far the price may move, as a
fraction of it, before the nearer of the two.

The ``*_f`` functions are the same formulas in float64 that accept NumPy arrays (elementwise
only) for the backtester; a hypothesis property holds them equal to the Decimal forms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

import numpy as np

from btcn.core.money import ONE, ZERO

F = Any  # float or NumPy array
# A root below this fraction of the price is no liquidation price: it is zero up to rounding
# (e.g. a book whose USDT equity is exactly 0 at P = 0), and the float form could not tell.
MIN_ROOT = Decimal("1e-6")


@dataclass(frozen=True, slots=True)
class DiscountTier:
    """One band of a currency's collateral discount: holdings from ``lower`` (coins) up to the
    next tier's ``lower`` count at ``discount``."""

    lower: Decimal
    discount: Decimal


# The example response of ``GET /unified/currency_discount_tiers`` in Gate's API docs (BTC:
# 0.98 / 0.95 / 0.9 / 0.85 from 0 / 1,000 / 10,000 / 50,000). An example, not Gate's live
# schedule: live runs read the venue's; backtests use this unless ``[account]`` says otherwise.
DOCUMENTED_EXAMPLE_BTC_TIERS: tuple[DiscountTier, ...] = (
    DiscountTier(Decimal(0), Decimal("0.98")),
    DiscountTier(Decimal(1000), Decimal("0.95")),
    DiscountTier(Decimal(10000), Decimal("0.9")),
    DiscountTier(Decimal(50000), Decimal("0.85")),
)
# USDT counts at 1 without limit in the same documented example.
USDT_TIERS: tuple[DiscountTier, ...] = (DiscountTier(Decimal(0), ONE),)


def check_tiers(tiers: Sequence[DiscountTier]) -> tuple[DiscountTier, ...]:
    """Tiers sorted by ``lower``; the first starts at 0, limits rise strictly, discounts in
    [0, 1]. Raise ValueError naming the fault."""
    out = tuple(sorted(tiers, key=lambda t: t.lower))
    if not out:
        raise ValueError("discount tiers are empty")
    if out[0].lower != 0:
        raise ValueError("the first discount tier must start at 0")
    for a, b in pairwise(out):
        if a.lower == b.lower:
            raise ValueError(f"two discount tiers start at {a.lower}")
    for t in out:
        if not ZERO <= t.discount <= ONE:
            raise ValueError(f"discount {t.discount} is outside [0, 1]")
    return out


def discounted(amount: Decimal, tiers: Sequence[DiscountTier]) -> Decimal:
    """Collateral value (in coins) of an equity: band by band when positive, in full when not."""
    if amount <= 0:
        return amount
    total = ZERO
    for i, t in enumerate(tiers):
        upper = tiers[i + 1].lower if i + 1 < len(tiers) else None
        if amount <= t.lower:
            break
        top = amount if upper is None else min(amount, upper)
        total += (top - t.lower) * t.discount
    return total


def discounted_f(amount: F, lowers: Sequence[float], discounts: Sequence[float]) -> F:
    """``discounted`` in float64, elementwise over arrays."""
    a = np.asarray(amount, dtype=float)
    total = np.zeros_like(a)
    for i, (lo, d) in enumerate(zip(lowers, discounts, strict=True)):
        hi = lowers[i + 1] if i + 1 < len(lowers) else np.inf
        total = total + np.clip(np.minimum(a, hi) - lo, 0.0, None) * d
    out = np.where(a > 0, total, a)
    return out if out.ndim else float(out)


@dataclass(frozen=True, slots=True)
class UnifiedBook:
    """What the margin rule needs of a unified account. Perp sizes in BTC (contracts times the
    multiplier), non-negative; the USDT balance may be negative (a liability)."""

    usdt_balance: Decimal
    btc_balance: Decimal
    long_btc: Decimal = ZERO
    long_entry_usdt: Decimal = ZERO
    short_btc: Decimal = ZERO
    short_entry_usdt: Decimal = ZERO
    btc_borrowed: Decimal = ZERO
    usdt_borrowed: Decimal = ZERO
    open_order_haircut_usdt: Decimal = ZERO  # Gate's ``spot_order_loss``


@dataclass(frozen=True, slots=True)
class MarginRules:
    maintenance_rate: Decimal  # of the first risk tier (contract ``maintenance_rate``)
    leverage: Decimal  # initial margin = notional / leverage
    btc_tiers: tuple[DiscountTier, ...] = DOCUMENTED_EXAMPLE_BTC_TIERS
    usdt_tiers: tuple[DiscountTier, ...] = USDT_TIERS


@dataclass(frozen=True, slots=True)
class MarginGuard:
    """A unified plan's limits (``core.unified_guard``): the rule, IMR and liquidation distance
    limits, the USDT reserve (fraction of NAV) and whether the snapshot showed a loan."""

    rules: MarginRules
    min_imr: Decimal
    min_distance: float
    usdt_reserve: Decimal
    has_loan: bool = False


@dataclass(frozen=True, slots=True)
class AccountMargin:
    """The account-level figures at one price (ratios None without a perp position)."""

    price_usdt: Decimal
    usdt_equity: Decimal
    btc_equity: Decimal
    margin_balance_usdt: Decimal
    initial_margin_usdt: Decimal
    maintenance_margin_usdt: Decimal
    imr: Decimal | None
    mmr: Decimal | None
    liq_price_down_usdt: Decimal | None  # None: no fall liquidates the account
    liq_price_up_usdt: Decimal | None  # None: no rally liquidates the account
    distance: float | None  # fraction of the price to the nearer; None: neither exists


def usdt_equity(book: UnifiedBook, price: Decimal) -> Decimal:
    upnl = (price - book.long_entry_usdt) * book.long_btc + (
        book.short_entry_usdt - price
    ) * book.short_btc
    return book.usdt_balance - book.usdt_borrowed + upnl


def btc_equity(book: UnifiedBook) -> Decimal:
    return book.btc_balance - book.btc_borrowed


def margin_balance(book: UnifiedBook, price: Decimal, rules: MarginRules) -> Decimal:
    return (
        discounted(btc_equity(book), rules.btc_tiers) * price
        + discounted(usdt_equity(book, price), rules.usdt_tiers)
        - book.open_order_haircut_usdt
    )


def perp_notional(book: UnifiedBook, price: Decimal) -> Decimal:
    """Notional the margin is computed on: the larger hedge-mode side (section 4.7)."""
    return max(book.long_btc, book.short_btc) * price


def maintenance_margin(book: UnifiedBook, price: Decimal, rules: MarginRules) -> Decimal:
    return rules.maintenance_rate * perp_notional(book, price)


def initial_margin(book: UnifiedBook, price: Decimal, rules: MarginRules) -> Decimal:
    return perp_notional(book, price) / rules.leverage


def _segments(
    tiers: Sequence[DiscountTier],
) -> list[tuple[Decimal | None, Decimal | None, Decimal]]:
    """``(k_lo, k_hi, slope)`` of the USDT valuation: a liability below 0, then each band."""
    segs: list[tuple[Decimal | None, Decimal | None, Decimal]] = [(None, ZERO, ONE)]
    for i, t in enumerate(tiers):
        upper = tiers[i + 1].lower if i + 1 < len(tiers) else None
        segs.append((t.lower, upper, t.discount))
    return segs


def liquidation_prices(
    book: UnifiedBook, price: Decimal, rules: MarginRules
) -> tuple[Decimal | None, Decimal | None]:
    """``(down, up)``: the nearest prices below and above ``price`` at which MMR reaches 100 %.
    Without a perp position there is no maintenance margin and no liquidation: ``(None, None)``."""
    big = max(book.long_btc, book.short_btc)
    if big == 0:
        return None, None
    c_btc = discounted(btc_equity(book), rules.btc_tiers)
    a0 = (
        book.usdt_balance
        - book.usdt_borrowed
        - book.long_entry_usdt * book.long_btc
        + book.short_entry_usdt * book.short_btc
    )
    b0 = book.long_btc - book.short_btc
    down: Decimal | None = None
    up: Decimal | None = None
    for k_lo, k_hi, slope in _segments(rules.usdt_tiers):
        k = ZERO if k_lo is None else k_lo
        g = discounted(k, rules.usdt_tiers)
        alpha = g + slope * (a0 - k) - book.open_order_haircut_usdt
        beta = c_btc + slope * b0 - rules.maintenance_rate * big
        if beta == 0:
            continue
        root = -alpha / beta
        if root <= price * MIN_ROOT:  # no liquidation at a price of (practically) zero
            continue
        x = a0 + b0 * root
        if (k_lo is not None and x < k_lo) or (k_hi is not None and x > k_hi):
            continue
        if root > price and (up is None or root < up):
            up = root
        elif root <= price and (down is None or root > down):
            down = root
    return down, up


def distance(price: Decimal, down: Decimal | None, up: Decimal | None) -> float | None:
    """Fraction of ``price`` the market may move before the nearer liquidation price."""
    cands = []
    if up is not None:
        cands.append(float(up / price - 1))
    if down is not None:
        cands.append(float(1 - down / price))
    return min(cands) if cands else None


def account_margin(book: UnifiedBook, price: Decimal, rules: MarginRules) -> AccountMargin:
    mb = margin_balance(book, price, rules)
    im = initial_margin(book, price, rules)
    mm = maintenance_margin(book, price, rules)
    down, up = liquidation_prices(book, price, rules)
    dist = distance(price, down, up)
    if mm > 0 and mb <= mm:
        dist = min(dist, 0.0) if dist is not None else 0.0  # liquidated at this price already
    return AccountMargin(
        price_usdt=price,
        usdt_equity=usdt_equity(book, price),
        btc_equity=btc_equity(book),
        margin_balance_usdt=mb,
        initial_margin_usdt=im,
        maintenance_margin_usdt=mm,
        imr=mb / im if im > 0 else None,
        mmr=mb / mm if mm > 0 else None,
        liq_price_down_usdt=down,
        liq_price_up_usdt=up,
        distance=dist,
    )


# ---- float64 / array forms (the backtester) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class FloatRules:
    """``MarginRules`` as floats, built once per run."""

    maintenance_rate: float
    leverage: float
    btc_lowers: tuple[float, ...]
    btc_discounts: tuple[float, ...]
    usdt_lowers: tuple[float, ...]
    usdt_discounts: tuple[float, ...]

    @classmethod
    def of(cls, rules: MarginRules) -> FloatRules:
        return cls(
            float(rules.maintenance_rate),
            float(rules.leverage),
            tuple(float(t.lower) for t in rules.btc_tiers),
            tuple(float(t.discount) for t in rules.btc_tiers),
            tuple(float(t.lower) for t in rules.usdt_tiers),
            tuple(float(t.discount) for t in rules.usdt_tiers),
        )


def _out(x: Any) -> F:
    return x if isinstance(x, np.ndarray) and x.ndim else float(x)


def margin_balance_f(
    usdt: F, btc: F, long_btc: F, long_entry: F, short_btc: F, short_entry: F, price: F,
    r: FloatRules,
) -> F:  # fmt: skip
    x = usdt + (price - long_entry) * long_btc + (short_entry - price) * short_btc
    mb = discounted_f(btc, r.btc_lowers, r.btc_discounts) * price + discounted_f(
        x, r.usdt_lowers, r.usdt_discounts
    )
    return _out(np.asarray(mb, dtype=float))


def maintenance_margin_f(long_btc: F, short_btc: F, price: F, r: FloatRules) -> F:
    return _out(np.asarray(r.maintenance_rate * np.maximum(long_btc, short_btc) * price))


def mmr_f(
    usdt: F, btc: F, long_btc: F, long_entry: F, short_btc: F, short_entry: F, price: F,
    r: FloatRules,
) -> F:  # fmt: skip
    """MMR; NaN without a perp position."""
    mb = margin_balance_f(usdt, btc, long_btc, long_entry, short_btc, short_entry, price, r)
    mm = np.asarray(maintenance_margin_f(long_btc, short_btc, price, r), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(mm > 0, mb / np.where(mm > 0, mm, 1.0), np.nan)
    return _out(out)


def liquidation_prices_f(
    usdt: F, btc: F, long_btc: F, long_entry: F, short_btc: F, short_entry: F, price: F,
    r: FloatRules,
) -> tuple[F, F]:  # fmt: skip
    """``liquidation_prices`` in float64 (NaN where there is none)."""
    usdt, btc, price = (np.asarray(v, dtype=float) for v in (usdt, btc, price))
    long_btc, short_btc = np.asarray(long_btc, dtype=float), np.asarray(short_btc, dtype=float)
    shape = np.broadcast(usdt, btc, long_btc, short_btc, price, long_entry, short_entry).shape
    big = np.maximum(long_btc, short_btc)
    c_btc = np.asarray(discounted_f(btc, r.btc_lowers, r.btc_discounts), dtype=float)
    a0 = usdt - long_entry * long_btc + short_entry * short_btc
    b0 = long_btc - short_btc
    down = np.full(shape, np.nan)
    up = np.full(shape, np.nan)
    n = len(r.usdt_lowers)
    segs = [(-np.inf, 0.0, 1.0)] + [
        (r.usdt_lowers[i], r.usdt_lowers[i + 1] if i + 1 < n else np.inf, r.usdt_discounts[i])
        for i in range(n)
    ]
    for k_lo, k_hi, slope in segs:
        k = 0.0 if k_lo == -np.inf else k_lo
        g = float(discounted_f(k, r.usdt_lowers, r.usdt_discounts))
        alpha = g + slope * (a0 - k)
        beta = c_btc + slope * b0 - r.maintenance_rate * big
        with np.errstate(divide="ignore", invalid="ignore"):
            root = np.where(beta != 0, -alpha / np.where(beta != 0, beta, 1.0), np.nan)
        x = a0 + b0 * root
        ok = (root > price * float(MIN_ROOT)) & (x >= k_lo) & (x <= k_hi) & (big > 0)
        is_up = ok & (root > price)
        is_down = ok & (root <= price)
        up = np.where(is_up & ~(up <= root), root, up)
        down = np.where(is_down & ~(down >= root), root, down)
    return _out(down), _out(up)


def distance_f(price: F, down: F, up: F) -> F:
    """``distance`` in float64 (NaN where neither price exists)."""
    with np.errstate(invalid="ignore"):
        d_up = np.asarray(up, dtype=float) / price - 1.0
        d_down = 1.0 - np.asarray(down, dtype=float) / price
        out = np.fmin(d_up, d_down)
    return _out(out)


# ---- the unified account's default hedge ------------------------------------------------------

# The stress move the default targets are derived from: BTC doubles between two rebalances.
STRESS_RALLY = 1.0


def hedge_weight(
    leverage: float, discount: float, min_imr: float, usdt_reserve: float,
    stress_rally: float = STRESS_RALLY,
) -> float:  # fmt: skip
    """The largest hedged fraction ``w`` of NAV (spot ``w``, short ``w``, USDT ``1 - w``) that
    keeps IMR >= ``min_imr`` after a ``stress_rally`` with no rebalance, and USDT >= the reserve.

    With spot ``q = w * NAV / P0`` and the short entered at ``P0``, at ``P = (1 + s) * P0``::

        MB  = NAV * (1 - w * (1 + s) * (1 - d)),   IM = w * NAV * (1 + s) / leverage
        IMR >= k  <=>  w <= leverage / ((1 + s) * (k + leverage * (1 - d)))

    Rounded down to 0.01. (A rally is the stress that matters: it grows the short's margin and
    shrinks the margin balance by the discount on the spot's gain; a fall does the opposite.)"""
    w_imr = leverage / ((1 + stress_rally) * (min_imr + leverage * (1 - discount)))
    w = min(1.0 - usdt_reserve, w_imr)
    return max(math.floor(w * 100 + 1e-9) / 100, 0.0)
