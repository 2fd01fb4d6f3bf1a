"""``btcn backtest``."""

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
def backtest(
    candles: CandlesOpt,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the run's files (created if needed).")
    ],
    perp: PerpOpt = None,
    funding: FundingOpt = None,
    signals: SignalsOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    config: ConfigOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into a non-empty --out folder that is not a btcn run folder "
            "(its other files are kept).",
        ),
    ] = False,
) -> None:
    """Backtest the strategy with real position holding, fees, funding and signal gating.

    Every bar calls the same decision core as `btcn plan`. Orders decided on a bar fill on the next:
    PostOnly at the limit if that bar trades through it, else Market at the following open with
    taker fee and slippage. Writes summary.csv, equity.html, blocked_trades_log.csv,
    executed_trades.json, open_positions.json, equity.parquet, trades.parquet and run.json to --out,
    and prints the summary row as JSON on stdout.
    """
    import json
    import math

    from btcn.cli.console import warn, write_stdout
    from btcn.cli.context import STATE
    from btcn.cli.progress import progress_factory
    from btcn.stages import backtest as stage

    settings = load_settings(config)
    req = stage.BacktestRequest(candles=candles, settings=settings, perp=perp, funding=funding,
                                signals=signals, start=start, end=end)  # fmt: skip
    with progress_factory("backtest", quiet=STATE.quiet) as factory:
        result = stage.run_and_write(req, out, factory, force=force)
    summary = {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v)
        for k, v in result.summary.items()
    }
    write_stdout(json.dumps(summary, indent=2) + "\n")
    if not STATE.quiet:
        from btcn.cli.render import summary_table

        for w in result.meta["warnings"]:
            warn(w)
        summary_table(result.summary, result.meta, out)
