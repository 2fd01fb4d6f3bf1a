"""Everything a backtest writes into ``--out DIR`` (names are a contract; see docs/manual.md).

``summary.csv``, ``equity.html``, ``blocked_trades_log.csv``, ``executed_trades.json``,
``open_positions.json``, ``equity.parquet``, ``trades.parquet`` and ``run.json`` (inputs, settings,
warnings, liquidations). Files are first written to a temporary folder inside ``DIR`` and moved into
place only when all of them are complete, so a failed run never leaves partial files.

:func:`regenerate` rebuilds ``summary.csv``, ``equity.html`` and ``blocked_trades_log.csv`` from the
Parquet/JSON files of an existing run folder (``btcn report`` uses it).
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from btcn.backtest import html
from btcn.backtest.market import Market
from btcn.backtest.records import EngineOutput
from btcn.backtest.summary import (
    html_context,
    html_title,
    json_number,
    market_rate_sum,
    summary_row,
    upgrade_summary,
    write_summary,
)
from btcn.core.kpis import Kpis, compute_kpis, drawdown
from btcn.core.money import dec
from btcn.data.timeparse import iso_utc
from btcn.errors import InvalidInputError

SUMMARY = "summary.csv"
EQUITY_HTML = "equity.html"
BLOCKED = "blocked_trades_log.csv"
EXECUTED = "executed_trades.json"
OPEN_POSITIONS = "open_positions.json"
EQUITY_PARQUET = "equity.parquet"
TRADES_PARQUET = "trades.parquet"
RUN_JSON = "run.json"
RUN_SCHEMA_VERSION = 1


@dataclass
class RunResult:
    summary: dict[str, Any]
    kpis: Kpis
    equity: dict[str, np.ndarray]
    trades: list[dict[str, Any]]
    blocked: list[dict[str, Any]]
    open_positions: list[dict[str, Any]]
    meta: dict[str, Any]


def collect(out: EngineOutput, market: Market, meta: dict[str, Any]) -> RunResult:
    """Turn the engine's output into the tables and rows of the run folder."""
    sl = slice(out.first, out.stop)
    c = out.columns
    eq: dict[str, np.ndarray] = {"ts_ms": market.open_ms[sl], "price_spot": market.spot_close[sl],
                                 "price_perp": market.perp_close[sl], **c}  # fmt: skip
    nav = c["nav_usdt"]
    eq["thr"] = market.thr[sl]
    with np.errstate(divide="ignore", invalid="ignore"):
        eq["net_delta_pct_nav"] = np.where(
            nav > 0, c["net_delta_btc"] * market.spot_close[sl] / nav * 100.0, np.nan
        )
    nav_start = float(meta["initial_nav_usdt"])
    eq["drawdown"] = drawdown(nav, nav_start)
    eq.setdefault("venue_liq_price_usdt", np.full(nav.shape[0], np.nan))  # live history only

    led = out.ledger
    trades = []
    for t in led.trades:
        trades.append({
            "ts_ms": t.ts_ms, "leg": t.leg, "action": t.action, "side": t.side,
            "qty_btc": float(t.qty_btc), "price": float(t.price), "fee_usdt": float(t.fee_usdt),
            "liquidity": t.liquidity, "position_id": t.position_id, "duration_s": t.duration_s,
            "realized_pnl_usdt": float(t.realized_pnl_usdt),
            "cumulative_pnl_usdt": float(t.cumulative_pnl_usdt),
            "drawdown": float(eq["drawdown"][t.bar - out.first]), "bar_index": t.bar - out.first,
            "fee_btc": float(t.fee_btc),
        })  # fmt: skip
    opens = market.open_ms[sl]
    blocked = [
        {"time": iso_utc(b.ts_ms), "leg": b.leg, "side": b.side, "signal": b.signal, "rule": b.rule,
         "size": float(b.qty_btc), "action": b.action, "notional_usdt": float(b.notional_usdt),
         "ts_ms": b.ts_ms, "bar_index": int(np.searchsorted(opens, b.ts_ms - market.bar_ms))}
        for b in out.blocked
    ]  # fmt: skip
    last_spot = float(market.spot_close[out.stop - 1])
    last_perp = float(market.perp_close[out.stop - 1])
    positions = []
    for tracker, price in ((led.spot, last_spot), (led.long, last_perp), (led.short, last_perp)):
        if tracker.qty_btc > 0:
            positions.append({
                "leg": tracker.leg, "side": tracker.side, "qty_btc": float(tracker.qty_btc),
                "entry_price": float(tracker.entry_price), "entry_ts_ms": tracker.entry_ts_ms,
                "unrealized_pnl_usdt": float(tracker.unrealized_pnl(dec(price))),
            })  # fmt: skip
    kpis = compute_kpis(eq["ts_ms"], nav, bar_ms=market.bar_ms, nav_start=nav_start,
                        fees_usdt=float(led.fees_usdt), funding_usdt=float(led.funding_usdt))  # fmt: skip
    summary = summary_row(
        kpis, int(eq["ts_ms"][0]), int(eq["ts_ms"][-1]) + market.bar_ms, int(nav.shape[0]),
        turnover_usdt=float(led.turnover_usdt), trades=len(trades), blocked=len(blocked),
        rebalances=out.rebalances, transfers=out.transfers, equity=eq, bar_ms=market.bar_ms,
        market_rate_sum=market_rate_sum(market, out.first, out.stop),
    )  # fmt: skip
    warnings = list(market.warnings)
    for name, count in sorted(out.guardrail_refusals.items()):
        warnings.append(
            f"guardrail {name} put {count} decision(s) in safe mode (see [guardrails] settings)"
        )
    if out.liquidations:
        warnings.append(f"{len(out.liquidations)} liquidation event(s); details in run.json")
    meta = {
        **meta,
        "bar_ms": market.bar_ms,
        "warnings": warnings,
        "guardrail_refusals": out.guardrail_refusals,
        "decisions": out.decisions,
        "transfers": out.transfers,
        "cancelled_orders": out.cancelled_orders,
        "blocked_trades": [{k: b[k] for k in ("time", "leg", "side", "signal", "rule", "size", "action",
                                               "notional_usdt", "ts_ms")} for b in blocked],
        "liquidations": [
            {"ts_ms": e.ts_ms, "time": iso_utc(e.ts_ms), "price": e.price, "equity_usdt": e.equity_usdt,
             "maintenance_usdt": e.maintenance_usdt, "absorbed_usdt": float(e.absorbed_usdt)}
            for e in out.liquidations
        ],
    }  # fmt: skip
    return RunResult(summary, kpis, eq, trades, blocked, positions, meta)


