"""Ranking points by a KPI, choosing each window's winner, chaining the out-of-sample equity and
measuring how stable the chosen parameters are.

No look-ahead by construction: :func:`choose` sees only the rows of one window's *train* period;
the test period of that window is evaluated afterwards, for the chosen point alone.

Out-of-sample chaining: each test window is a fresh backtest from ``initial_nav_usdt`` with the
chosen settings (it opens its positions, paying those fees, in its first bars). The chained curve
compounds the windows: window *k* is scaled by the chained NAV at the end of window *k-1* over
the starting NAV. Its KPIs come from :func:`btcn.core.kpis.compute_kpis`, like every backtest's.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from btcn.core.kpis import Kpis, compute_kpis
from btcn.errors import UsageError
from btcn.sweep.store import finite

MAXIMIZE = ("sharpe", "sortino", "roi", "cagr", "net_pnl_usdt", "gross_pnl_usdt", "nav_end",
            "funding_usdt")  # fmt: skip
MINIMIZE = ("max_drawdown", "fees_usdt", "fees_per_nav_per_day", "turnover_usdt", "trades",
            "rebalances", "blocked_trades")  # fmt: skip
METRICS = (*MAXIMIZE, *MINIMIZE)


def check_metric(metric: str, where: str = "--metric") -> bool:
    """True when a larger value is better; UsageError for an unknown KPI."""
    if metric not in METRICS:
        raise UsageError(
            f"{where} {metric!r} is not a KPI that can rank points",
            hint=f"use one of {', '.join(METRICS)}",
        )
    return metric in MAXIMIZE


def rank_key(row: dict[str, Any], metric: str, maximize: bool) -> tuple[int, float, int]:
    """Sort key: ok rows with a finite value first, best value first, then plan order."""
    v = row.get(metric)
    if row.get("status") != "ok" or not finite(v):
        return (1, 0.0, int(row["point"]))
    return (0, -float(v) if maximize else float(v), int(row["point"]))


def ranked(rows: Sequence[dict[str, Any]], metric: str, maximize: bool) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: rank_key(r, metric, maximize))


def choose(train_rows: Sequence[dict[str, Any]], metric: str, maximize: bool) -> dict[str, Any] | None:  # fmt: skip
    """The best train row (ties: the earlier point), or None when no row has a finite value."""
    best = ranked(train_rows, metric, maximize)
    if not best or rank_key(best[0], metric, maximize)[0]:
        return None
    return best[0]


@dataclass
class Chained:
    ts_ms: np.ndarray
    nav_usdt: np.ndarray
    window: np.ndarray
    kpis: Kpis


def chain(parts: Sequence[tuple[int, dict[str, np.ndarray]]], nav_start: float, bar_ms: int) -> Chained | None:  # fmt: skip
    """Compound the test windows' equity (``(window, equity)`` in window order) into one curve."""
    if not parts:
        return None
    level = nav_start
    ts, nav, win = [], [], []
    fees = funding = 0.0
    for w, eq in parts:
        scale = level / nav_start
        n = eq["nav_usdt"] * scale
        ts.append(eq["ts_ms"])
        nav.append(n)
        win.append(np.full(n.shape[0], w, dtype=np.int64))
        fees += float(np.sum(eq["fees_usdt"])) * scale
        funding += float(np.sum(eq["funding_usdt"])) * scale
        level = float(n[-1])
    t = np.concatenate(ts)
    v = np.concatenate(nav)
    kpis = compute_kpis(t, v, bar_ms=bar_ms, nav_start=nav_start, fees_usdt=fees,
                        funding_usdt=funding)  # fmt: skip
    return Chained(t, v, np.concatenate(win), kpis)


def stability(chosen: Sequence[dict[str, Any] | None], keys: Sequence[str]) -> dict[str, Any]:
    """How much the chosen point moves between windows.

    ``changes``: windows whose choice differs from the previous window's; ``distinct_points``;
    ``most_chosen_share``: share of windows won by the most frequent point; per parameter the
    chosen value of each window and, for numbers, min/max/mean/std (population) and the relative
    spread std/|mean|, else the number of distinct values and the most frequent one.
    """
    picks = [c for c in chosen if c is not None]
    ids = [c["point_id"] for c in picks]
    changes = sum(1 for a, b in itertools.pairwise(ids) if a != b)
    counts = Counter(ids)
    out: dict[str, Any] = {
        "windows": len(chosen),
        "windows_with_choice": len(picks),
        "changes": changes,
        "distinct_points": len(counts),
        "most_chosen_share": (max(counts.values()) / len(picks)) if picks else math.nan,
        "params": {},
    }
    for k in keys:
        values = [c["params"].get(k) if c is not None else None for c in chosen]
        present = [v for v in values if v is not None]
        entry: dict[str, Any] = {"values": values}
        if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            arr = np.asarray(present, dtype=np.float64)
            mean = float(arr.mean())
            std = float(arr.std())
            entry.update(min=float(arr.min()), max=float(arr.max()), mean=mean, std=std,
                         rel_spread=std / abs(mean) if mean else math.nan)  # fmt: skip
        else:
            keyed = Counter(repr(v) for v in present)
            entry.update(distinct=len(keyed),
                         mode=next((v for v in present if repr(v) == keyed.most_common(1)[0][0]), None)
                         if present else None)  # fmt: skip
        out["params"][k] = entry
    return out
