"""Carry KPIs and the PnL attribution of a BTC-neutral book: pure functions over equity columns.

Formulas (the manual's "Carry report" section repeats them):

* **Attribution.** Over a run ``NAV_end − NAV_start = funding − fees + gross PnL``, and the gross
  PnL splits in two:

  - ``price PnL`` = Σ_i net_delta_btc[i−1] × (spot[i] − spot[i−1]): what the BTC net delta held
    into each bar made, marked at the spot close (the book starts flat, so bar 0 adds nothing);
  - ``basis PnL`` = gross PnL − price PnL: everything else, i.e. the perp position against moves
    of the perp-spot basis (``perp_net × Δ(perp − spot)``, :func:`mark_basis_pnl`) plus the basis
    and the slippage at which each rebalance traded its legs (fills away from the bar close).

  The four parts sum to the NAV change by construction; the properties in
  ``tests/unit/test_carry.py`` check that with trades at the close the basis part is exactly the
  mark-to-market basis term, and that a hedged book with no basis earns funding minus fees.
* **Covered days**: the time the equity rows cover: ``bars × bar_ms`` for a backtest (a data gap
  is not counted: nothing, not even funding, is modelled in it), the elapsed time between the
  first and last row for a live history (``bar_ms = 0``).
* ``funding_apr_on_nav`` = funding / mean NAV × 365 / covered days;
  ``net_apr_on_nav`` = (NAV_end − NAV_start) / mean NAV × 365 / covered days (simple, not
  compounded: CAGR is the compounded figure).
* ``funding_rate_apr`` = Σ market funding rates settled inside the run × 365 / covered days
  (the rate a 1-USDT short held throughout would have earned per year).
* ``hedged_fraction`` = mean net perp short notional ((short − long) × perp close) / mean NAV.
* ``carry_capture`` = funding / (mean net short notional × Σ market rates): the share of what the
  mean short would have earned at the market's rates. So
  ``funding_apr_on_nav = hedged_fraction × funding_rate_apr × carry_capture`` exactly.
* ``fee_drag`` = fees / funding (NaN unless funding > 0).

Anything that cannot be computed is NaN, never an exception (as in :mod:`btcn.core.kpis`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from btcn.core.kpis import ANNUALISATION_DAYS, DAY_MS

F64 = npt.NDArray[np.float64]


def _lagged(x: F64) -> F64:
    """x held into each bar: 0 before the first bar (the book starts flat)."""
    out = np.empty_like(x)
    out[0] = 0.0
    out[1:] = x[:-1]
    return out


def _steps(p: F64) -> F64:
    d = np.empty_like(p)
    d[0] = 0.0
    d[1:] = np.diff(p)
    return d


def price_pnl(net_delta_btc: F64, spot: F64) -> F64:
    """Per-bar PnL of the BTC net delta held into the bar, marked at the spot close."""
    if net_delta_btc.shape[0] == 0:
        return np.zeros(0)
    return np.nan_to_num(_lagged(net_delta_btc)) * _steps(spot)


def mark_basis_pnl(perp_net_btc: F64, spot: F64, perp: F64) -> F64:
    """Per-bar PnL of the perp position (long − short, BTC) against moves of the basis
    ``perp − spot``: the basis part of a book that trades at the bar closes."""
    if perp_net_btc.shape[0] == 0:
        return np.zeros(0)
    return np.nan_to_num(_lagged(perp_net_btc)) * _steps(perp - spot)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Cumulative USDT at each bar; ``funding − fees + price + basis = NAV − NAV_start``."""

    funding: F64
    fees: F64
    price: F64
    basis: F64


def attribution(nav: F64, nav_start: float, funding_usdt: F64, fees_usdt: F64,
                net_delta_btc: F64, spot: F64) -> Attribution:  # fmt: skip
    """The NAV change at every bar split into funding, fees, price PnL and basis PnL."""
    funding = np.cumsum(np.nan_to_num(funding_usdt))
    fees = np.cumsum(np.nan_to_num(fees_usdt))
    price = np.cumsum(price_pnl(net_delta_btc, spot))
    basis = (nav - nav_start) - funding + fees - price
    return Attribution(funding, fees, price, basis)


