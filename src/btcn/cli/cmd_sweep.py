"""``btcn sweep``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from btcn.cli.errors import handle_errors
from btcn.cli.options import (
    CandlesOpt,
    ConfigOpt,
    EndOpt,
    FundingOpt,
    PerpOpt,
    SignalsOpt,
    StartOpt,
    load_settings,
)


@handle_errors
def sweep(
    grid: Annotated[
        Path, typer.Option("--grid", help="Grid file (TOML): [grid], [random], [fixed].")
    ],
    candles: CandlesOpt,
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder for sweep.parquet and sweep.html (resumed if present)."),
    ],
    perp: PerpOpt = None,
    funding: FundingOpt = None,
    signals: SignalsOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    metric: Annotated[
        str | None,
        typer.Option(
            "--metric",
            help="KPI that ranks points (default [sweep] metric: sharpe).",
            show_default=False,
        ),
    ] = None,
    walk_forward: Annotated[
        str | None,
        typer.Option(
            "--walk-forward",
            metavar="TRAIN:TEST",
            help="Rolling windows, e.g. 90d:30d: pick the best point on each train "
            "window, score it on the test window that follows.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Local worker processes: 0 = every core, 1 runs in this process "
            "(default [sweep] workers, 0).",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="tcp://HOST:PORT",
            help="Run the points on this Dask cluster (needs btcn[dask]).",
            show_default=False,
        ),
    ] = None,
    heatmap: Annotated[
        str | None,
        typer.Option(
            "--heatmap",
            metavar="KEY_X,KEY_Y",
            help="The two swept keys of the heat map (default: the first two axes).",
            show_default=False,
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows of the ranking table.")] = 20,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite", help="Replace a sweep.parquet that holds another sweep's rows."
        ),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Run many backtests over a parameter grid, locally or on a Dask cluster.

    Each point is one `btcn backtest` (same engine, same KPIs) on data loaded once. Writes
    sweep.parquet (parameters, every summary KPI, status and error per evaluation) and
    sweep.html (heat map, ranking); with --walk-forward also walk_forward.parquet,
    walk_forward.json and oos_equity.parquet. Re-running with the same --out resumes: rows
    already done are kept. Prints a JSON summary on stdout. Exit code 7 when some evaluations
    failed (the others are written).
    """
    import json

    from btcn.cli.console import warn, write_stdout
    from btcn.cli.context import STATE
    from btcn.cli.progress import progress_factory
    from btcn.errors import PartialExecution, UsageError
    from btcn.stages import sweep as stage

    heat = None
    if heatmap is not None:
        parts = [p.strip() for p in heatmap.split(",")]
        if len(parts) != 2 or not all(parts):
            raise UsageError("--heatmap takes two swept keys: KEY_X,KEY_Y")
        heat = (parts[0], parts[1])
    if workers == 0:  # as in [sweep] workers: 0 = every core this process may use
        from btcn.sweep.backends import cores

        workers = cores()
    settings = load_settings(config)
    req = stage.SweepRequest(grid=grid, candles=candles, settings=settings, out_dir=out,
                             perp=perp, funding=funding, signals=signals, start=start, end=end,
                             metric=metric, walk_forward=walk_forward, workers=workers,
                             scheduler=scheduler, heatmap=heat, overwrite=overwrite, top=top)  # fmt: skip
    with progress_factory("sweep", quiet=STATE.quiet) as factory:
        result = stage.run(req, factory)
    write_stdout(json.dumps(stage.stdout_summary(result), indent=2, allow_nan=False) + "\n")
    if not STATE.quiet:
        for w in result.warnings:
            warn(w)
        _tables(result, out)
    if result.failed:
        raise PartialExecution(
            f"{result.failed} of {len(result.rows)} evaluations failed (see the error column of "
            f"{out / 'sweep.parquet'})",
            hint="run the same command again to retry only those",
        )


def _tables(result, out: Path) -> None:  # result: btcn.stages.sweep.SweepResult
    """The top of the ranking and, for a walk-forward, IS vs OOS per window (stderr)."""
    import math

    from btcn.cli.console import err_console
    from btcn.cli.console import table as Table
    from btcn.sweep.html import point_scores
    from btcn.sweep.walkforward import ranked

    def fmt(v: object, pct: bool = False) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "–"
        if isinstance(v, float):
            return f"{v:.2%}" if pct else f"{v:.4g}"
        return str(v)

    console = err_console()
    m = result.metric
    cols = list(dict.fromkeys([m, "roi", "sharpe", "max_drawdown", "trades"]))
    wf = result.walk_forward
    title = f"sweep: top points by {m}" + (" (mean over train windows)" if wf else "")
    table = Table(title=title, title_justify="left")
    short = [k.rsplit(".", 1)[-1] for k in result.keys]  # e.g. threshold_floor
    for c in ["#", *short, *cols]:
        table.add_column(c, justify="right")
    for i, r in enumerate(ranked(point_scores(result), m, result.maximize)[:10]):
        table.add_row(str(i + 1), *(fmt(r.get(k)) for k in result.keys),
                      *(fmt(r.get(k), k in ("roi", "max_drawdown")) for k in cols))  # fmt: skip
    console.print(table)
    if wf:
        t = Table(title=f"walk-forward {wf['walk_forward']}: in-sample vs out-of-sample",
                  title_justify="left")  # fmt: skip
        for c in ["window", "test from", *short, f"IS {m}", f"OOS {m}", "IS roi", "OOS roi"]:
            t.add_column(c, justify="right", min_width=10 if c == "test from" else None)
        for r in result.wf_table:
            from btcn.data.timeparse import iso_utc

            t.add_row(str(r["window"]), iso_utc(r["test_start"])[:10],
                      *(fmt(r.get(k)) for k in result.keys), fmt(r.get(f"is_{m}")),
                      fmt(r.get(f"oos_{m}")), fmt(r.get("is_roi"), True),
                      fmt(r.get("oos_roi"), True))  # fmt: skip
        console.print(t)
        st = wf["stability"]
        chained = wf.get("oos_chained") or {}
        console.print(
            f"out-of-sample chained: roi {fmt(chained.get('roi'), True)}, sharpe "
            f"{fmt(chained.get('sharpe'))}, max DD {fmt(chained.get('max_drawdown'), True)}; "
            f"choice changed {st['changes']}x over {st['windows']} windows "
            f"({st['distinct_points']} distinct points)"
        )
    console.print(
        f"{result.executed} run, {result.reused} reused, {result.failed} failed "
        f"({result.backend}, {result.workers} worker(s)) -> {out}/sweep.parquet, sweep.html"
    )