def _write_html(path: Path, res: RunResult) -> None:
    ctx = html_context(res.meta, res.kpis.nav_start)
    html.write_equity_html(path, res.equity, res.trades, res.blocked, ctx,
                           html_title(res.meta, res.summary))  # fmt: skip


def _write_blocked(path: Path, blocked: list[dict[str, Any]]) -> None:
    from btcn.contracts.tables import BLOCKED_COLUMNS

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(BLOCKED_COLUMNS)
        for b in blocked:
            w.writerow([b[k] for k in BLOCKED_COLUMNS])


def _trade_rows(trades: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from btcn.contracts.tables import TRADES_SCHEMA

    names = TRADES_SCHEMA.names
    return [{k: t[k] for k in names} for t in trades]


def _write_parquet(folder: Path, res: RunResult) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from btcn.contracts.tables import EQUITY_SCHEMA, EQUITY_UNIFIED_SCHEMA, TRADES_SCHEMA

    eq = res.equity
    schema = EQUITY_UNIFIED_SCHEMA if "mmr" in eq else EQUITY_SCHEMA  # a unified account's run
    arrays = [pa.array(eq["ts_ms"], pa.timestamp("ms", tz="UTC"))]
    arrays += [pa.array(eq[name], pa.float64()) for name in schema.names[1:]]
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), folder / EQUITY_PARQUET)
    rows = _trade_rows(res.trades)
    table = (
        pa.Table.from_pylist(rows, schema=TRADES_SCHEMA) if rows else TRADES_SCHEMA.empty_table()
    )
    pq.write_table(table, folder / TRADES_PARQUET)


