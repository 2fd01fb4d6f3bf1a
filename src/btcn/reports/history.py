"""The live history that ``btcn report`` keeps: a run folder built from snapshots and execution
reports, with the same files and schemas as a backtest's, so ``audit``, ``report`` and
``monitor push`` read live trading exactly as they read a backtest.

* A ``snapshot`` adds (or, for the same ``as_of_ms``, replaces) one row of ``equity.parquet``:
  NAV, balances, positions, weights and net delta valued with the core's own
  :func:`btcn.core.planner.value_book`. Columns a snapshot cannot tell are NaN (``thr``, margin);
  ``funding_usdt`` is 0 (funding shows in the futures wallet and NAV).
* An ``execution_report`` that traded adds its fills to ``trades.parquet`` and their fees to the
  latest equity row at or before it; dry runs, duplicates and empty reports add nothing. Each plan
  digest is recorded once (``run.json`` keeps the list), so recording a report twice is harmless.
* Liquidation columns of a snapshot row: ``liq_price_usdt`` and ``liq_distance`` are btcn's
  estimate (:func:`btcn.stages.liquidation.liquidation_infos`, Gate's rule with ``[risk]
  margin_mode``) of the side standing for the book (the open side nearest to liquidation; in cross
  margin the book's own price), ``venue_liq_price_usdt`` is Gate's ``liq_price`` of that side; NaN
  when unknown (flat book, paper venue, version 1 snapshots).
* Transfers: an execution report that carries ``transfers`` (execution report version 2) adds
  the USDT they moved to ``transfer_usdt`` of the latest row at or before it (spot -> futures
  positive, futures -> spot negative), counting only transfers whose ``status`` says they were
  done (``done``, ``completed``, ``succeeded``, ``success``, ``finished``); anything else (failed,
  pending, unknown, no status) moved nothing as far as the history knows. ``summary.csv``
  ``transfers`` counts them. A report with transfers but no fill is recorded for its transfers.
* ``summary.csv``, ``equity.html``, ``open_positions.json`` and ``run.json`` are rewritten from the
  whole history with the backtest's writers; all files are replaced together or not at all.

Rows are points in time (``run.json`` ``bar_ms`` is 0), not bars: ``ts`` is the snapshot time.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from btcn.contracts import ExecutionReport, Snapshot
from btcn.contracts.limits import MAX_ARTIFACT_TS_MS, MIN_TS_MS
from btcn.contracts.table_checks import check_nav
from btcn.core.kpis import compute_kpis, drawdown
from btcn.core.planner import value_book
from btcn.errors import InvalidInputError
from btcn.runtime.settings import Settings

SOURCE = "live-history"
EQUITY_COLUMNS = (
    "price_spot", "price_perp", "nav_usdt", "spot_usdt", "spot_qty_btc", "futures_usdt",
    "long_qty_btc", "short_qty_btc", "unrealized_pnl_usdt", "w_spot", "w_long", "w_short", "thr",
    "net_delta_btc", "net_delta_pct_nav", "margin_used_usdt", "margin_ratio", "funding_usdt",
    "fees_usdt", "liq_price_usdt", "liq_distance", "venue_liq_price_usdt", "transfer_usdt",
)  # fmt: skip


@dataclass(frozen=True)
class Recorded:
    equity_rows: int
    trades_added: int
    execution_recorded: bool
    note: str


# A transfer is booked only when the report says it happened (see the module docstring).
DONE_TRANSFER = frozenset({"done", "completed", "succeeded", "success", "finished"})


def _field(item: Any, *names: str) -> Any:
    """An attribute of a model or a key of a dict, whichever the report carries."""
    for name in names:
        if isinstance(item, dict):
            if name in item:
                return item[name]
        elif hasattr(item, name):
            return getattr(item, name)
    return None


def done_transfers(report: ExecutionReport) -> list[float]:
    """The signed USDT amounts of a report's performed transfers (spot -> futures positive),
    read defensively: version 1 reports have no ``transfers``."""
    out = []
    for t in getattr(report, "transfers", None) or []:
        status = _field(t, "status")
        status = getattr(status, "value", status)
        if not isinstance(status, str) or status.lower() not in DONE_TRANSFER:
            continue
        src, dst = _field(t, "from_", "from", "source"), _field(t, "to", "dest")
        src, dst = getattr(src, "value", src), getattr(dst, "value", dst)
        try:
            amount = float(_field(t, "amount_usdt", "amount"))
        except (TypeError, ValueError):
            continue
        if not math.isfinite(amount) or amount <= 0:
            continue
        if (src, dst) == ("spot", "futures"):
            out.append(amount)
        elif (src, dst) == ("futures", "spot"):
            out.append(-amount)
    return out


def _snapshot_row(snap: Snapshot, settings: Settings) -> dict[str, float]:
    from btcn.stages.common import book_from_snapshot, quotes_from_snapshot, targets_tuple
    from btcn.stages.liquidation import book_figures, liquidation_infos

    book = book_from_snapshot(snap)
    quotes = quotes_from_snapshot(snap)
    val = value_book(book, quotes, snap.perp_spec.multiplier_btc, targets_tuple(settings))
    liq_price, liq_distance, venue_liq = book_figures(liquidation_infos(snap, settings))
    spot, long_, short = val.legs
    nav = float(val.nav_usdt)
    upnl = nav - float(book.spot_usdt + book.spot_btc * quotes.spot + book.futures_usdt)
    return {
        "price_spot": float(quotes.spot),
        "price_perp": float(quotes.perp_mark),
        "nav_usdt": nav,
        "spot_usdt": float(book.spot_usdt),
        "spot_qty_btc": float(spot.qty_btc),
        "futures_usdt": float(book.futures_usdt),
        "long_qty_btc": float(long_.qty_btc),
        "short_qty_btc": float(short.qty_btc),
        "unrealized_pnl_usdt": upnl,
        "w_spot": spot.weight,
        "w_long": long_.weight,
        "w_short": short.weight,
        "thr": math.nan,
        "net_delta_btc": float(val.net_delta_btc),
        "net_delta_pct_nav": val.net_delta_frac * 100.0,
        "margin_used_usdt": math.nan,
        "margin_ratio": math.nan,
        "funding_usdt": 0.0,
        "fees_usdt": 0.0,
        "liq_price_usdt": liq_price,
        "liq_distance": liq_distance,
        "venue_liq_price_usdt": venue_liq,
        "transfer_usdt": 0.0,
    }


def _positions(snap: Snapshot) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    bal, pos, mult = snap.balances, snap.positions, snap.perp_spec.multiplier_btc
    if bal.spot_btc > 0:
        out.append({"leg": "BTC_SPOT", "side": "long", "qty_btc": float(bal.spot_btc),
                    "entry_price": None, "entry_ts_ms": None, "unrealized_pnl_usdt": None})  # fmt: skip
    for leg, p, sign in (
        ("BTC_PERP_LONG", pos.BTC_PERP_LONG, 1),
        ("BTC_PERP_SHORT", pos.BTC_PERP_SHORT, -1),
    ):
        if p.size_contracts > 0:
            qty = p.size_contracts * mult
            entry = p.entry_price_usdt
            upnl = (
                None if entry is None else float((snap.prices.perp_mark_usdt - entry) * qty * sign)
            )
            out.append({"leg": leg, "side": "long" if sign > 0 else "short", "qty_btc": float(qty),
                        "entry_price": None if entry is None else float(entry), "entry_ts_ms": None,
                        "unrealized_pnl_usdt": upnl})  # fmt: skip
    return out


def _load(
    run_dir: Path, force: bool
) -> tuple[dict[str, list[Any]], list[dict[str, Any]], dict[str, Any]]:
    if not (run_dir / "run.json").is_file():
        if (run_dir / "equity.parquet").exists():
            # A run folder without its description (a damaged backtest?): starting a history
            # here would replace its equity curve with one row.
            raise InvalidInputError(
                f"{run_dir} holds an equity.parquet but no run.json: not a live history; "
                "nothing was written",
                hint="record live snapshots into a folder of their own",
            )
        from btcn.runtime.folders import refuse_foreign

        refuse_foreign(run_dir, lambda _: False, "a live history", force=force, option="--run")
        return {"ts_ms": [], **{c: [] for c in EQUITY_COLUMNS}}, [], {}
    from btcn.backtest.outputs import load_run

    res = load_run(run_dir)
    if res.meta.get("source") != SOURCE:
        raise InvalidInputError(
            f"{run_dir} holds a backtest run, not a live history",
            hint="record live snapshots and executions into a folder of their own",
        )
    eq = {"ts_ms": [int(x) for x in res.equity["ts_ms"]]}
    for c in EQUITY_COLUMNS:
        eq[c] = [float(x) for x in res.equity[c]]
    # a version 1 history knew no transfers: none were recorded (its liquidation data stays NaN)
    eq["transfer_usdt"] = [0.0 if math.isnan(x) else x for x in eq["transfer_usdt"]]
    return eq, [dict(t) for t in res.trades], res.meta


@dataclass(frozen=True)
class Prepared:
    """The history as it will be once recorded: computed and checked, not yet written."""

    result: Any  # btcn.backtest.outputs.RunResult
    recorded: Recorded


def record(run_dir: Path, settings: Settings, *, snapshot: Snapshot | None = None,
           execution: ExecutionReport | None = None, force: bool = False) -> Recorded:  # fmt: skip
    """Add a snapshot and/or an execution report to the history in ``run_dir`` and rewrite its
    reports; see the module docstring."""
    prepared = prepare(run_dir, settings, snapshot=snapshot, execution=execution, force=force)
    commit(run_dir, prepared)
    return prepared.recorded


def commit(run_dir: Path, prepared: Prepared) -> None:
    """Write a prepared history: every file of the history is replaced, in one swap."""
    from btcn.backtest.outputs import RUN_FILES, write_run

    # Digests of earlier days stay; every file of the history itself is rewritten.
    write_run(Path(run_dir), prepared.result, force=True, keep=lambda n: n not in RUN_FILES)


@contextlib.contextmanager
def staged(prepared: Prepared) -> Iterator[Path]:
    """The prepared history written to a private temporary folder (removed afterwards), so that
    the readers' checks and the digest run on it before anything in the run folder changes."""
    from btcn.backtest.outputs import write_run

    with tempfile.TemporaryDirectory(prefix="btcn-history-") as tmp:
        folder = Path(tmp) / "history"
        write_run(folder, prepared.result, force=True)
        yield folder