def covered_days(ts_ms: npt.NDArray[np.int64], bar_ms: int) -> float:
    if ts_ms.shape[0] == 0:
        return 0.0
    if bar_ms > 0:
        return ts_ms.shape[0] * bar_ms / DAY_MS
    return (float(ts_ms[-1]) - float(ts_ms[0])) / DAY_MS


@dataclass(frozen=True, slots=True)
class CarryKpis:
    funding_apr_on_nav: float
    net_apr_on_nav: float
    funding_rate_apr: float
    hedged_fraction: float
    carry_capture: float
    fee_drag: float
    price_pnl_usdt: float
    basis_pnl_usdt: float


def _div(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return math.nan
    return a / b


def carry_kpis(*, days: float, mean_nav: float, nav_change: float, funding: float, fees: float,
               mean_short_notional: float, market_rate_sum: float,
               price_pnl_usdt: float) -> CarryKpis:  # fmt: skip
    """The carry KPIs from run totals (see the module docstring for each formula).

    ``market_rate_sum`` is the sum of the market's funding rates settled inside the run (NaN when
    unknown); ``days`` are covered days."""
    per_year = _div(ANNUALISATION_DAYS, days) if days > 0 else math.nan
    hedged = _div(mean_short_notional, mean_nav) if mean_nav > 0 else math.nan
    ideal = mean_short_notional * market_rate_sum
    gross = nav_change - funding + fees
    return CarryKpis(
        funding_apr_on_nav=_div(funding, mean_nav) * per_year if mean_nav > 0 else math.nan,
        net_apr_on_nav=_div(nav_change, mean_nav) * per_year if mean_nav > 0 else math.nan,
        funding_rate_apr=market_rate_sum * per_year,
        hedged_fraction=hedged,
        carry_capture=_div(funding, ideal) if ideal > 0 else math.nan,
        fee_drag=_div(fees, funding) if funding > 0 else math.nan,
        price_pnl_usdt=price_pnl_usdt,
        basis_pnl_usdt=gross - price_pnl_usdt,
    )


def run_carry_kpis(ts_ms: npt.NDArray[np.int64], *, bar_ms: int, nav: F64, nav_start: float,
                   funding_usdt: F64, fees_usdt: F64, net_delta_btc: F64, spot: F64, perp: F64,
                   short_btc: F64, long_btc: F64, market_rate_sum: float) -> CarryKpis:  # fmt: skip
    """:func:`carry_kpis` of a run's equity columns."""
    if ts_ms.shape[0] == 0:
        nan = math.nan
        return CarryKpis(nan, nan, nan, nan, nan, nan, nan, nan)
    short_notional = np.nan_to_num((short_btc - long_btc) * perp)
    return carry_kpis(
        days=covered_days(ts_ms, bar_ms),
        mean_nav=float(np.mean(nav)),
        nav_change=float(nav[-1]) - nav_start,
        funding=float(np.nansum(funding_usdt)),
        fees=float(np.nansum(fees_usdt)),
        mean_short_notional=float(np.mean(short_notional)),
        market_rate_sum=market_rate_sum,
        price_pnl_usdt=float(np.sum(price_pnl(net_delta_btc, spot))),
    )


def implied_rate_sum(funding_usdt: F64, short_btc: F64, long_btc: F64, perp: F64) -> float:
    """Σ of the funding rates implied by the funding the book booked (funding / net short
    notional at the settlement bar's close, at the perp close rather than the mark): the
    market's rates where the run folder does not record them (a run folder of an older btcn).
    Settlements while the book held no net short are missed (counted as 0); NaN when there is
    none at all."""
    held = (short_btc - long_btc) * perp
    booked = (funding_usdt != 0) & (held > 0)
    if not booked.any():
        return math.nan
    return float(np.sum(funding_usdt[booked] / held[booked]))
