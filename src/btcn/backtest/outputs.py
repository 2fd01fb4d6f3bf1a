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
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from btcn.backtest import html
from btcn.backtest.market import Market
from btcn.backtest.records import EngineOutput
from btcn.contracts.tables import CARRY_COLUMNS
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


def _num(x: float) -> float | None:
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


def _write_summary(path: Path, summary: dict[str, Any]) -> None:
    from btcn.contracts.tables import SUMMARY_COLUMNS, SUMMARY_CSV_COLUMNS, SUMMARY_SCHEMA_VERSION

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(SUMMARY_CSV_COLUMNS)
        # a run folder written by btcn 0.1 lacks the newer columns: they stay empty
        w.writerow(["" if _num(summary.get(k)) is None else summary[k] for k in SUMMARY_COLUMNS]
                   + [SUMMARY_SCHEMA_VERSION])  # fmt: skip


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

    from btcn.contracts.tables import EQUITY_SCHEMA, TRADES_SCHEMA

    eq = res.equity
    arrays = [pa.array(eq["ts_ms"], pa.timestamp("ms", tz="UTC"))]
    arrays += [pa.array(eq[name], pa.float64()) for name in EQUITY_SCHEMA.names[1:]]
    pq.write_table(pa.Table.from_arrays(arrays, schema=EQUITY_SCHEMA), folder / EQUITY_PARQUET)
    rows = _trade_rows(res.trades)
    table = (
        pa.Table.from_pylist(rows, schema=TRADES_SCHEMA) if rows else TRADES_SCHEMA.empty_table()
    )
    pq.write_table(table, folder / TRADES_PARQUET)


def _html_title(meta: dict[str, Any], summary: dict[str, Any]) -> str:
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


def _html_context(meta: dict[str, Any], nav_start: float) -> html.Context:
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


def _write_html(path: Path, res: RunResult) -> None:
    ctx = _html_context(res.meta, res.kpis.nav_start)
    html.write_equity_html(path, res.equity, res.trades, res.blocked, ctx,
                           _html_title(res.meta, res.summary))  # fmt: skip


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
        _write_summary(tmp / SUMMARY, res.summary)
        _write_blocked(tmp / BLOCKED, res.blocked)
        (tmp / EXECUTED).write_text(
            json.dumps(_trade_rows(res.trades), indent=1) + "\n", encoding="utf-8"
        )
        (tmp / OPEN_POSITIONS).write_text(
            json.dumps(res.open_positions, indent=1) + "\n", encoding="utf-8"
        )
        meta = {"kind": "backtest_run", "schema_version": RUN_SCHEMA_VERSION, **res.meta,
                "summary": {k: _num(v) for k, v in res.summary.items()}}  # fmt: skip
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
            _write_summary(tmp, res.summary)
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