RUN_FILES = (SUMMARY, EQUITY_HTML, BLOCKED, EXECUTED, OPEN_POSITIONS, EQUITY_PARQUET,
             TRADES_PARQUET, RUN_JSON)  # fmt: skip


def is_run_folder(folder: Path) -> bool:
    """A folder btcn wrote: its run.json says ``backtest_run`` (a backtest or a live history)."""
    try:
        meta = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(meta, dict) and meta.get("kind") == "backtest_run"


def _not_a_run_file(name: str) -> bool:
    # Kept across a new run: the user's own files. Replaced: the run's files and its digests.
    return name not in RUN_FILES and not name.startswith("digest-")


def write_run(out_dir: Path, res: RunResult, *, force: bool = False,
              keep: Callable[[str], bool] = _not_a_run_file) -> None:  # fmt: skip
    """Write every file of the run folder; the folder is replaced as one unit (all or nothing).

    A non-empty folder that is not a btcn run folder is refused unless ``force``; its other files
    are kept either way (``keep`` selects what survives from the current folder).
    """
    from btcn.runtime.folders import commit_folder, refuse_foreign

    out_dir = Path(out_dir)
    refuse_foreign(out_dir, is_run_folder, "a btcn run folder", force=force)
    with commit_folder(out_dir, keep=keep) as tmp:
        write_summary(tmp / SUMMARY, res.summary)
        _write_blocked(tmp / BLOCKED, res.blocked)
        (tmp / EXECUTED).write_text(
            json.dumps(_trade_rows(res.trades), indent=1) + "\n", encoding="utf-8"
        )
        (tmp / OPEN_POSITIONS).write_text(
            json.dumps(res.open_positions, indent=1) + "\n", encoding="utf-8"
        )
        meta = {"kind": "backtest_run", "schema_version": RUN_SCHEMA_VERSION, **res.meta,
                "summary": {k: json_number(v) for k, v in res.summary.items()}}  # fmt: skip
        try:
            text = json.dumps(meta, indent=1, allow_nan=False)
        except ValueError as exc:  # a setting or result that is not a finite number
            raise InvalidInputError(f"run.json: {exc}") from None
        (tmp / RUN_JSON).write_text(text + "\n", encoding="utf-8")
        _write_parquet(tmp, res)
        _write_html(tmp / EQUITY_HTML, res)


