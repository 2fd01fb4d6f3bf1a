"""Arrow schemas of the Parquet files a backtest writes (``equity.parquet``, ``trades.parquet``).

Kept out of ``btcn.contracts``' import path so light commands do not import pyarrow.
Timestamps are ``timestamp[ms, tz=UTC]`` (bar **open** time for equity rows; fill time for trades).
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("ms", tz="UTC")

EQUITY_SCHEMA_VERSION = 1
EQUITY_SCHEMA = pa.schema(
    [
        ("ts", TS),  # bar open time; values are as of the bar's close
        ("price_spot", pa.float64()),
        ("price_perp", pa.float64()),
        ("nav_usdt", pa.float64()),
        ("spot_usdt", pa.float64()),
        ("spot_qty_btc", pa.float64()),
        ("futures_usdt", pa.float64()),  # futures wallet, excluding unrealised PnL
        ("long_qty_btc", pa.float64()),
        ("short_qty_btc", pa.float64()),
        ("unrealized_pnl_usdt", pa.float64()),
        ("w_spot", pa.float64()),
        ("w_long", pa.float64()),
        ("w_short", pa.float64()),
        ("thr", pa.float64()),
        ("net_delta_btc", pa.float64()),
        ("net_delta_pct_nav", pa.float64()),
        ("margin_used_usdt", pa.float64()),  # perp notional / leverage
        ("margin_ratio", pa.float64()),  # futures equity / margin used (NaN without positions)
        ("funding_usdt", pa.float64()),  # funding booked in this bar (+ received, - paid)
        ("fees_usdt", pa.float64()),  # fees paid in this bar
        ("drawdown", pa.float64()),
    ],
    metadata={"kind": "equity", "schema_version": str(EQUITY_SCHEMA_VERSION)},
)

TRADES_SCHEMA_VERSION = 1
TRADES_SCHEMA = pa.schema(
    [
        ("ts_ms", pa.int64()),
        ("leg", pa.string()),
        ("action", pa.string()),
        ("side", pa.string()),
        ("qty_btc", pa.float64()),
        ("price", pa.float64()),
        ("fee_usdt", pa.float64()),
        ("liquidity", pa.string()),  # maker, taker or liquidation
        ("position_id", pa.int64()),
        ("duration_s", pa.float64()),  # on reductions: time the position had been open
        ("realized_pnl_usdt", pa.float64()),
        ("cumulative_pnl_usdt", pa.float64()),  # cumulative realised PnL minus cumulative fees
        ("drawdown", pa.float64()),  # equity drawdown at the fill's bar
    ],
    metadata={"kind": "trades", "schema_version": str(TRADES_SCHEMA_VERSION)},
)

SUMMARY_COLUMNS = (
    "start", "end", "bars", "nav_start", "nav_end", "roi", "cagr", "sharpe", "sortino",
    "max_drawdown", "fees_usdt", "fees_per_nav_per_day", "funding_usdt", "gross_pnl_usdt",
    "net_pnl_usdt", "turnover_usdt", "trades", "blocked_trades", "rebalances",
)  # fmt: skip

BLOCKED_COLUMNS = (
    "time",
    "leg",
    "side",
    "signal",
    "rule",
    "size",
    "action",
    "notional_usdt",
)  # size in BTC

OPEN_POSITION_FIELDS = (
    "leg",
    "side",
    "qty_btc",
    "entry_price",
    "entry_ts_ms",
    "unrealized_pnl_usdt",
)
