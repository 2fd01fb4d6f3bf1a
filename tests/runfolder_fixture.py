"""A synthetic backtest run folder that follows the contracts of btcn.contracts.tables exactly.

Used until (and alongside) real `btcn backtest --out` folders: a hedged book (spot long, perp
short) on a random-walk price, fees on rebalances, funding every 8 h.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from btcn.contracts.tables import (
    BLOCKED_COLUMNS,
    EQUITY_SCHEMA,
    OPEN_POSITION_FIELDS,
    SUMMARY_COLUMNS,
    TRADES_SCHEMA,
)
from btcn.core import kpis as K

BAR_MS = 300_000
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC


def make_run_folder(
    out: Path,
    *,
    days: int = 40,
    seed: int = 1,
    bar_ms: int = BAR_MS,
    nav0: float = 100_000.0,
    drift_per_bar: float = 2e-6,
    fee_per_trade: float = 8.0,
    trades_per_day: int = 3,
    margin_frac: float = 0.17,
    funding_rate: float = 0.0001,
    with_run_json: bool = True,
    with_summary: bool = True,
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = days * 86_400_000 // bar_ms
    ts = T0 + np.arange(n, dtype=np.int64) * bar_ms
    price = 95_000 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    perp = price * (1 + rng.normal(0.0003, 0.0001, n))
    # NAV: a small drift plus noise, minus fees, plus funding.
    fees = np.zeros(n)
    trade_bars = np.sort(rng.choice(n, size=days * trades_per_day, replace=False))
    fees[trade_bars] = fee_per_trade
    funding = np.zeros(n)
    funding_bars = np.flatnonzero((ts % (8 * 3_600_000)) == 0)
    qty = nav0 * 0.5 / price[0]
    funding[funding_bars] = funding_rate * qty * perp[funding_bars]
    ret = drift_per_bar + rng.normal(0, 0.0002, n)
    nav = nav0 * np.cumprod(1 + ret) - np.cumsum(fees) + np.cumsum(funding)
    spot_qty = np.full(n, qty)
    short_qty = np.full(n, qty)
    net = spot_qty - short_qty + rng.normal(0, 0.0005, n)
    margin = short_qty * perp / 3.0 * (margin_frac / (0.5 / 3.0))
    dd = K.drawdown(np.concatenate([[nav0], nav]))[1:]
    cols = {
        "ts": pa.array(ts, type=pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        "price_spot": price,
        "price_perp": perp,
        "nav_usdt": nav,
        "spot_usdt": nav * 0.0,
        "spot_qty_btc": spot_qty,
        "futures_usdt": nav - spot_qty * price,
        "long_qty_btc": np.zeros(n),
        "short_qty_btc": short_qty,
        "unrealized_pnl_usdt": (perp[0] - perp) * short_qty,
        "w_spot": spot_qty * price / nav,
        "w_long": np.zeros(n),
        "w_short": short_qty * perp / nav,
        "thr": np.full(n, 0.005),
        "net_delta_btc": net,
        "net_delta_pct_nav": net * price / nav * 100,
        "margin_used_usdt": margin,
        "margin_ratio": (nav - spot_qty * price) / margin,
        "funding_usdt": funding,
        "fees_usdt": fees,
        "drawdown": dd,
        "liq_price_usdt": perp * 1.45,
        "liq_distance": np.full(n, 0.45),
        "venue_liq_price_usdt": np.full(n, np.nan),
        "transfer_usdt": np.zeros(n),
    }
    table = pa.table({k: pa.array(v) if not isinstance(v, pa.Array) else v for k, v in cols.items()},
                     schema=EQUITY_SCHEMA)  # fmt: skip
    pq.write_table(table, out / "equity.parquet")

    legs = rng.choice(["BTC_SPOT", "BTC_PERP_SHORT"], size=trade_bars.shape[0])
    sides = rng.choice(["BUY", "SELL"], size=trade_bars.shape[0])
    actions = [
        s if leg == "BTC_SPOT" else ("OPEN_SHORT" if s == "SELL" else "CLOSE_SHORT")
        for leg, s in zip(legs, sides, strict=True)
    ]
    fill_ts = ts[trade_bars] + 1_000
    px = np.where(legs == "BTC_SPOT", price[trade_bars], perp[trade_bars])
    slip = np.where(sides == "BUY", 1, -1) * px * rng.uniform(0, 0.0004, trade_bars.shape[0])
    trades = pa.table(
        {
            "ts_ms": pa.array(fill_ts, type=pa.int64()),
            "leg": pa.array(legs.tolist()),
            "action": pa.array(actions),
            "side": pa.array(sides.tolist()),
            "qty_btc": pa.array(rng.uniform(0.001, 0.05, trade_bars.shape[0])),
            "price": pa.array(px + slip),
            "fee_usdt": pa.array(fees[trade_bars] * rng.uniform(0.5, 1.5, trade_bars.shape[0])),
            "liquidity": pa.array(rng.choice(["maker", "taker"], trade_bars.shape[0]).tolist()),
            "position_id": pa.array(np.arange(trade_bars.shape[0], dtype=np.int64)),
            "duration_s": pa.array(np.full(trade_bars.shape[0], np.nan)),
            "realized_pnl_usdt": pa.array(np.zeros(trade_bars.shape[0])),
            "cumulative_pnl_usdt": pa.array(-np.cumsum(fees[trade_bars])),
            "fee_btc": pa.array(np.zeros(trade_bars.shape[0])),
            "drawdown": pa.array(dd[trade_bars]),
        },
        schema=TRADES_SCHEMA,
    )
    pq.write_table(trades, out / "trades.parquet")
    rows = trades.to_pylist()
    (out / "executed_trades.json").write_text(json.dumps(rows, indent=1, allow_nan=True))
    (out / "open_positions.json").write_text(
        json.dumps(
            [
                dict(
                    zip(
                        OPEN_POSITION_FIELDS,
                        ["BTC_PERP_SHORT", "SHORT", qty, perp[0], T0, 0.0],
                        strict=True,
                    )
                )
            ]
        )
    )
    with open(out / "blocked_trades_log.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(BLOCKED_COLUMNS)
        blocked = dict(zip(BLOCKED_COLUMNS, ["2025-01-02T00:00:00Z", "BTC_SPOT", "SELL", "BUY",
                       "BUY_FORBIDS_SELL", 0.01, "SELL", 950.0], strict=True))  # fmt: skip
        w.writerow(blocked.values())
    k = K.compute_kpis(ts, nav, bar_ms=bar_ms, nav_start=nav0, fees_usdt=float(fees.sum()),
                       funding_usdt=float(funding.sum()))  # fmt: skip
    summary = {
            "start": "2025-01-01T00:00:00Z", "end": "x", "bars": n, "nav_start": nav0,
            "nav_end": k.nav_end, "roi": k.roi, "cagr": k.cagr, "sharpe": k.sharpe,
            "sortino": k.sortino, "max_drawdown": k.max_drawdown, "fees_usdt": k.fees_usdt,
            "fees_per_nav_per_day": k.fees_per_nav_per_day, "funding_usdt": k.funding_usdt,
            "gross_pnl_usdt": 0, "net_pnl_usdt": k.nav_end - nav0, "turnover_usdt": 0,
            "trades": len(rows), "blocked_trades": 1, "rebalances": len(rows) // 2,
    }  # fmt: skip
    if with_summary:
        with open(out / "summary.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS)
            w.writeheader()
            w.writerow(summary)
    if with_run_json:
        (out / "run.json").write_text(
            json.dumps(
                {
                    "kind": "backtest_run",
                    "schema_version": 1,
                    "bar_ms": bar_ms,
                    "initial_nav_usdt": nav0,
                    "targets": [0.5, 0.0, 0.5],
                    "settings": {
                        "strategy": {"threshold_floor": 0.005, "cooldown": "60m"},
                        "guardrails": {"max_net_delta": 0.2},
                        "backtest": {"initial_nav_usdt": nav0},
                    },
                    "warnings": [],
                    "blocked_trades": [{**blocked, "ts_ms": T0 + 86_400_000}],
                    "summary": summary,
                }
            )
        )
    (out / "equity.html").write_text("<html><body>placeholder</body></html>")
    return out