def load_run(run_dir: Path) -> RunResult:
    """Read a run folder back (equity.parquet, trades.parquet, run.json, open_positions.json)."""
    import pyarrow as pa

    from btcn.contracts.limits import load_json
    from btcn.contracts.table_checks import check_nav, check_types, time_ms
    from btcn.contracts.tables import EQUITY_SCHEMA, TRADES_SCHEMA
    from btcn.data.candles import column_numpy
    from btcn.runtime.boundary import read_parquet

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InvalidInputError(f"run folder not found: {run_dir}")
    try:
        meta = load_json((run_dir / RUN_JSON).read_text(encoding="utf-8"), str(run_dir / RUN_JSON),
                         allow_nan=True)  # fmt: skip
        table = read_parquet(run_dir / EQUITY_PARQUET)
        trades_t = read_parquet(run_dir / TRADES_PARQUET)
        positions = load_json((run_dir / OPEN_POSITIONS).read_text(encoding="utf-8"),
                              str(run_dir / OPEN_POSITIONS), allow_nan=True)  # fmt: skip
    except FileNotFoundError as exc:
        name = Path(exc.filename).name if exc.filename else "a file"
        raise InvalidInputError(f"{run_dir}: missing {name}; is this a btcn run folder?") from exc
    except (json.JSONDecodeError, pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{run_dir}: unreadable run file: {exc}") from exc
    if (not isinstance(meta, dict) or meta.get("kind") != "backtest_run"
            or meta.get("schema_version") != RUN_SCHEMA_VERSION):  # fmt: skip
        raise InvalidInputError(
            f"{run_dir / RUN_JSON}: not a btcn run description of schema {RUN_SCHEMA_VERSION}"
        )
    source = str(run_dir / EQUITY_PARQUET)
    check_types(table, EQUITY_SCHEMA, source)
    check_types(trades_t, TRADES_SCHEMA, str(run_dir / TRADES_PARQUET))
    missing = [n for n in EQUITY_SCHEMA.names if n not in table.column_names]
    if missing:
        raise InvalidInputError(f"{source}: missing column(s) {', '.join(missing)}")
    eq = {"ts_ms": time_ms(table.column("ts"), source, "ts")}
    for name in table.column_names[1:]:
        eq[name] = column_numpy(table.column(name))
    from btcn.contracts.tables import EQUITY_V1_MISSING

    for name in EQUITY_V1_MISSING:  # a version 1 run folder: unknown (no transfers recorded)
        if name not in eq:
            fill = 0.0 if name == "transfer_usdt" else np.nan
            eq[name] = np.full(len(eq["ts_ms"]), fill)
    check_nav(eq["nav_usdt"], source)
    bar_ms = int(meta["bar_ms"])
    opens = eq["ts_ms"]
    trades = trades_t.to_pylist()
    for t in trades:
        t["bar_index"] = int(np.searchsorted(opens, t["ts_ms"]))
        t.setdefault("fee_btc", 0.0)
    blocked = [
        {**b, "bar_index": int(np.searchsorted(opens, int(b["ts_ms"]) - bar_ms))}
        for b in meta.get("blocked_trades", [])
    ]
    summary = upgrade_summary(dict(meta.get("summary", {})), eq,
                              float(meta["initial_nav_usdt"]), bar_ms)  # fmt: skip
    kpis = compute_kpis(eq["ts_ms"], eq["nav_usdt"], bar_ms=bar_ms, nav_start=float(meta["initial_nav_usdt"]),
                        fees_usdt=float(np.sum(eq["fees_usdt"])), funding_usdt=float(np.sum(eq["funding_usdt"])))  # fmt: skip
    return RunResult(summary, kpis, eq, trades, blocked, positions, meta)


def regenerate(run_dir: Path, *, force: bool = False, into: Path | None = None) -> list[str]:
    """Rewrite summary.csv, equity.html and blocked_trades_log.csv when missing (or ``force``).

    The files are written into ``into`` when given (the temporary folder of a whole-folder
    commit), else into ``run_dir`` one atomic file at a time.
    """
    run_dir = Path(run_dir)
    res = load_run(run_dir)
    written = []
    from btcn.runtime.files import atomic_path

    def dest(name: str) -> contextlib.AbstractContextManager[Path]:
        if into is None:
            return atomic_path(run_dir / name)
        from btcn.runtime.folders import fresh

        return contextlib.nullcontext(fresh(into / name))

    if force or not (run_dir / SUMMARY).exists():
        with dest(SUMMARY) as tmp:
            write_summary(tmp, res.summary)
        written.append(SUMMARY)
    if force or not (run_dir / BLOCKED).exists():
        with dest(BLOCKED) as tmp:
            _write_blocked(tmp, res.blocked)
        written.append(BLOCKED)
    if force or not (run_dir / EQUITY_HTML).exists():
        with dest(EQUITY_HTML) as tmp:
            _write_html(tmp, res)
        written.append(EQUITY_HTML)
    return written
