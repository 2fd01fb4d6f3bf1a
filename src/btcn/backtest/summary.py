"""``summary.csv`` (schema 2) and the headline of ``equity.html``: the run's KPIs and its carry.

The row's columns are ``btcn.contracts.tables.SUMMARY_COLUMNS``; the carry columns come from
:mod:`btcn.core.carry` (formulas in the manual, *Carry report*). A summary of schema 1 (run.json
of an older btcn) is upgraded on read by :func:`upgrade_summary`.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from btcn.backtest import html
from btcn.backtest.market import Market
from btcn.contracts.tables import CARRY_COLUMNS
from btcn.core.kpis import Kpis
from btcn.data.timeparse import iso_utc


def json_number(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def summary_row(kpis: Kpis, start_ms: int, end_ms: int, bars: int, *, turnover_usdt: float,
                trades: int, blocked: int, rebalances: int, transfers: int = 0,
                equity: dict[str, np.ndarray] | None = None, bar_ms: int = 0,
                market_rate_sum: float = math.nan,
                funding_recorded: bool = True) -> dict[str, Any]:  # fmt: skip
    """The one row of ``summary.csv`` (columns ``btcn.contracts.tables.SUMMARY_COLUMNS``).

    gross PnL = net PnL + fees - funding: what price moves (and slippage) did to the positions.
    ``min_liq_distance`` and ``max_abs_net_delta_nav`` (a fraction) come from the equity columns
    (NaN when unknown or the book never held a perp position); the carry columns from
    :func:`carry_summary`.
    """
    min_liq = max_delta = math.nan
    if equity is not None:
        liq = np.asarray(equity.get("liq_distance", []), dtype=np.float64)
        if liq.size and np.isfinite(liq).any():
            min_liq = float(np.nanmin(liq))
        nd = np.asarray(equity.get("net_delta_pct_nav", []), dtype=np.float64)
        if nd.size and np.isfinite(nd).any():
            max_delta = float(np.nanmax(np.abs(nd))) / 100.0  # the column is in percent
    net = kpis.nav_end - kpis.nav_start
    carry_cols = (
        carry_summary(equity, kpis.nav_start, bar_ms, market_rate_sum, funding_recorded)
        if equity is not None
        else dict.fromkeys(CARRY_COLUMNS, math.nan)
    )
    return {
        "start": iso_utc(start_ms),
        "end": iso_utc(end_ms),
        "bars": bars,
        "nav_start": kpis.nav_start,
        "nav_end": kpis.nav_end,
        "roi": kpis.roi,
        "cagr": kpis.cagr,
        "sharpe": kpis.sharpe,
        "sortino": kpis.sortino,
        "max_drawdown": kpis.max_drawdown,
        "fees_usdt": kpis.fees_usdt,
        "fees_per_nav_per_day": kpis.fees_per_nav_per_day,
        "funding_usdt": kpis.funding_usdt,
        "gross_pnl_usdt": net + kpis.fees_usdt - kpis.funding_usdt,
        "net_pnl_usdt": net,
        "turnover_usdt": turnover_usdt,
        "trades": trades,
        "blocked_trades": blocked,
        "rebalances": rebalances,
        "transfers": transfers,
        "min_liq_distance": min_liq,
        "max_abs_net_delta_nav": max_delta,
        **carry_cols,
    }


def carry_summary(eq: dict[str, np.ndarray], nav_start: float, bar_ms: int,
                  market_rate_sum: float, funding_recorded: bool = True) -> dict[str, float]:  # fmt: skip
    """The carry columns of ``summary.csv`` (:mod:`btcn.core.carry`) from the equity columns.

    ``market_rate_sum`` is the sum of the market's funding rates settled in the run; NaN (a run
    folder written before it was recorded) falls back to the rates the booked funding implies.
    ``funding_recorded=False`` (a live history: funding lands in the wallets, not in
    ``funding_usdt``) makes every funding figure NaN; the basis PnL then includes the funding.
    """
    from btcn.core.carry import implied_rate_sum, run_carry_kpis

    def col(name: str) -> np.ndarray:
        return np.asarray(eq[name], dtype=np.float64)

    funding = col("funding_usdt")
    if not math.isfinite(market_rate_sum) and funding_recorded:
        market_rate_sum = implied_rate_sum(funding, col("short_qty_btc"), col("long_qty_btc"),
                                           col("price_perp"))  # fmt: skip
    k = run_carry_kpis(
        np.asarray(eq["ts_ms"], dtype=np.int64), bar_ms=bar_ms, nav=col("nav_usdt"),
        nav_start=nav_start, funding_usdt=funding, fees_usdt=col("fees_usdt"),
        net_delta_btc=col("net_delta_btc"), spot=col("price_spot"), perp=col("price_perp"),
        short_btc=col("short_qty_btc"), long_btc=col("long_qty_btc"),
        market_rate_sum=market_rate_sum if funding_recorded else math.nan,
    )  # fmt: skip
    out = {name: float(getattr(k, name)) for name in CARRY_COLUMNS}
    if not funding_recorded:
        for name in ("funding_apr_on_nav", "carry_capture", "fee_drag"):
            out[name] = math.nan
    return out


def market_rate_sum(market: Market, first: int, stop: int) -> float:
    """Σ of the market's funding rates settled at the close of bars ``[first, stop)``."""
    inside = (market.funding_bar >= first) & (market.funding_bar < stop)
    return float(np.sum(market.funding_rate[inside])) if market.has_perp else math.nan


