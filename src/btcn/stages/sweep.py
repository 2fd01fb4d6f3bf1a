"""``btcn sweep``: many backtests over a parameter grid, optionally walk-forward, on any back-end.

Steps: read the grid and validate every point (before any work); load the market once; resume
from ``sweep.parquet`` (rows already ``ok`` are kept, failed ones are run again); run the
remaining evaluations in batches on the chosen back-end, saving ``sweep.parquet`` atomically as
results arrive; for a walk-forward, choose each window's winner on its train rows only, then run
the winners on their test windows; write the reports.

Each evaluation is :func:`btcn.stages.backtest.run` on the shared market (re-thresholded for the
point's ``[strategy]`` ATR settings): a point's summary equals ``btcn backtest`` with the same
settings and period, field for field.

Resource watchdog: a sweep is an explicitly parallel job whose CPU use is chosen with
``--workers``, so CPU throttling (a per-process limit of a share of one core) is off in the
parent and in every worker; the ``[watchdog] max_rss_mb`` limit still applies to each process,
at the engine's checkpoints (a worker over it fails that point; the parent over it stops the
sweep, keeping ``sweep.parquet`` as of the last save).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from btcn import __version__
from btcn.backtest.market import Market
from btcn.core.durations import format_duration_ms
from btcn.data.timeparse import iso_utc
from btcn.errors import ConfigError, UsageError
from btcn.runtime import watchdog
from btcn.runtime.clock import now_ms
from btcn.runtime.files import write_text_atomic
from btcn.runtime.folders import check_output_folder, commit_folder, refuse_foreign
from btcn.runtime.settings import Settings
from btcn.stages import backtest
from btcn.sweep import store
from btcn.sweep.backends import Backend, cores, make_backend
from btcn.sweep.result import SweepResult
from btcn.sweep.runner import Outcome, Task
from btcn.sweep.space import (
    GridSpec,
    Point,
    build_points,
    canonical_json,
    digest,
    read_grid,
    relevant_settings,
)
from btcn.sweep.walkforward import chain, check_metric, choose, ranked, stability
from btcn.sweep.windows import Window, coverage, coverage_problem, make_windows, parse_walk_forward

WORKER_CPU_PCT = 6400.0  # the settings' ceiling: a single-threaded worker can never reach it
SECONDS_PER_BAR = 1.5e-6  # rough engine cost, only to size batches
TARGET_BATCH_S = 0.1


@dataclass(frozen=True)
class SweepRequest:
    grid: str | Path | GridSpec
    candles: Sequence[str | Path]
    settings: Settings
    out_dir: Path
    perp: Sequence[str | Path] | None = None
    funding: Sequence[str | Path] | None = None
    signals: str | Path | None = None
    start: str | None = None
    end: str | None = None
    metric: str | None = None
    walk_forward: str | None = None
    workers: int | None = None
    scheduler: str | None = None
    heatmap: tuple[str, str] | None = None
    overwrite: bool = False
    top: int = 20


# --- what a worker evaluates ------------------------------------------------------------------


def no_cpu_throttle(settings: Settings) -> Settings:
    wd = settings.watchdog.model_copy(update={"max_cpu_pct": WORKER_CPU_PCT})
    return settings.model_copy(update={"watchdog": wd})


def _iso(ms: int | None) -> str | None:
    return None if ms is None else iso_utc(ms)


def evaluate_point(market: Market, settings: Settings, start_ms: int | None,
                   end_ms: int | None) -> backtest.RunResult:  # fmt: skip
    """One point on one period: exactly ``btcn backtest`` on the already loaded market."""
    req = backtest.BacktestRequest(candles=(), settings=no_cpu_throttle(settings),
                                   start=_iso(start_ms), end=_iso(end_ms))  # fmt: skip
    return backtest.run(req, market=market)


def market_digest(market: Market) -> str:
    """Identity of the input data (candles, perp, funding, signals), whatever files held it."""
    h = hashlib.sha256()
    for a in (market.open_ms, market.spot_open, market.spot_high, market.spot_low,
              market.spot_close, market.perp_open, market.perp_high, market.perp_low,
              market.perp_close, market.funding_bar, market.funding_rate, market.funding_mark):  # fmt: skip
        h.update(np.ascontiguousarray(a).tobytes())
        h.update(b"|")
    h.update(f"{market.bar_ms}|{market.has_perp}|".encode())
    sig = market.signals
    h.update(canonical_json([list(sig.timestamps_ms), [str(v) for v in sig.values]]).encode())
    return h.hexdigest()


# --- the plan -----------------------------------------------------------------------------------


def point_id(point: Point, data_digest: str) -> str:
    ident: dict[str, Any] = {"data": data_digest, "btcn": __version__}
    if point.settings is not None:
        ident["settings"] = relevant_settings(point.settings)
    else:
        ident["invalid"] = point.params
    return digest(ident)[:20]


def row_id(pid: str, phase: str, start_ms: int | None, end_ms: int | None) -> str:
    return digest(["row", pid, phase, start_ms, end_ms])[:20]


def _new_row(point: Point, pid: str, phase: str, window: int, start_ms: int | None,
             end_ms: int | None) -> dict[str, Any]:  # fmt: skip
    row: dict[str, Any] = {"row_id": row_id(pid, phase, start_ms, end_ms), "point_id": pid,
                           "point": point.index, "phase": phase, "window": window,
                           "period_start": start_ms, "period_end": end_ms,
                           "params": canonical_json(point.params), **point.params,
                           "status": None, "error": None}  # fmt: skip
    return row


def _check_points(points: list[Point], bar_ms: int, source: str) -> None:
    """Values that are valid settings but impossible on these candles: an error before work."""
    for p in points:
        if p.settings is None:
            continue
        st = p.settings.strategy
        if st.atr_window_ms % bar_ms:
            raise ConfigError(
                f"{source}: strategy.atr_window = {st.atr_window!r} is not a multiple of the "
                f"{bar_ms // 1000}s candle interval"
            )


def batch_size(configured: int, evaluations: int, workers: int, bars: int) -> int:
    """Evaluations per task: about TARGET_BATCH_S of work, and at least 8 tasks per worker so the
    last tasks do not leave a worker idle."""
    if configured:
        return configured
    per_eval_s = max(bars, 1) * SECONDS_PER_BAR
    by_time = max(int(TARGET_BATCH_S / per_eval_s), 1)
    by_balance = max(evaluations // (max(workers, 1) * 8), 1)
    return min(by_time, by_balance)


class _Saver:
    """Rewrites sweep.parquet (atomically) at most every ``interval_s`` and on demand."""

    def __init__(self, path: Path, rows: list[dict[str, Any]], param_types: dict[str, Any],
                 meta: dict[str, str], interval_s: float) -> None:  # fmt: skip
        self.path, self.rows, self.types, self.meta = path, rows, param_types, meta
        self.interval_s = interval_s
        self.last = time.monotonic()

    def save(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.last < self.interval_s:
            return
        done = [r for r in self.rows if r["status"] is not None]
        store.write_table(self.path, store.to_table(done, self.types, self.meta))
        self.last = time.monotonic()


def _apply(row: dict[str, Any], out: Outcome) -> None:
    if out.error is None and out.summary is not None:
        row.update(out.summary)
        row["status"], row["error"] = "ok", None
    else:
        row["status"], row["error"] = "failed", out.error


# --- the stage --------------------------------------------------------------------------------


def run(
    req: SweepRequest,
    progress_factory: Callable[[int], Callable[[int], None]] | None = None,
    backend: Backend | None = None,
    evaluate: Callable[..., Any] = evaluate_point,
) -> SweepResult:
    settings = req.settings
    spec = req.grid if isinstance(req.grid, GridSpec) else read_grid(req.grid)
    metric = req.metric or settings.sweep.metric
    maximize = check_metric(metric, "--metric" if req.metric else "sweep.metric")
    if req.scheduler and req.workers is not None:
        raise UsageError("--workers and --scheduler exclude each other", hint="the cluster's "
                         "workers run the points; size the cluster instead")  # fmt: skip
    scheduler = req.scheduler or settings.sweep.scheduler or None
    workers = req.workers if req.workers is not None else (settings.sweep.workers or cores())
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    wf = parse_walk_forward(req.walk_forward) if req.walk_forward else None
    bounds = backtest.BacktestRequest(candles=(), settings=settings, start=req.start, end=req.end)
    start_ms, end_ms = backtest.period(bounds)
    points = build_points(spec, settings)
    keys = spec.keys
    if req.heatmap is not None:
        for k in req.heatmap:
            if k not in keys:
                raise UsageError(
                    f"--heatmap {k!r} is not a swept key", hint=f"swept: {', '.join(keys)}"
                )
    out_dir = Path(req.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder")
    check_output_folder(out_dir)
    refuse_foreign(out_dir, lambda d: (d / store.SWEEP_PARQUET).is_file(), "a btcn sweep folder",
                   force=req.overwrite)  # fmt: skip

    # Cut to the period (and the longest ATR warm-up of any point) before any data check; a
    # walk-forward judges each window by its own coverage instead of refusing the whole span.
    warmup = max((backtest.warmup_ms(p.settings.strategy.atr_window_ms,
                                     p.settings.strategy.atr_periods)
                  for p in points if p.settings is not None), default=0)  # fmt: skip
    market = backtest.load_market(backtest.BacktestRequest(
        candles=req.candles, settings=settings, perp=req.perp, funding=req.funding,
        signals=req.signals), start_ms, end_ms, warmup,
        missing_perp="drop" if wf is not None else "error")  # fmt: skip
    _check_points(points, market.bar_ms, spec.source)
    data_digest = market_digest(market)
    ids = [point_id(p, data_digest) for p in points]
    warnings = list(market.warnings)

    windows: list[Window] = []
    if wf is not None:
        t0 = start_ms if start_ms is not None else int(market.open_ms[0])
        t1 = end_ms if end_ms is not None else int(market.open_ms[-1]) + market.bar_ms
        windows = make_windows(t0, t1, *wf)
        tail = t1 - windows[-1].test_end_ms
        if tail > 0:
            warnings.append(f"walk-forward: the last {format_duration_ms(tail)} do not fill a "
                            "test window and are not scored")  # fmt: skip
        # A window holding too few of its bars is not run: it is flagged in the results instead.
        scored = [w for w in windows if _coverage_problem(market, w, settings) is None]
        rows = [_new_row(p, pid, "train", w.index, w.train_start_ms, w.train_end_ms)
                for w in scored for p, pid in zip(points, ids, strict=True)]  # fmt: skip
        possible_tests = {row_id(pid, "test", w.test_start_ms, w.test_end_ms)
                          for w in windows for pid in ids}  # fmt: skip
    else:
        rows = [_new_row(p, pid, "full", -1, start_ms, end_ms)
                for p, pid in zip(points, ids, strict=True)]  # fmt: skip
        possible_tests = set()

    # resume
    path = out_dir / store.SWEEP_PARQUET
    old = store.read_rows(path)
    by_id = {r["row_id"]: r for r in rows}
    foreign = [r for r in old if r["row_id"] not in by_id and r["row_id"] not in possible_tests]
    if foreign and not req.overwrite:
        raise UsageError(
            f"{path} holds {len(foreign)} result(s) of another sweep (other grid, inputs, "
            "period, windows or btcn version)",
            hint="use another --out folder, or --overwrite to replace it",
        )
    reused = 0
    for r in old:
        mine = by_id.get(r["row_id"])
        # a row of an older btcn lacks newer KPI columns (summary schema 2): evaluate it again
        if mine is not None and r["status"] == "ok" and all(k in r for k in store.SUMMARY_COLUMNS):
            for k in store.SUMMARY_COLUMNS:
                mine[k] = r[k]
            mine["status"], mine["error"] = "ok", None
            reused += 1
    for r, p in zip(rows, (points[r["point"]] for r in rows), strict=True):
        if p.settings is None:
            r["status"], r["error"] = "failed", p.error

    param_types = {k: store.param_type([p.params.get(k) for p in points]) for k in keys}
    wf_meta = (
        {"walk_forward": f"{format_duration_ms(wf[0])}:{format_duration_ms(wf[1])}"} if wf else {}
    )
    meta = store.metadata(created_at_ms=now_ms(), input_digest=data_digest, version=__version__,
                          metric=metric, grid=spec.describe(), extra=wf_meta)  # fmt: skip
    all_rows = list(rows)
    saver = _Saver(path, all_rows, param_types, meta, settings.sweep.flush_interval_ms / 1000.0)
    if any((out_dir / name).exists() for name in DERIVED):
        # The reports of the previous sweep go, in one swap with the resumable results, before
        # the first checkpoint: the folder never shows new results beside an old report.
        with commit_folder(out_dir, keep=lambda n: n not in DERIVED and n != path.name) as tmp:
            _Saver(tmp / path.name, all_rows, param_types, meta, 0.0).save(force=True)
    guard = watchdog.from_settings(no_cpu_throttle(settings), "btcn sweep")
    todo = [r for r in rows if r["status"] is None]
    period_bars = _bars_per_eval(market, windows, start_ms, end_ms)
    total = len(todo) + len(windows)
    update = progress_factory(total) if progress_factory else None
    done = 0

    def execute(pending: list[dict[str, Any]], keep_equity: bool) -> dict[str, Outcome]:
        nonlocal done
        outcomes: dict[str, Outcome] = {}
        if not pending:
            return outcomes
        size = batch_size(settings.sweep.batch, len(pending), backend_.workers, period_bars)
        tasks = [Task(r["row_id"], points[r["point"]].settings, r["period_start"],  # type: ignore[arg-type]
                      r["period_end"], keep_equity) for r in pending]  # fmt: skip
        batches = [tasks[i : i + size] for i in range(0, len(tasks), size)]
        by_row = {r["row_id"]: r for r in pending}
        for result in backend_.run(batches, evaluate):
            for out in result:
                _apply(by_row[out.row_id], out)
                outcomes[out.row_id] = out
            done += len(result)
            if update is not None:
                update(done)
            guard.checkpoint()
            saver.save()
        return outcomes

    backend_ = backend or make_backend(workers, scheduler)
    own_backend = backend is None
    executed = len(todo)
    test_rows: list[dict[str, Any]] = []
    test_out: dict[str, Outcome] = {}
    chosen: list[dict[str, Any] | None] = []
    try:
        if todo or windows:
            backend_.start(market)
        execute(todo, False)
        if windows:
            for w in windows:
                train = [r for r in rows if r["window"] == w.index]
                pick = choose(train, metric, maximize)
                chosen.append(pick)
                if pick is not None:
                    p = points[pick["point"]]
                    row = _new_row(p, pick["point_id"], "test", w.index, w.test_start_ms,
                                   w.test_end_ms)  # fmt: skip
                    test_rows.append(row)
            all_rows.extend(test_rows)
            test_out = execute(test_rows, True)
            executed += len(test_rows)
    finally:
        saver.save(force=True)
        if own_backend:
            backend_.close()
    if update is not None:
        update(total)

    failed = sum(1 for r in all_rows if r["status"] == "failed")
    if failed:
        warnings.append(f"{failed} evaluation(s) failed; their error is in sweep.parquet")
    wf_summary, wf_table, oos_curve = None, [], None
    best = None
    if not windows:
        top = ranked(rows, metric, maximize)
        if top and top[0]["status"] == "ok":
            best = _brief(top[0], keys, metric)
    # The reports are added in one swap; sweep.parquet (saved above) is kept as it is.
    with commit_folder(out_dir, keep=lambda n: n not in DERIVED) as final:
        if windows:
            wf_summary, wf_table, oos_curve = _write_walk_forward(final, windows, rows, test_rows, test_out, chosen,
                                             points, keys, param_types, metric, wf, market, settings,
                                             data_digest, warnings)  # fmt: skip
        result = SweepResult(all_rows, len(points), executed, reused, failed, metric, maximize, keys,
                             backend_.name, backend_.workers, best, wf_summary, warnings,
                             wf_table, oos_curve)  # fmt: skip
        from btcn.sweep import html

        heat = req.heatmap or _default_heatmap(spec)
        html.write_sweep_html(final / store.SWEEP_HTML, result, heat, req.top, windows)
    return result


# Written from sweep.parquet at the end of a sweep; replaced together, never beside other results.
DERIVED = (store.SWEEP_HTML, store.WALK_FORWARD_PARQUET, store.WALK_FORWARD_JSON,
           store.OOS_EQUITY_PARQUET)  # fmt: skip


def _bars_per_eval(market: Market, windows: list[Window], start_ms: int | None,
                   end_ms: int | None) -> int:  # fmt: skip
    if windows:
        w = windows[0]
        return max(int((w.train_end_ms - w.train_start_ms) // market.bar_ms), 1)
    lo = 0 if start_ms is None else int(np.searchsorted(market.open_ms, start_ms))
    hi = len(market) if end_ms is None else int(np.searchsorted(market.open_ms, end_ms))
    return max(hi - lo, 1)


def _coverage_problem(market: Market, w: Window, settings: Settings) -> str | None:
    return coverage_problem(
        coverage(market.open_ms, market.bar_ms, w.train_start_ms, w.train_end_ms),
        coverage(market.open_ms, market.bar_ms, w.test_start_ms, w.test_end_ms),
        settings.sweep.min_window_coverage,
    )


def _default_heatmap(spec: GridSpec) -> tuple[str, str] | None:
    axes = [k for k, v in spec.grid.items() if len(v) > 1]
    axes += [k for k in spec.random if k not in axes]
    return (axes[0], axes[1]) if len(axes) >= 2 else ((axes[0], axes[0]) if axes else None)


def _num(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _brief(row: dict[str, Any], keys: list[str], metric: str) -> dict[str, Any]:
    return {"point_id": row["point_id"], "point": row["point"],
            "params": {k: row.get(k) for k in keys},
            **{k: _num(row.get(k)) for k in dict.fromkeys((metric, "roi", "sharpe",
                                                            "max_drawdown", "fees_usdt", "trades"))}}  # fmt: skip


def _write_walk_forward(out_dir: Path, windows: list[Window], rows: list[dict[str, Any]],
                        test_rows: list[dict[str, Any]], test_out: dict[str, Outcome],
                        chosen: list[dict[str, Any] | None], points: list[Point], keys: list[str],
                        param_types: dict[str, Any], metric: str, wf: tuple[int, int] | None,
                        market: Market, settings: Settings, data_digest: str,
                        warnings: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:  # fmt: skip
    import pyarrow as pa

    tests = {r["window"]: r for r in test_rows}
    table_rows: list[dict[str, Any]] = []
    parts = []
    for w, pick in zip(windows, chosen, strict=True):
        t = tests.get(w.index)
        row: dict[str, Any] = {
            "window": w.index, "train_start": w.train_start_ms, "train_end": w.train_end_ms,
            "test_start": w.test_start_ms, "test_end": w.test_end_ms,
            "point_id": pick["point_id"] if pick else None, "point": pick["point"] if pick else None,
            "params": pick["params"] if pick else None,
            "train_coverage": coverage(market.open_ms, market.bar_ms, w.train_start_ms,
                                       w.train_end_ms),
            "test_coverage": coverage(market.open_ms, market.bar_ms, w.test_start_ms,
                                      w.test_end_ms),
        }  # fmt: skip
        for k in keys:
            row[k] = store.param_cell(pick.get(k), param_types[k]) if pick else None
        for k in store.NUMERIC_KPIS:
            row[f"is_{k}"] = pick.get(k) if pick else None
            row[f"oos_{k}"] = t.get(k) if t else None
        if short := _coverage_problem(market, w, settings):
            row["status"], row["error"] = "low_coverage", short
        elif pick is None:
            row["status"], row["error"] = (
                "failed",
                "no point has a finite metric on the train window",
            )
        elif t is None or t["status"] != "ok":
            row["status"], row["error"] = "failed", (t or {}).get("error") or "test not run"
        else:
            row["status"], row["error"] = "ok", None
            out = test_out[t["row_id"]]
            assert out.equity is not None
            parts.append((w.index, out.equity))
        table_rows.append(row)
    for row in table_rows:
        if row["status"] == "low_coverage":
            warnings.append(f"walk-forward window {row['window']}: {row['error']}")
    if len(parts) < len(windows):
        warnings.append(f"walk-forward: {len(windows) - len(parts)} window(s) have no out-of-sample "
                        "result; the chained curve skips them")  # fmt: skip
    created = now_ms()
    wf_text = f"{format_duration_ms(wf[0])}:{format_duration_ms(wf[1])}" if wf else ""
    meta = {"kind": "walk_forward", "schema_version": str(store.WALK_FORWARD_SCHEMA_VERSION),
            "created_at_ms": str(created), "input_digest": data_digest, "btcn_version": __version__,
            "metric": metric, "walk_forward": wf_text}  # fmt: skip
    ts = pa.timestamp("ms", tz="UTC")
    fields = [("window", pa.int64()), ("train_start", ts), ("train_end", ts), ("test_start", ts),
              ("test_end", ts), ("point_id", pa.string()), ("point", pa.int64()),
              ("params", pa.string()), ("train_coverage", pa.float64()),
              ("test_coverage", pa.float64()), *param_types.items()]  # fmt: skip
    for k in store.NUMERIC_KPIS:
        fields += [(f"is_{k}", store.kpi_type(k)), (f"oos_{k}", store.kpi_type(k))]
    fields += [("status", pa.string()), ("error", pa.string())]
    schema = pa.schema(fields, metadata=meta)
    store.write_table(
        out_dir / store.WALK_FORWARD_PARQUET, pa.Table.from_pylist(table_rows, schema=schema)
    )

    nav_start = float(settings.backtest.initial_nav_usdt)
    chained = chain(parts, nav_start, market.bar_ms)
    eq_schema = pa.schema([("ts", ts), ("window", pa.int64()), ("point_id", pa.string()),
                           ("nav_usdt", pa.float64())],
                          metadata={**meta, "kind": "oos_equity"})  # fmt: skip
    if chained is not None:
        pid_by_window = {w: r["point_id"] for w, r in tests.items()}
        eq_table = pa.Table.from_arrays(
            [pa.array(chained.ts_ms, ts), pa.array(chained.window, pa.int64()),
             pa.array([pid_by_window[int(w)] for w in chained.window], pa.string()),
             pa.array(chained.nav_usdt, pa.float64())], schema=eq_schema)  # fmt: skip
    else:
        eq_table = eq_schema.empty_table()
    store.write_table(out_dir / store.OOS_EQUITY_PARQUET, eq_table)

    oos = None
    if chained is not None:
        k = chained.kpis
        oos = {"start": iso_utc(int(chained.ts_ms[0])),
               "end": iso_utc(int(chained.ts_ms[-1]) + market.bar_ms), "nav_end": k.nav_end,
               "roi": k.roi, "cagr": k.cagr, "sharpe": k.sharpe, "sortino": k.sortino,
               "max_drawdown": k.max_drawdown, "fees_usdt": k.fees_usdt,
               "funding_usdt": k.funding_usdt}  # fmt: skip
    # The winners' score: windows that are complete enough and ran (a low-coverage one is shown,
    # flagged, but counts nowhere).
    scored = {r["window"] for r in table_rows if r["status"] == "ok"}
    ok_picks = [
        c for w, c in zip(windows, chosen, strict=True) if c is not None and w.index in scored
    ]
    is_mean = {k: float(np.nanmean([float(c[k]) for c in ok_picks])) if ok_picks else None
               for k in ("roi", "cagr", "sharpe", "sortino", "max_drawdown", metric)}  # fmt: skip
    ok_tests = [t for w, t in tests.items() if t["status"] == "ok" and w in scored]
    oos_mean = {k: float(np.nanmean([float(t[k]) for t in ok_tests])) if ok_tests else None
                for k in ("roi", "cagr", "sharpe", "sortino", "max_drawdown", metric)}  # fmt: skip
    stab = stability(
        [{**c, "params": {k: c.get(k) for k in keys}} if c and w.index in scored else None
         for w, c in zip(windows, chosen, strict=True)], keys
    )  # fmt: skip
    compact = [
        {"window": r["window"], "train": [iso_utc(r["train_start"]), iso_utc(r["train_end"])],
         "test": [iso_utc(r["test_start"]), iso_utc(r["test_end"])], "point_id": r["point_id"],
         "params": {k: pick.get(k) for k in keys} if pick else None,
         f"is_{metric}": _num(r[f"is_{metric}"]), f"oos_{metric}": _num(r[f"oos_{metric}"]),
         "is_roi": _num(r["is_roi"]), "oos_roi": _num(r["oos_roi"]),
         "train_coverage": r["train_coverage"], "test_coverage": r["test_coverage"],
         "status": r["status"], "reason": r["error"]}
        for r, pick in zip(table_rows, chosen, strict=True)
    ]  # fmt: skip
    summary = {"kind": "walk_forward", "schema_version": store.WALK_FORWARD_SCHEMA_VERSION,
               "created_at_ms": created, "input_digest": data_digest, "btcn_version": __version__,
               "metric": metric, "walk_forward": wf_text, "windows": compact,
               "is_mean": {k: _num(v) for k, v in is_mean.items()},
               "oos_mean": {k: _num(v) for k, v in oos_mean.items()},
               "oos_chained": {k: _num(v) for k, v in oos.items()} if oos else None,
               "stability": _clean(stab)}  # fmt: skip
    write_text_atomic(out_dir / store.WALK_FORWARD_JSON,
                      json.dumps(summary, indent=1, allow_nan=False) + "\n")  # fmt: skip
    return summary, table_rows, chained


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return _num(obj)


def stdout_summary(result: SweepResult) -> dict[str, Any]:
    """The JSON the command prints: counts, the best point, the walk-forward summary."""
    out: dict[str, Any] = {
        "kind": "sweep_summary", "points": result.points, "evaluations": len(result.rows),
        "executed": result.executed, "reused": result.reused, "failed": result.failed,
        "metric": result.metric, "backend": result.backend, "workers": result.workers,
        "best": result.best,
    }  # fmt: skip
    if result.walk_forward is not None:
        wf = result.walk_forward
        out["walk_forward"] = {k: wf[k] for k in ("walk_forward", "windows", "is_mean", "oos_mean",
                                                   "oos_chained", "stability")}  # fmt: skip
    return _clean(out)
