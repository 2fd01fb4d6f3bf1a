"""Performance KPIs: one pure implementation used by the backtest summary, audit and reports.

Conventions (stated here because libraries differ):

* Returns are **daily**: the NAV at the last bar of each UTC day, against the previous day's (the
  first day against the starting NAV).
* Sharpe = mean(daily return) / std(daily return, ddof=1) * sqrt(365) — crypto trades every day, so
  365-day annualisation; risk-free rate 0.
* Sortino = mean(daily return) / downside deviation * sqrt(365), downside deviation =
  sqrt(mean(min(r, 0)^2)) over all days.
* Max drawdown = max over time of 1 - NAV / running peak, a positive fraction.
* CAGR = (NAV_end / NAV_start) ** (365 / days) - 1, days = elapsed time / 86,400 s.
* fees_per_nav_per_day = total fees / mean NAV / days.

A ratio that cannot be computed (fewer than two daily returns, zero deviation) is NaN, never an
exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DAY_MS = 86_400_000
ANNUALISATION_DAYS = 365


def daily_nav(
    ts_ms: npt.NDArray[np.int64], nav: npt.NDArray[np.float64], bar_ms: int = 0
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """NAV at the last bar of each UTC day (a bar belongs to the day of its close), with that
    day's start in ms. Days without bars (data gaps) are skipped. O(days) extra memory."""
    if ts_ms.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    shift = bar_ms - 1 if bar_ms else 0
    first_day = (int(ts_ms[0]) + shift) // DAY_MS
    last_day = (int(ts_ms[-1]) + shift) // DAY_MS
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    # last bar whose close falls on day d: open time < (d + 1) * DAY - shift
    idx = np.searchsorted(ts_ms, (days + 1) * DAY_MS - shift, side="left") - 1
    has_bar = np.ones(days.shape[0], dtype=bool)
    has_bar[1:] = idx[1:] != idx[:-1]
    has_bar &= idx >= 0
    return days[has_bar] * DAY_MS, nav[idx[has_bar]]


def daily_returns(nav_start: float, day_nav: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    prev = np.concatenate([[nav_start], day_nav[:-1]])
    return day_nav / prev - 1.0


def sharpe(returns: npt.NDArray[np.float64]) -> float:
    if returns.shape[0] < 2:
        return math.nan
    sd = float(np.std(returns, ddof=1))
    if sd == 0 or not math.isfinite(sd):
        return math.nan
    return float(np.mean(returns)) / sd * math.sqrt(ANNUALISATION_DAYS)


def sortino(returns: npt.NDArray[np.float64]) -> float:
    if returns.shape[0] < 2:
        return math.nan
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    if downside == 0:
        return math.nan
    return float(np.mean(returns)) / downside * math.sqrt(ANNUALISATION_DAYS)


def drawdown(nav: npt.NDArray[np.float64], start: float | None = None) -> npt.NDArray[np.float64]:
    """Drawdown at every bar as a positive fraction of the running peak (which starts at
    ``start`` when given, e.g. the starting NAV). Two arrays of memory, no more."""
    if nav.shape[0] == 0:
        return np.zeros(0)
    peak = np.maximum.accumulate(nav)
    if start is not None:
        np.maximum(peak, start, out=peak)
    np.divide(nav, peak, out=peak)
    np.subtract(1.0, peak, out=peak)
    return peak


def max_drawdown(nav: npt.NDArray[np.float64], start: float | None = None) -> float:
    return float(drawdown(nav, start).max()) if nav.shape[0] else math.nan


def cagr(nav_start: float, nav_end: float, days: float) -> float:
    if days <= 0 or nav_start <= 0 or nav_end <= 0:
        return math.nan
    try:
        return (nav_end / nav_start) ** (ANNUALISATION_DAYS / days) - 1.0
    except OverflowError:  # a growth too large to annualise (e.g. two days of a 1e13x NAV)
        return math.inf


@dataclass(frozen=True, slots=True)
class Kpis:
    nav_start: float
    nav_end: float
    days: float
    roi: float
    cagr: float
    sharpe: float
    sortino: float
    max_drawdown: float
    fees_usdt: float
    fees_per_nav_per_day: float
    funding_usdt: float


def compute_kpis(
    ts_ms: npt.NDArray[np.int64],
    nav: npt.NDArray[np.float64],
    *,
    bar_ms: int,
    nav_start: float,
    fees_usdt: float,
    funding_usdt: float,
) -> Kpis:
    """All KPIs of an equity curve (``ts_ms`` are bar open times; ``nav`` at each bar's close)."""
    if ts_ms.shape[0] == 0:
        nan = math.nan
        return Kpis(
            nav_start, nav_start, 0.0, nan, nan, nan, nan, nan, fees_usdt, nan, funding_usdt
        )
    days = (float(ts_ms[-1]) + bar_ms - float(ts_ms[0])) / DAY_MS
    _, day_nav = daily_nav(ts_ms, nav, bar_ms)
    rets = daily_returns(nav_start, day_nav)
    nav_end = float(nav[-1])
    mean_nav = float(np.mean(nav))
    return Kpis(
        nav_start=nav_start,
        nav_end=nav_end,
        days=days,
        roi=nav_end / nav_start - 1.0,
        cagr=cagr(nav_start, nav_end, days),
        sharpe=sharpe(rets),
        sortino=sortino(rets),
        max_drawdown=max(max_drawdown(nav, nav_start), 0.0),
        fees_usdt=fees_usdt,
        fees_per_nav_per_day=fees_usdt / mean_nav / days if days > 0 and mean_nav > 0 else math.nan,
        funding_usdt=funding_usdt,
    )


def trailing_sharpe(
    ts_ms: npt.NDArray[np.int64],
    nav: npt.NDArray[np.float64],
    *,
    bar_ms: int,
    nav_start: float,
    window_days: int = 30,
) -> float:
    """Sharpe of the last ``window_days`` daily returns (the roadmap's "Sharpe (30 days)").

    Same daily returns and annualisation as :func:`sharpe`; with fewer days than the window, the
    days there are (NaN below two).
    """
    if ts_ms.shape[0] == 0:
        return math.nan
    _, day_nav = daily_nav(ts_ms, nav, bar_ms)
    rets = daily_returns(nav_start, day_nav)
    return sharpe(rets[-window_days:])


def rolling_daily_sharpe(
    ts_ms: npt.NDArray[np.int64],
    nav: npt.NDArray[np.float64],
    *,
    bar_ms: int,
    nav_start: float,
    window_days: int = 30,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """For each UTC day, the trailing Sharpe of the ``window_days`` daily returns ending that day.

    Returns the days' start times (ms) and the values; equals :func:`trailing_sharpe` of the data
    cut at each day's last bar.
    """
    days, day_nav = daily_nav(ts_ms, nav, bar_ms)
    rets = daily_returns(nav_start, day_nav)
    out = np.array(
        [sharpe(rets[max(0, i + 1 - window_days) : i + 1]) for i in range(rets.shape[0])],
        dtype=np.float64,
    )
    return days, out
