"""Arrow schemas of the Parquet files a backtest writes (``equity.parquet``, ``trades.parquet``).

Kept out of ``btcn.contracts``' import path so light commands do not import pyarrow.
Timestamps are ``timestamp[ms, tz=UTC]`` (bar **open** time for equity rows; fill time for trades).
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("ms", tz="UTC")

EQUITY_SCHEMA_VERSION = 2  # 2: liquidation columns, transfers (version 1 files still read)
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
        # version 2
        ("liq_price_usdt", pa.float64()),  # btcn's estimate (cross margin: the book's price)
        ("liq_distance", pa.float64()),  # fraction the mark may move against the book; NaN flat
        (
            "venue_liq_price_usdt",
            pa.float64(),
        ),  # Gate's own figure (live history; NaN in backtests)
        ("transfer_usdt", pa.float64()),  # USDT moved spot -> futures in this bar (- = back)
    ],
    metadata={"kind": "equity", "schema_version": str(EQUITY_SCHEMA_VERSION)},
)

# Version 3: a unified account's run (manual: "Running on a unified account") adds its margin
# balance, MMR and the interest charged on a negative USDT balance. A classic run is still written
# as version 2, byte for byte; readers take both (a version 3 file read as version 2 keeps its
# version 2 columns).
EQUITY_UNIFIED_SCHEMA_VERSION = 3
EQUITY_UNIFIED_COLUMNS = ("margin_balance_usdt", "mmr", "interest_usdt")
EQUITY_UNIFIED_SCHEMA = pa.schema(
    [*EQUITY_SCHEMA, *((name, pa.float64()) for name in EQUITY_UNIFIED_COLUMNS)],
    metadata={"kind": "equity", "schema_version": str(EQUITY_UNIFIED_SCHEMA_VERSION)},
)

TRADES_SCHEMA_VERSION = 2  # 2: fee_btc (version 1 files still read)
TRADES_SCHEMA = pa.schema(
    [
        ("ts_ms", pa.int64()),
        ("leg", pa.string()),
        ("action", pa.string()),
        ("side", pa.string()),
        ("qty_btc", pa.float64()),
        ("price", pa.float64()),
        ("fee_usdt", pa.float64()),  # every fee valued in USDT (spot buys too)
        ("liquidity", pa.string()),  # maker, taker or liquidation
        ("position_id", pa.int64()),
        ("duration_s", pa.float64()),  # on reductions: time the position had been open
        ("realized_pnl_usdt", pa.float64()),
        ("cumulative_pnl_usdt", pa.float64()),  # cumulative realised PnL minus cumulative fees
        ("drawdown", pa.float64()),  # equity drawdown at the fill's bar
        # version 2: the part of the fee taken in BTC (a spot buy's fee, as Gate charges it);
        # the BTC received is qty_btc - fee_btc
        ("fee_btc", pa.float64()),
    ],
    metadata={"kind": "trades", "schema_version": str(TRADES_SCHEMA_VERSION)},
)

# summary.csv. Version 2 keeps every version 1 column but one in place and in meaning, replaces
# the percent column ``max_abs_net_delta_pct_nav`` by the fraction ``max_abs_net_delta_nav`` (every
# ratio in the file is a plain fraction) and appends the carry KPIs (btcn.core.carry) and, last,
# ``schema_version``. A version 1 file has no ``schema_version`` column; readers upgrade it.
SUMMARY_SCHEMA_VERSION = 2
SUMMARY_V1_COLUMNS = (
    "start", "end", "bars", "nav_start", "nav_end", "roi", "cagr", "sharpe", "sortino",
    "max_drawdown", "fees_usdt", "fees_per_nav_per_day", "funding_usdt", "gross_pnl_usdt",
    "net_pnl_usdt", "turnover_usdt", "trades", "blocked_trades", "rebalances",
    "transfers", "min_liq_distance", "max_abs_net_delta_pct_nav",
)  # fmt: skip
CARRY_COLUMNS = (
    "funding_apr_on_nav", "net_apr_on_nav", "funding_rate_apr", "hedged_fraction",
    "carry_capture", "fee_drag", "price_pnl_usdt", "basis_pnl_usdt",
)  # fmt: skip
# The KPI columns (also the KPI columns of sweep.parquet).
SUMMARY_COLUMNS = (
    *SUMMARY_V1_COLUMNS[:-1], "max_abs_net_delta_nav", *CARRY_COLUMNS,
)  # fmt: skip
SUMMARY_CSV_COLUMNS = (*SUMMARY_COLUMNS, "schema_version")

# Columns a version 1 file lacks, and the value a reader fills them with.
EQUITY_V1_MISSING = ("liq_price_usdt", "liq_distance", "venue_liq_price_usdt", "transfer_usdt")
TRADES_V1_MISSING = ("fee_btc",)

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
