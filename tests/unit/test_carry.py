"""Carry attribution and KPIs (btcn.core.carry) against an independent cash ledger."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcn.core import carry

NAV0 = 100_000.0


def simulate(spot: np.ndarray, perp: np.ndarray, spot_trades: np.ndarray, perp_trades: np.ndarray,
             rates: np.ndarray, fee_rate: float) -> dict[str, np.ndarray]:  # fmt: skip
    """A cash ledger: every trade at the bar's close, fees in USDT, a linear perp whose value is
    ``qty × price − cost``; funding ``−rate × perp_net × perp`` (shorts receive a positive
    rate). Returns the equity columns the attribution reads."""
    n = spot.shape[0]
    usdt, btc, pnet, cost = NAV0, 0.0, 0.0, 0.0
    cols = {k: np.zeros(n) for k in ("nav", "funding", "fees", "delta", "pnet", "short", "long")}
    for i in range(n):
        qs, qp = float(spot_trades[i]), float(perp_trades[i])
        fee = fee_rate * (abs(qs) * spot[i] + abs(qp) * perp[i])
        usdt -= qs * spot[i] + fee
        btc += qs
        pnet += qp
        cost += qp * perp[i]
        funding = -rates[i] * pnet * perp[i]
        usdt += funding
        cols["nav"][i] = usdt + btc * spot[i] + pnet * perp[i] - cost
        cols["funding"][i], cols["fees"][i] = funding, fee
        cols["delta"][i], cols["pnet"][i] = btc + pnet, pnet
        cols["short"][i], cols["long"][i] = max(-pnet, 0.0), max(pnet, 0.0)
    return cols


prices = st.lists(st.floats(20_000, 120_000), min_size=2, max_size=40)


@st.composite
def books(draw: st.DrawFn, hedged: bool = False, basis: bool = True) -> tuple:
    sp = np.array(draw(prices))
    n = sp.shape[0]
    if basis:
        pp = sp * (1 + np.array(draw(st.lists(st.floats(-0.01, 0.01), min_size=n, max_size=n))))
    else:
        pp = sp.copy()
    qs = np.array(draw(st.lists(st.floats(-0.3, 0.3), min_size=n, max_size=n)))
    qp = -qs if hedged else np.array(draw(st.lists(st.floats(-0.3, 0.3), min_size=n, max_size=n)))
    rates = np.array(draw(st.lists(st.sampled_from([0.0, 0.0, 1e-4, -5e-5, 3e-4]), min_size=n,
                                   max_size=n)))  # fmt: skip
    fee = draw(st.sampled_from([0.0, 0.0002, 0.001]))
    return sp, pp, qs, qp, rates, fee


@settings(max_examples=150, deadline=None)
@given(books())
def test_attribution_sums_to_nav_change_and_basis_is_the_mark_term(book: tuple) -> None:
    sp, pp, qs, qp, rates, fee = book
    c = simulate(sp, pp, qs, qp, rates, fee)
    a = carry.attribution(c["nav"], NAV0, c["funding"], c["fees"], c["delta"], sp)
    total = a.funding - a.fees + a.price + a.basis
    np.testing.assert_allclose(total, c["nav"] - NAV0, rtol=0, atol=1e-6)
    # trades at the close leave no residue: the basis part is the perp against the basis moves
    mark = np.cumsum(carry.mark_basis_pnl(c["pnet"], sp, pp))
    np.testing.assert_allclose(a.basis, mark, rtol=0, atol=1e-6 * (1 + np.abs(mark).max()))


@settings(max_examples=150, deadline=None)
@given(books(hedged=True, basis=False))
def test_hedged_book_without_basis_earns_funding_minus_fees(book: tuple) -> None:
    sp, pp, qs, qp, rates, fee = book
    c = simulate(sp, pp, qs, qp, rates, fee)
    a = carry.attribution(c["nav"], NAV0, c["funding"], c["fees"], c["delta"], sp)
    scale = 1e-9 * NAV0
    assert np.all(np.abs(a.price + a.basis) <= scale)
    np.testing.assert_allclose(c["nav"] - NAV0, a.funding - a.fees, rtol=0, atol=scale)


@settings(max_examples=150, deadline=None)
@given(books())
def test_funding_apr_is_hedged_fraction_times_market_apr_times_capture(book: tuple) -> None:
    sp, pp, qs, qp, rates, fee = book
    c = simulate(sp, pp, qs, qp, rates, fee)
    ts = np.arange(sp.shape[0], dtype=np.int64) * 300_000
    k = carry.run_carry_kpis(ts, bar_ms=300_000, nav=c["nav"], nav_start=NAV0,
                             funding_usdt=c["funding"], fees_usdt=c["fees"],
                             net_delta_btc=c["delta"], spot=sp, perp=pp, short_btc=c["short"],
                             long_btc=c["long"], market_rate_sum=float(rates.sum()))  # fmt: skip
    gross = c["nav"][-1] - NAV0 - c["funding"].sum() + c["fees"].sum()
    assert k.price_pnl_usdt + k.basis_pnl_usdt == pytest.approx(gross, abs=1e-6)
    product = k.hedged_fraction * k.funding_rate_apr * k.carry_capture
    if math.isfinite(product):
        assert k.funding_apr_on_nav == pytest.approx(product, rel=1e-9, abs=1e-12)
    else:  # no net short or no market funding: capture is undefined, never a number
        assert math.isnan(k.carry_capture)


def test_worked_example() -> None:
    """A 1-BTC hedge at 50,000 for 3 days (864 five-minute bars), 9 settlements of 0.01 %."""
    n = 864
    ts = np.arange(n, dtype=np.int64) * 300_000
    sp = np.full(n, 50_000.0)
    short = np.ones(n)
    funding = np.zeros(n)
    funding[95::96] = 0.0001 * 50_000  # every 8 h
    nav = NAV0 + np.cumsum(funding)
    k = carry.run_carry_kpis(ts, bar_ms=300_000, nav=nav, nav_start=NAV0, funding_usdt=funding,
                             fees_usdt=np.zeros(n), net_delta_btc=np.zeros(n), spot=sp, perp=sp,
                             short_btc=short, long_btc=np.zeros(n), market_rate_sum=9 * 0.0001)  # fmt: skip
    assert k.funding_rate_apr == pytest.approx(0.0001 * 3 * 365)  # 10.95 % a year
    assert k.hedged_fraction == pytest.approx(50_000 / np.mean(nav))
    assert k.carry_capture == pytest.approx(1.0)
    assert math.isnan(k.fee_drag) is False and k.fee_drag == 0.0
    assert k.price_pnl_usdt == 0.0 and k.basis_pnl_usdt == pytest.approx(0.0, abs=1e-9)
    assert carry.implied_rate_sum(funding, short, np.zeros(n), sp) == pytest.approx(9e-4)


def test_undefined_ratios_are_nan() -> None:
    k = carry.carry_kpis(days=0.0, mean_nav=0.0, nav_change=0.0, funding=-5.0, fees=1.0,
                         mean_short_notional=0.0, market_rate_sum=math.nan, price_pnl_usdt=0.0)  # fmt: skip
    assert all(math.isnan(x) for x in (k.funding_apr_on_nav, k.net_apr_on_nav, k.funding_rate_apr,
                                       k.hedged_fraction, k.carry_capture, k.fee_drag))  # fmt: skip
    empty = np.zeros(0)
    assert math.isnan(carry.implied_rate_sum(empty, empty, empty, empty))
