"""``weights``, ``plan``, ``execute`` and ``schema``: the rebalance pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from btcn.cli.errors import handle_errors
from btcn.cli.options import ConfigOpt, StateOpt, load_settings

SCHEMA_KINDS = ("snapshot", "weights", "plan", "execution_report")


@handle_errors
def weights(
    snapshot: Annotated[
        str, typer.Option("--snapshot", "-s", help="Snapshot JSON file, or - for stdin.")
    ] = "-",
    config: ConfigOpt = None,
) -> None:
    """Print NAV, each leg's weight w = |size| * P / NAV, its target and drift, as `weights` JSON."""
    from btcn.cli.console import read_text_input, write_stdout
    from btcn.cli.render import weights_table
    from btcn.contracts import Snapshot, dump_json, parse_artifact
    from btcn.stages import weights as stage

    settings = load_settings(config)
    snap = parse_artifact(
        read_text_input(snapshot, "snapshot"), Snapshot, snapshot if snapshot != "-" else "stdin"
    )
    result = stage.run(snap, settings)
    write_stdout(dump_json(result))
    weights_table(result)


@handle_errors
def plan(
    snapshot: Annotated[
        str, typer.Option("--snapshot", "-s", help="Snapshot JSON file, or - for stdin.")
    ],
    candles: Annotated[
        list[str],
        typer.Option(
            "--candles",
            help="Binance spot candles for P_ref and ATR: a file, folder or glob (repeatable). "
            "Binance kline CSV (ms or µs), date,open,high,low,close,volume CSV, or Parquet.",
        ),
    ],
    signals: Annotated[
        Path | None, typer.Option("--signals", help="CSV timestamp,signal with BUY/SELL/HOLD.")
    ] = None,
    config: ConfigOpt = None,
    state: StateOpt = None,
) -> None:
    """Decide one rebalance and print it as `plan` JSON on stdout.

    Legs whose |w - target| exceeds thr = max(floor, 0.2 * ATR_24h / P_ref) are sized back to target,
    subject to the cooldown, signal gating and guardrails. Exit code 5 means a guardrail put the plan
    in safe mode (the plan is still printed: empty, or risk-reducing orders only).
    """
    from btcn.cli.console import read_text_input, write_stdout
    from btcn.cli.render import plan_table
    from btcn.contracts import Snapshot, dump_json, parse_artifact
    from btcn.data.candles import load_candles
    from btcn.data.signals import EMPTY_SIGNALS, load_signals
    from btcn.errors import ExitCode
    from btcn.stages import plan as stage

    settings = load_settings(config)
    snap = parse_artifact(
        read_text_input(snapshot, "snapshot"), Snapshot, snapshot if snapshot != "-" else "stdin"
    )
    bars = load_candles(candles, gaps="error")
    sigs = load_signals(signals) if signals is not None else EMPTY_SIGNALS
    state_path = state if state is not None else Path(settings.state.path)
    last = stage.read_last_rebalance(state_path, snap.venue)
    result = stage.run(stage.PlanRequest(snap, bars, settings, sigs, last))
    write_stdout(dump_json(result))
    plan_table(result)
    if result.safe_mode:
        raise typer.Exit(int(ExitCode.GUARDRAIL))


@handle_errors
def execute(
    plan_file: Annotated[
        str, typer.Argument(metavar="[PLAN]", help="Plan JSON file, or - for stdin.")
    ] = "-",
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Compute and report the fills; change nothing anywhere."),
    ] = False,
    live: Annotated[
        bool, typer.Option("--live", help="Send real orders to the plan's venue (needs API keys).")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Paper: execute even when the paper account does not hold "
            "the book the plan was made from.",
        ),
    ] = False,
    config: ConfigOpt = None,
    state: StateOpt = None,
) -> None:
    """Work a plan and print an `execution_report` JSON on stdout.

    Without --live nothing is sent anywhere: a paper plan is filled by the paper fill model
    (PostOnly at the limit, the rest as Market after the PostOnly window, with taker fee and
    slippage) against the paper account in the state store. The paper account must hold the book
    the plan was made from (the live reconcile rule and tolerance), else exit 3 unless --force:
    plan from `btcn fetch snapshot --venue paper`. Executing the same plan twice never trades
    twice. Exit code 7 means only part of the plan was filled.
    """
    from btcn.cli.console import read_text_input, write_stdout
    from btcn.cli.render import execution_table
    from btcn.contracts import Plan, dump_json, parse_artifact
    from btcn.errors import ExitCode, UsageError
    from btcn.runtime.clock import now_ms
    from btcn.stages import execute as stage

    if dry_run and live:
        raise UsageError("--dry-run and --live exclude each other")
    if force and live:
        raise UsageError("--force applies to paper execution only; a live account is always "
                         "reconciled")  # fmt: skip
    settings = load_settings(config)
    parsed = parse_artifact(
        read_text_input(plan_file, "plan"), Plan, plan_file if plan_file != "-" else "stdin"
    )
    report = stage.run(
        stage.ExecuteRequest(
            parsed, settings, now_ms(), dry_run=dry_run, live=live, state_path=state, force=force
        )
    )
    write_stdout(dump_json(report))
    execution_table(report)
    unfinished = ("partial", "failed")
    if report.status in unfinished or report.previous_status in unfinished:
        raise typer.Exit(int(ExitCode.PARTIAL))


@handle_errors
def schema(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(SCHEMA_KINDS)}.")],
) -> None:
    """Print the JSON Schema of a stage artefact, so other tools can produce and consume it."""
    import json

    from btcn.cli.console import write_stdout
    from btcn.contracts import ARTIFACTS
    from btcn.errors import UsageError

    if kind not in ARTIFACTS:
        raise UsageError(f"unknown kind {kind!r}; choose one of {', '.join(SCHEMA_KINDS)}")
    write_stdout(json.dumps(ARTIFACTS[kind].model_json_schema(), indent=2) + "\n")
