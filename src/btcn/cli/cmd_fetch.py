"""``btcn fetch candles|funding|snapshot``: market data to Parquet, account state to JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from btcn.cli.errors import handle_errors
from btcn.cli.options import ConfigOpt, StateOpt, load_settings

app = typer.Typer(
    name="fetch",
    help="Download market data (Parquet) and account snapshots (JSON).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

StartOpt = Annotated[
    str, typer.Option("--start", help="First time to fetch: ISO-8601 UTC or epoch (s/ms).")
]
EndOpt = Annotated[
    str | None,
    typer.Option("--end", help="Stop before this time (default: now; only closed bars are kept)."),
]
OutOpt = Annotated[
    Path, typer.Option("--out", "-o", help="Parquet file; an existing file is extended in place.")
]


def _time_ms(text: str, option: str) -> int:
    from btcn.data.timeparse import parse_timestamp_ms
    from btcn.errors import UsageError

    try:
        return parse_timestamp_ms(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _run_with_progress(label: str, work):  # type: ignore[no-untyped-def]
    """Run ``work(progress)`` with a progress bar on stderr when stderr is a terminal.

    The bar starts at the first progress report, so an error raised while checking the request
    prints its one line and nothing else; without a terminal (pipes, CI logs) there is no bar,
    only the final summary line.
    """
    from btcn.cli.console import err_console
    from btcn.cli.context import STATE

    console = err_console()
    if STATE.quiet or not console.is_terminal:
        return work(None)
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    bar = Progress(
        TextColumn(label, markup=False),
        BarColumn(),
        TaskProgressColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(label, total=None)

    def progress(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=max(total, 1))

    try:
        return work(progress)
    finally:
        if bar.live.is_started:
            bar.stop()


def _report(result) -> None:  # type: ignore[no-untyped-def]
    import json

    from btcn.cli.console import err_console, warn, write_stdout
    from btcn.cli.context import STATE

    summary = result.as_dict()
    write_stdout(json.dumps(summary, indent=2) + "\n")
    console = err_console()
    for warning in result.warnings:
        warn(warning)
    if not STATE.quiet:
        console.print(
            f"{result.path}: {result.rows_added} new row(s), {result.rows_total} in total "
            f"({summary['first'] or '-'} .. {summary['last'] or '-'})"
        )


@app.command("candles")
@handle_errors
def candles(
    out: OutOpt,
    start: StartOpt,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="binance-spot (P_ref), binance-perp, binance-mark, gate-spot, gate-perp, "
            "gate-mark or gate-index.",
        ),
    ] = "binance-spot",
    interval: Annotated[str, typer.Option("--interval", help="Bar length, e.g. 5m, 1h.")] = "5m",
    end: EndOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Download closed OHLCV bars into a Parquet file, resuming from what it already holds.

    Writes open_time (timestamp[ms, UTC]), open, high, low, close, volume: the layout that
    `btcn plan --candles` and the backtester read. The file is replaced atomically at every
    checkpoint, so an interrupted download never leaves a partial file; re-run to resume.
    Prints a JSON summary on stdout; gaps are reported as warnings, never filled.
    """
    from btcn.runtime.clock import now_ms
    from btcn.stages import fetch as stage

    settings = load_settings(config)
    req = stage.CandleFetchRequest(
        source=source, interval=interval, start_ms=_time_ms(start, "--start"), out=out,
        settings=settings, now_ms=now_ms(),
        end_ms=_time_ms(end, "--end") if end is not None else None,
    )  # fmt: skip
    result = _run_with_progress(f"{source} {interval}", lambda p: stage.fetch_candles(req, None, p))
    _report(result)


@app.command("funding")
@handle_errors
def funding(
    out: OutOpt,
    start: StartOpt,
    source: Annotated[
        str, typer.Option("--source", help="binance (USDⓈ-M, with mark price) or gate.")
    ] = "binance",
    end: EndOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Download the funding-rate history into a Parquet file (funding_time, funding_rate,
    mark_price), resuming from what it already holds."""
    from btcn.runtime.clock import now_ms
    from btcn.stages import fetch as stage

    settings = load_settings(config)
    req = stage.FundingFetchRequest(
        source=source, start_ms=_time_ms(start, "--start"), out=out, settings=settings,
        now_ms=now_ms(), end_ms=_time_ms(end, "--end") if end is not None else None,
    )  # fmt: skip
    result = _run_with_progress(f"{source} funding", lambda p: stage.fetch_funding(req, None, p))
    _report(result)


@app.command("snapshot")
@handle_errors
def snapshot(
    venue: Annotated[str, typer.Option("--venue", help="gate (live account) or paper.")] = "paper",
    candles: Annotated[
        list[str] | None,
        typer.Option(
            "--candles",
            help="Paper only, offline: spot candle file(s); their last close prices the book "
            "and is P_ref.",
        ),
    ] = None,
    perp: Annotated[
        list[str] | None,
        typer.Option("--perp", help="Paper only, offline: perp candle file(s) for the mark."),
    ] = None,
    ref_interval: Annotated[
        str, typer.Option("--ref-interval", help="Binance candle length for P_ref (online).")
    ] = "1m",
    config: ConfigOpt = None,
    state: StateOpt = None,
) -> None:
    """Print a `snapshot` JSON (balances, hedge-mode positions, prices, venue rules) on stdout.

    --venue gate reads the live account (GATE_API_KEY, GATE_API_SECRET) and P_ref from the last
    closed Binance spot candle. --venue paper reads the paper account from the state store; with
    --candles it works offline (prices = last closes, as_of = last close time).
    """
    from btcn.cli.console import write_stdout
    from btcn.contracts import dump_json
    from btcn.errors import UsageError
    from btcn.runtime.clock import now_ms
    from btcn.stages import fetch as stage

    settings = load_settings(config)
    if venue == "gate":
        if candles or perp:
            raise UsageError("--candles/--perp are for --venue paper; gate prices are live")
        snap = stage.gate_snapshot(settings, now_ms(), ref_interval=ref_interval)
    elif venue == "paper":
        snap = stage.paper_snapshot(
            settings, now_ms(), state_path=state, candles=candles, perp=perp,
            ref_interval=ref_interval,
        )  # fmt: skip
    else:
        raise UsageError(f"--venue must be gate or paper, got {venue!r}")
    write_stdout(dump_json(snap))
