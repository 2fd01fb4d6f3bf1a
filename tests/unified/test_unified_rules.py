"""The unified-account margin rule (core/unified.py): the manual's worked examples, checked to the
cent, and properties that hold the float/array form equal to the Decimal rule."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from btcn.core.unified import (
    DOCUMENTED_EXAMPLE_BTC_TIERS,
    DiscountTier,
    FloatRules,
    MarginRules,
    UnifiedBook,
    account_margin,
    check_tiers,
    discounted,
    discounted_f,
    liquidation_prices,
    liquidation_prices_f,
    margin_balance,
    margin_balance_f,
    mmr_f,
)

D = Decimal
RULES = MarginRules(maintenance_rate=D("0.004"), leverage=D(3))
Q = D("0.01")


def q2(x: Decimal | None) -> Decimal | None:
    return None if x is None else x.quantize(Q)


def test_worked_example_hedged_book():
    """Manual, "Running on a unified account", example 1: 1.5 BTC spot, 1.5 BTC short at
    60,000, 10,000 USDT."""
    book = UnifiedBook(
        usdt_balance=D(10_000), btc_balance=D("1.5"), short_btc=D("1.5"), short_entry_usdt=D(60_000)
    )
    m = account_margin(book, D(60_000), RULES)
    assert m.margin_balance_usdt == D(98_200)
    assert m.maintenance_margin_usdt == D(360)
    assert m.initial_margin_usdt == D(30_000)
    assert q2(m.mmr * 100) == D("27277.78")
    assert q2(m.imr * 100) == D("327.33")
    assert m.liq_price_down_usdt is None
    assert q2(m.liq_price_up_usdt) == D("2777777.78")
    assert round(m.distance, 4) == 45.2963


def test_worked_example_short_without_spot_matches_isolated_formula():
    """Example 2: no spot, 30,000 USDT behind the same short: the account rule gives the
    isolated-margin formula of section 4.6 with the fee term left out."""
    book = UnifiedBook(
        usdt_balance=D(30_000), btc_balance=D(0), short_btc=D("1.5"), short_entry_usdt=D(60_000)
    )
    down, up = liquidation_prices(book, D(60_000), RULES)
    assert down is None
    assert q2(up) == D("79681.27")
    isolated = (D(60_000) + D(30_000) / D("1.5")) / (1 + D("0.004"))
    assert q2(up) == q2(isolated)


def test_worked_example_negative_usdt_counts_in_full():
    """Example 3: a realised short loss took USDT to -5,000: a liability, no discount."""
    book = UnifiedBook(
        usdt_balance=D(-5_000), btc_balance=D("1.5"), short_btc=D("1.5"), short_entry_usdt=D(60_000)
    )
    assert margin_balance(book, D(60_000), RULES) == D(83_200)


def test_worked_example_long_perp_liquidates_on_a_fall():
    """Example 4: 1 BTC spot and a 1 BTC perp long at 60,000, no USDT: a fall liquidates."""
    book = UnifiedBook(
        usdt_balance=D(0), btc_balance=D(1), long_btc=D(1), long_entry_usdt=D(60_000)
    )
    down, up = liquidation_prices(book, D(60_000), RULES)
    assert up is None
    assert q2(down) == D("30364.37")
    m = account_margin(book, down, RULES)
    assert abs(m.mmr - 1) < D("1e-20")


def test_no_perp_no_liquidation():
    m = account_margin(UnifiedBook(D(100), D(1)), D(50_000), RULES)
    assert m.mmr is None and m.imr is None and m.distance is None


def test_discount_band_by_band():
    tiers = DOCUMENTED_EXAMPLE_BTC_TIERS
    assert discounted(D(500), tiers) == D(490)
    # 1,000 at 0.98 + 1,000 at 0.95
    assert discounted(D(2000), tiers) == D(980) + D(950)
    assert discounted(D(-2), tiers) == D(-2)
    assert discounted_f(2000.0, [0, 1000, 10000, 50000], [0.98, 0.95, 0.9, 0.85]) == 1930.0


def test_check_tiers_refuses_bad_schedules():
    with pytest.raises(ValueError, match="start at 0"):
        check_tiers([DiscountTier(D(1), D("0.9"))])
    with pytest.raises(ValueError, match="outside"):
        check_tiers([DiscountTier(D(0), D("1.5"))])
    assert check_tiers([DiscountTier(D(5), D("0.9")), DiscountTier(D(0), D(1))])[0].lower == 0


# A USDT schedule with real bands, so that the piecewise search is exercised.
BANDED = MarginRules(
    maintenance_rate=D("0.005"),
    leverage=D(5),
    btc_tiers=(DiscountTier(D(0), D("0.98")), DiscountTier(D(2), D("0.9"))),
    usdt_tiers=(DiscountTier(D(0), D(1)), DiscountTier(D(50_000), D("0.95"))),
)


@st.composite
def accounts(draw):
    price = D(draw(st.integers(10_000, 150_000)))
    entry = lambda: D(draw(st.integers(10_000, 150_000)))  # noqa: E731
    book = UnifiedBook(
        usdt_balance=D(draw(st.integers(-50_000, 200_000))),
        btc_balance=D(draw(st.integers(0, 5_000_000))) / 1_000_000,
        long_btc=D(draw(st.sampled_from([0, draw(st.integers(0, 3_000_000))]))) / 1_000_000,
        long_entry_usdt=entry(),
        short_btc=D(draw(st.integers(0, 5_000_000))) / 1_000_000,
        short_entry_usdt=entry(),
    )
    return book, price, draw(st.sampled_from([RULES, BANDED]))


def _rel(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@given(accounts())
@example(  # USDT equity exactly 0 at P = 0: a "root" at 0 in Decimal, 8e-8 in floats
    (
        UnifiedBook(usdt_balance=D(0), btc_balance=D("0.000716"), long_btc=D("0.01812"),
                    long_entry_usdt=D(18746), short_btc=D("0.018746"), short_entry_usdt=D(18120)),
        D(10000),
        RULES,
    )
)  # fmt: skip
def test_float_form_equals_decimal_rule(case):
    book, price, rules = case
    fr = FloatRules.of(rules)
    args = (
        float(book.usdt_balance),
        float(book.btc_balance),
        float(book.long_btc),
        float(book.long_entry_usdt),
        float(book.short_btc),
        float(book.short_entry_usdt),
        float(price),
        fr,
    )
    m = account_margin(book, price, rules)
    assert _rel(margin_balance_f(*args), float(m.margin_balance_usdt))
    assert _rel(mmr_f(*args), math.nan if m.mmr is None else float(m.mmr))
    down, up = liquidation_prices_f(*args)
    assert _rel(down, math.nan if m.liq_price_down_usdt is None else float(m.liq_price_down_usdt))
    assert _rel(up, math.nan if m.liq_price_up_usdt is None else float(m.liq_price_up_usdt))
    # the array form gives the same figures elementwise
    arr = tuple(np.array([a, a]) if isinstance(a, float) else a for a in args)
    d2, u2 = liquidation_prices_f(*arr)
    assert _rel(float(d2[1]), down) and _rel(float(u2[0]), up)


@given(accounts(), st.floats(0.01, 0.99))
def test_mmr_is_100pct_at_the_liquidation_prices_and_above_between(case, frac):
    book, price, rules = case
    m = account_margin(book, price, rules)
    if m.mmr is None or m.mmr <= 1:
        return
    for liq in (m.liq_price_down_usdt, m.liq_price_up_usdt):
        if liq is not None:
            at = account_margin(book, liq, rules)
            assert abs(at.mmr - 1) < D("1e-12")
    lo = m.liq_price_down_usdt or price * D("0.01")
    hi = m.liq_price_up_usdt or price * 100
    inside = lo + (hi - lo) * D(repr(frac))
    assert account_margin(book, inside, rules).mmr > 1