def upgrade_summary(summary: dict[str, Any], eq: dict[str, np.ndarray], nav_start: float,
                    bar_ms: int) -> dict[str, Any]:  # fmt: skip
    """A summary of schema version 1 (run.json of an older btcn) as version 2: the percent column
    becomes the fraction ``max_abs_net_delta_nav``; the carry columns come from the equity
    columns (the market's rates implied by the booked funding)."""
    out = dict(summary)
    if "max_abs_net_delta_nav" not in out:
        pct = out.pop("max_abs_net_delta_pct_nav", None)
        out["max_abs_net_delta_nav"] = pct / 100.0 if isinstance(pct, int | float) else math.nan
    if any(name not in out for name in CARRY_COLUMNS):
        out.update(carry_summary(eq, nav_start, bar_ms, math.nan))
    return out


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    from btcn.contracts.tables import SUMMARY_COLUMNS, SUMMARY_CSV_COLUMNS, SUMMARY_SCHEMA_VERSION

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(SUMMARY_CSV_COLUMNS)
        # a run folder written by btcn 0.1 lacks the newer columns: they stay empty
        w.writerow(["" if json_number(summary.get(k)) is None else summary[k] for k in SUMMARY_COLUMNS]
                   + [SUMMARY_SCHEMA_VERSION])  # fmt: skip


def html_title(meta: dict[str, Any], summary: dict[str, Any]) -> str:
    """The page title: the carry first (what the book earned, cost and yields), then the
    generic KPIs, every Sharpe labelled with its window."""

    def pct(key: str) -> str:
        v = summary.get(key)
        return f"{v:.2%}" if isinstance(v, int | float) and math.isfinite(v) else "n/a"

    def usdt(key: str) -> str:
        v = summary.get(key)
        return f"{v:+,.0f}" if isinstance(v, int | float) and math.isfinite(v) else "n/a"

    sharpe = summary.get("sharpe")
    sharpe_s = (
        f"{sharpe:.2f}" if isinstance(sharpe, int | float) and math.isfinite(sharpe) else "n/a"
    )
    kind = "live history" if meta.get("source") == "live-history" else "backtest"
    fees = summary.get("fees_usdt")
    neg_fees = -fees if isinstance(fees, int | float) else math.nan
    return (f"btcn {kind} {summary['start']} → {summary['end']} on {summary.get('nav_start', 0):,.0f}"
            f" USDT: funding {usdt('funding_usdt')}, fees {neg_fees:+,.0f}, price "
            f"{usdt('price_pnl_usdt')}, basis {usdt('basis_pnl_usdt')}<br>funding APR on NAV "
            f"{pct('funding_apr_on_nav')} (market {pct('funding_rate_apr')}, hedged "
            f"{pct('hedged_fraction')}, capture {pct('carry_capture')}), net APR "
            f"{pct('net_apr_on_nav')}; Sharpe (run) {sharpe_s}, max DD {pct('max_drawdown')}, "
            f"min liquidation distance {pct('min_liq_distance')}")  # fmt: skip


def html_context(meta: dict[str, Any], nav_start: float) -> html.Context:
    """The bands of equity.html from the run's settings (run.json), else today's defaults."""
    from btcn.runtime.settings import RiskSettings, StrategySettings

    cfg = meta.get("settings") if isinstance(meta.get("settings"), dict) else {}
    defaults = {"strategy": StrategySettings(), "risk": RiskSettings()}

    def setting(section: str, key: str) -> float:
        value = (cfg.get(section) or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return float(getattr(defaults[section], key))

    return html.Context(
        targets=tuple(meta["targets"]),  # type: ignore[arg-type]
        nav_start=nav_start,
        bar_ms=int(meta.get("bar_ms") or 0),
        max_delta_drift=setting("strategy", "max_delta_drift"),
        min_liq_distance=setting("risk", "min_liquidation_distance"),
        margin_target=1.0 + setting("risk", "margin_buffer"),
    )