def _check_times(ts_ms: list[int], what: str) -> None:
    """The time range every reader of a run folder enforces (2009..2100, in ms), checked before
    the history is written: a snapshot in seconds is refused here, not after the files changed."""
    for ts in ts_ms:
        if not MIN_TS_MS <= ts <= MAX_ARTIFACT_TS_MS:
            raise InvalidInputError(
                f"{what} as_of_ms {ts} is not a time between 2009 and 2100 in milliseconds"
                + (" (seconds?)" if MIN_TS_MS // 1000 <= ts <= MAX_ARTIFACT_TS_MS // 1000 else "")
                + "; nothing was written",
                hint="a btcn artefact's *_ms times are epoch milliseconds",
            )


def prepare(run_dir: Path, settings: Settings, *, snapshot: Snapshot | None = None,
            execution: ExecutionReport | None = None, force: bool = False) -> Prepared:  # fmt: skip
    """Everything :func:`record` does except writing: load, add, recompute and check."""
    from btcn.backtest.outputs import RunResult, summary_row
    from btcn.stages.common import targets_tuple

    if snapshot is not None:
        _check_times([snapshot.as_of_ms], "snapshot")
    if execution is not None:
        _check_times([execution.as_of_ms], "execution report")

    run_dir = Path(run_dir)
    eq, trades, meta = _load(run_dir, force)
    targets = targets_tuple(settings)
    recorded: list[str] = list(meta.get("recorded_executions", []))
    # histories written before transfers were recorded: every recorded execution traded
    rebalances = int(meta.get("rebalances_recorded", len(recorded)))
    transfers = int(meta.get("transfers_recorded", 0))
    positions: list[dict[str, Any]] = list(meta.get("open_positions_last", []))
    venue = meta.get("venue")
    if snapshot is not None:
        if venue is not None and venue != snapshot.venue:
            raise InvalidInputError(
                f"{run_dir} records venue {venue!r}, this snapshot is for {snapshot.venue!r}"
            )
        venue = snapshot.venue
        row = _snapshot_row(snapshot, settings)
        ts = snapshot.as_of_ms
        if ts in eq["ts_ms"]:
            i = eq["ts_ms"].index(ts)
            row["fees_usdt"] = eq["fees_usdt"][i]  # keep fees and transfers booked on this row
            row["transfer_usdt"] = eq["transfer_usdt"][i]
            for c in EQUITY_COLUMNS:
                eq[c][i] = row[c]
        else:
            i = int(np.searchsorted(np.asarray(eq["ts_ms"], dtype=np.int64), ts))
            eq["ts_ms"].insert(i, ts)
            for c in EQUITY_COLUMNS:
                eq[c].insert(i, row[c])
        if ts == max(eq["ts_ms"]):
            positions = _positions(snapshot)
    added = 0
    booked = False
    note = "snapshot recorded" if snapshot is not None else ""
    if execution is not None:
        fills = [(o, f) for o in execution.orders for f in o.fills]
        moved = done_transfers(execution)
        if (
            execution.dry_run
            or execution.status == "already_executed"
            or (execution.status == "nothing_to_do" and not moved)
            or not (fills or moved)
        ):
            note = (
                note + "; " if note else ""
            ) + f"execution {execution.plan_digest[:12]} traded nothing: not recorded"
        elif execution.plan_digest in recorded:
            note = (
                note + "; " if note else ""
            ) + f"execution {execution.plan_digest[:12]} was recorded before"
        elif not eq["ts_ms"]:
            raise InvalidInputError(
                "the history has no snapshot yet: record the plan's snapshot with the execution",
                hint="btcn report --run DIR --snapshot SNAPSHOT --execution REPORT",
            )
        else:
            ts = execution.as_of_ms
            for o, f in fills:
                trades.append({
                    "ts_ms": ts, "leg": o.leg.value, "action": o.action.value, "side": o.side.value,
                    "qty_btc": float(f.qty_btc), "price": float(f.price_usdt),
                    "fee_usdt": float(f.fee_usdt), "liquidity": f.liquidity, "position_id": 0,
                    "duration_s": math.nan, "realized_pnl_usdt": math.nan,
                    "cumulative_pnl_usdt": math.nan, "drawdown": math.nan, "fee_btc": 0.0,
                })  # fmt: skip
            # fees and transfers belong to the latest point at or before the execution
            i = max(int(np.searchsorted(np.asarray(eq["ts_ms"]), ts, side="right")) - 1, 0)
            eq["fees_usdt"][i] += sum(float(f.fee_usdt) for _, f in fills)
            eq["transfer_usdt"][i] += sum(moved)
            recorded.append(execution.plan_digest)
            rebalances += bool(fills)
            transfers += len(moved)
            added, booked = len(fills), True
            what = f"{added} fill(s)" + (f", {len(moved)} transfer(s)" if moved else "")
            note = (
                note + "; " if note else ""
            ) + f"execution {execution.plan_digest[:12]}: {what} recorded"
    if not eq["ts_ms"]:
        raise InvalidInputError(
            "nothing to record: give a snapshot (and optionally an execution report)"
        )

    equity = {"ts_ms": np.asarray(eq["ts_ms"], dtype=np.int64)}
    for c in EQUITY_COLUMNS:
        equity[c] = np.asarray(eq[c], dtype=np.float64)
    nav = equity["nav_usdt"]
    nav_start = float(nav[0])
    equity["drawdown"] = drawdown(nav, nav_start)
    trades.sort(key=lambda t: t["ts_ms"])
    for t in trades:
        t["bar_index"] = max(int(np.searchsorted(equity["ts_ms"], t["ts_ms"], side="right")) - 1, 0)
    kpis = compute_kpis(equity["ts_ms"], nav, bar_ms=0, nav_start=nav_start,
                        fees_usdt=float(np.sum(equity["fees_usdt"])), funding_usdt=0.0)  # fmt: skip
    summary = summary_row(
        kpis, int(equity["ts_ms"][0]), int(equity["ts_ms"][-1]), int(nav.shape[0]),
        turnover_usdt=float(sum(t["qty_btc"] * t["price"] for t in trades)), trades=len(trades),
        blocked=0, rebalances=rebalances, transfers=transfers, equity=equity,
        funding_recorded=False,  # funding lands in the wallets (and NAV), not in funding_usdt
    )  # fmt: skip
    new_meta = {
        "source": SOURCE,
        "venue": venue,
        "bar_ms": 0,
        "initial_nav_usdt": nav_start,
        "targets": list(targets),
        "settings": {
            k: getattr(settings, k).model_dump(mode="json")
            for k in ("strategy", "fees", "guardrails")
        },
        "warnings": [],
        "recorded_executions": recorded,
        "rebalances_recorded": rebalances,
        "transfers_recorded": transfers,
        "open_positions_last": positions,
        "blocked_trades": [],
    }
    check_nav(nav, str(run_dir / "equity.parquet"))
    res = RunResult(summary, kpis, equity, trades, [], positions, new_meta)
    return Prepared(res, Recorded(int(nav.shape[0]), added, booked, note))
