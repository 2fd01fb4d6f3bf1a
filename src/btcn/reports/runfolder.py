"""Read a run folder (``btcn backtest --out DIR``, or a live history with the same layout).

Only ``equity.parquet`` is required; ``trades.parquet``, ``run.json``, ``summary.csv`` and
``blocked_trades_log.csv`` are read when present. Files are checked against the contracts in
:mod:`btcn.contracts.tables`: a wrong ``kind``/``schema_version`` or a missing column is one
clear error naming the file.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from btcn.contracts.limits import load_json
from btcn.contracts.table_checks import check_nav, check_types, time_ms
from btcn.contracts.tables import (
    EQUITY_SCHEMA,
    EQUITY_SCHEMA_VERSION,
    EQUITY_V1_MISSING,
    TRADES_SCHEMA,
    TRADES_SCHEMA_VERSION,
    TRADES_V1_MISSING,
)
from btcn.core import carry
from btcn.core import kpis as K
from btcn.errors import InvalidInputError
from btcn.runtime.boundary import read_parquet

EQUITY = "equity.parquet"
TRADES = "trades.parquet"
RUN_JSON = "run.json"
SUMMARY = "summary.csv"
BLOCKED = "blocked_trades_log.csv"
EQUITY_HTML = "equity.html"


def _read_table(
    path: Path, schema: pa.Schema, kind: str, version: int, v1_missing: tuple[str, ...] = ()
) -> pd.DataFrame:
    try:
        table = read_parquet(path)
    except FileNotFoundError as exc:
        raise InvalidInputError(f"{path}: file not found") from exc
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(f"{path}: not a readable Parquet file ({exc})") from exc
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    if meta.get("kind", kind) != kind:
        raise InvalidInputError(f"{path}: expected kind {kind!r}, got {meta.get('kind')!r}")
    found = meta.get("schema_version", str(version))
    old = found == "1" and version == 2
    # equity version 3 (a unified account's run) is version 2 plus columns: read as version 2
    newer = kind == "equity" and version == 2 and found == "3"
    if found != str(version) and not old and not newer:
        readable = "1, 2, 3" if kind == "equity" and version == 2 else (
            "1, 2" if version == 2 else str(version))  # fmt: skip
        raise InvalidInputError(
            f"{path}: {kind} schema_version {meta.get('schema_version')!r} is not supported "
            f"(this btcn reads version {readable})"
        )
    if old:  # a version 1 file: the columns version 2 added are unknown (NaN)
        for name in v1_missing:
            if name not in table.column_names:
                table = table.append_column(name, pa.array(np.full(len(table), np.nan)))
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise InvalidInputError(f"{path}: missing column(s) {', '.join(missing)}")
    table = table.select(schema.names)
    check_types(table, schema, str(path))
    times = {name: time_ms(table.column(name), str(path), name)
             for name in ("ts", "ts_ms") if name in schema.names}  # fmt: skip
    # Times checked above; the frame gets them as plain ms (no pandas timezone round trip).
    df = table.drop_columns(list(times)).to_pandas(use_threads=False)
    for name, ms in times.items():
        df.insert(schema.names.index(name), name, pd.Series(ms).astype("int64")
                  if name == "ts_ms" else pd.to_datetime(ms, unit="ms", utc=True))  # fmt: skip
    if "ts" in times:
        df["ts_ms"] = times["ts"]
    return df


@dataclass
class RunFolder:
    path: Path
    equity: pd.DataFrame
    trades: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, str] | None = None

    # --- loading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> RunFolder:
        folder = Path(path)
        if not folder.is_dir():
            raise InvalidInputError(
                f"run folder not found: {folder}",
                hint="pass the --out folder of `btcn backtest`",
            )
        if not (folder / EQUITY).is_file():
            raise InvalidInputError(
                f"{folder}: no {EQUITY} in the run folder",
                hint="a run folder is what `btcn backtest --out DIR` writes",
            )
        equity = _read_table(
            folder / EQUITY, EQUITY_SCHEMA, "equity", EQUITY_SCHEMA_VERSION, EQUITY_V1_MISSING
        )
        if equity.empty:
            raise InvalidInputError(f"{folder / EQUITY}: no rows")
        check_nav(equity["nav_usdt"].to_numpy(dtype=np.float64), str(folder / EQUITY))
        if not equity["ts_ms"].is_monotonic_increasing:
            raise InvalidInputError(f"{folder / EQUITY}: rows are not sorted by ts")
        if (folder / TRADES).is_file():
            trades = _read_table(
                folder / TRADES, TRADES_SCHEMA, "trades", TRADES_SCHEMA_VERSION, TRADES_V1_MISSING
            )
        else:
            trades = TRADES_SCHEMA.empty_table().to_pandas()
        meta: dict[str, Any] = {}
        if (folder / RUN_JSON).is_file():
            try:
                loaded = load_json(
                    (folder / RUN_JSON).read_text(encoding="utf-8"),
                    str(folder / RUN_JSON),
                    allow_nan=True,
                )
            except (ValueError, OSError) as exc:
                raise InvalidInputError(f"{folder / RUN_JSON}: not valid JSON ({exc})") from exc
            if not isinstance(loaded, dict) or loaded.get("kind", "backtest_run") != "backtest_run":
                raise InvalidInputError(f"{folder / RUN_JSON}: not a btcn run description")
            meta = loaded
        summary = None
        if (folder / SUMMARY).is_file():
            try:
                with open(folder / SUMMARY, newline="", encoding="utf-8") as fh:
                    rows = list(csv.DictReader(fh))
            except (UnicodeDecodeError, csv.Error) as exc:
                raise InvalidInputError(f"{folder / SUMMARY}: unreadable CSV: {exc}") from None
            summary = rows[0] if rows else None
        return cls(folder, equity, trades, meta, summary)

    # --- derived ---------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """The run's name in logs and the workbook: ``run_id`` from run.json, else the folder."""
        rid = self.meta.get("run_id")
        return str(rid) if rid else self.path.resolve().name

    @property
    def ts_ms(self) -> npt.NDArray[np.int64]:
        return self.equity["ts_ms"].to_numpy(dtype=np.int64)

    @property
    def nav(self) -> npt.NDArray[np.float64]:
        return self.equity["nav_usdt"].to_numpy(dtype=np.float64)

    @cached_property
    def bar_ms(self) -> int:
        value = self.meta.get("bar_ms")
        if isinstance(value, int) and value > 0:
            return value
        ts = self.ts_ms
        if ts.shape[0] < 2:
            return 0
        return int(np.median(np.diff(ts)))

    @cached_property
    def nav_start(self) -> float:
        """The starting NAV: summary.csv's ``nav_start``, else the run's configured initial NAV,
        else the first bar's NAV."""
        if self.summary and self.summary.get("nav_start"):
            try:
                value = float(self.summary["nav_start"])
                if math.isfinite(value) and value > 0:
                    return value
            except ValueError:
                pass
        value = self.meta.get("initial_nav_usdt")
        if not isinstance(value, int | float):
            value = self.config_value("backtest", "initial_nav_usdt")
        if isinstance(value, int | float) and math.isfinite(value) and value > 0:
            return float(value)
        return float(self.nav[0])

    @property
    def end_ms(self) -> int:
        """Close time of the last bar."""
        return int(self.ts_ms[-1]) + self.bar_ms

    def config_value(self, section: str, key: str) -> Any:
        """A setting of the run as recorded in run.json's ``settings`` (``None`` if absent)."""
        cfg = self.meta.get("settings")
        if isinstance(cfg, dict) and isinstance(cfg.get(section), dict):
            return cfg[section].get(key)
        return None

    def kpis(self) -> K.Kpis:
        """KPIs of the whole run, with the one KPI implementation (:mod:`btcn.core.kpis`)."""
        return K.compute_kpis(
            self.ts_ms,
            self.nav,
            bar_ms=self.bar_ms,
            nav_start=self.nav_start,
            fees_usdt=float(self.equity["fees_usdt"].sum()),
            funding_usdt=float(self.equity["funding_usdt"].sum()),
        )

    def sharpe_30d(self) -> float:
        return K.trailing_sharpe(
            self.ts_ms, self.nav, bar_ms=self.bar_ms, nav_start=self.nav_start, window_days=30
        )

    @property
    def is_live_history(self) -> bool:
        return self.meta.get("source") == "live-history"

    def carry(self) -> carry.CarryKpis:
        """The carry KPIs of the run (:mod:`btcn.core.carry`). The market's funding rates come
        from the summary's ``funding_rate_apr`` (schema 2), else from the funding the book
        booked; a live history records no funding apart, so its funding figures are NaN."""
        eq = self.equity

        def col(name: str) -> npt.NDArray[np.float64]:
            return eq[name].to_numpy(dtype=np.float64)

        live = self.is_live_history
        rate_sum = math.nan
        apr = self._summary_float("funding_rate_apr")
        if math.isfinite(apr):
            rate_sum = apr * carry.covered_days(self.ts_ms, self.bar_ms) / K.ANNUALISATION_DAYS
        elif not live:
            rate_sum = carry.implied_rate_sum(col("funding_usdt"), col("short_qty_btc"),
                                              col("long_qty_btc"), col("price_perp"))  # fmt: skip
        k = carry.run_carry_kpis(
            self.ts_ms, bar_ms=0 if live else self.bar_ms, nav=self.nav, nav_start=self.nav_start,
            funding_usdt=col("funding_usdt"), fees_usdt=col("fees_usdt"),
            net_delta_btc=col("net_delta_btc"), spot=col("price_spot"), perp=col("price_perp"),
            short_btc=col("short_qty_btc"), long_btc=col("long_qty_btc"), market_rate_sum=rate_sum,
        )  # fmt: skip
        if live:
            k = replace(k, funding_apr_on_nav=math.nan, carry_capture=math.nan, fee_drag=math.nan)
        return k

    def _summary_float(self, key: str) -> float:
        for source in (self.summary or {}, self.meta.get("summary") or {}):
            try:
                value = float(source.get(key) or "nan")
            except (TypeError, ValueError):
                continue
            if math.isfinite(value):
                return value
        return math.nan
