"""``audit``, ``report``, ``monitor push`` and ``monitor alerts``: operating a running strategy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from btcn.cli.errors import handle_errors
from btcn.cli.options import ConfigOpt, StateOpt, load_settings

RunOpt = Annotated[
    Path,
    typer.Option("--run", "-r", help="Run folder: the --out folder of `btcn backtest`."),
]

monitor_app = typer.Typer(
    name="monitor",
    help="Push metrics to InfluxDB and send Telegram alerts.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _http_client(settings, timeout_ms: int):
    from btcn.runtime.netguard import http_client

    return http_client(
        test_mode=settings.network.test_mode,
        allowlist=settings.network.allowlist,
        timeout_s=timeout_ms / 1000,
    )


def _notifier(settings, client):
    from btcn.monitoring.telegram import notifier_from_settings

    return notifier_from_settings(settings, client)


@handle_errors
def audit(
    run: RunOpt,
    log: Annotated[
        Path | None,
        typer.Option("--log", help="Workbook to update (default [audit] log_path; - for none)."),
    ] = None,
    targets: Annotated[
        Path | None,
        typer.Option(
            "--targets", help="Targets TOML (default [audit] targets, else the roadmap's)."
        ),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option("--tolerance", min=0.0, help="Relative deviation counted as drift (0.05)."),
    ] = None,
    notify: Annotated[
        bool, typer.Option("--notify", help="Send the audit-drift alert through [telegram].")
    ] = False,
    config: ConfigOpt = None,
    state: StateOpt = None,
) -> None:
    """Compare a run's KPIs with their targets; log them and any proposals to Log.xlsx.

    KPIs (Sharpe 30 d, max drawdown, fees per NAV per day, ...) come from the same functions as
    the backtest summary. A KPI more than the tolerance worse than its target is drift: a proposal
    (setting, current value, suggested value, evidence) goes to the Proposals sheet. Re-running
    on the same day replaces that day's rows. Prints an `audit` JSON on stdout. Exit code 8 means
    drift was found.
    """
    from btcn.cli.console import write_stdout
    from btcn.cli.render_ops import audit_table
    from btcn.contracts import dump_json
    from btcn.errors import ExitCode
    from btcn.runtime.clock import now_ms
    from btcn.stages import audit as stage

    settings = load_settings(config)
    now = now_ms()
    result, checks, proposals = stage.run(
        stage.AuditRequest(run, settings, now, targets, log, tolerance)
    )
    write_stdout(dump_json(result))
    audit_table(result.run, checks, proposals)
    if notify:
        from btcn.monitoring.alerts import audit_condition

        drifts = [c.describe() for c in checks if c.drifted]
        _send_alerts(settings, state, [audit_condition(drifts)], now)
    if result.drift:
        raise typer.Exit(int(ExitCode.DRIFT))


@handle_errors
def report(
    run: RunOpt,
    day: Annotated[
        str | None,
        typer.Option("--day", help="UTC day of the digest, YYYY-MM-DD (default: the last day)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Where digest-DAY.md/.json go (default: the run folder)."),
    ] = None,
    telegram: Annotated[
        bool, typer.Option("--telegram", help="Also send the digest through [telegram].")
    ] = False,
    snapshot: Annotated[
        str | None,
        typer.Option("--snapshot", "-s", help="Live history: add this snapshot to --run first."),
    ] = None,
    execution: Annotated[
        str | None,
        typer.Option("--execution", help="Live history: add this execution report's fills first."),
    ] = None,
    config: ConfigOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Start a live history in a non-empty folder btcn did not write, or write "
            "digests into an --out-dir that holds other files.",
        ),
    ] = False,
) -> None:
    """Complete a run folder's reports and write the daily digest.

    Regenerates summary.csv, equity.html and blocked_trades_log.csv if missing (with the
    backtest's writers), then writes digest-DAY.md and digest-DAY.json: ROI, turnover, the three
    most costly trades (fee + slippage), funding received, current delta and margin usage. The
    digest JSON goes to stdout, a table to stderr.

    With --snapshot and/or --execution, --run is a live history that report keeps: the snapshot
    becomes an equity point, the report's fills become trades (each plan once), and every file of
    the folder is rewritten, so audit, report and monitor read live trading like a backtest.
    """
    import datetime as dt

    from btcn.cli.console import write_stdout
    from btcn.cli.render_ops import digest_table
    from btcn.errors import UsageError
    from btcn.stages import report as stage

    settings = load_settings(config)
    parsed_day = None
    if day is not None:
        try:
            parsed_day = dt.date.fromisoformat(day)
        except ValueError:
            raise UsageError(f"--day must be YYYY-MM-DD, got {day!r}") from None
    from btcn.cli.console import read_text_input
    from btcn.contracts import ExecutionReport, Snapshot, parse_artifact

    snap = (
        None
        if snapshot is None
        else parse_artifact(read_text_input(snapshot, "snapshot"), Snapshot, snapshot)
    )
    rep = (
        None
        if execution is None
        else parse_artifact(
            read_text_input(execution, "execution report"), ExecutionReport, execution
        )
    )
    result = stage.run(stage.ReportRequest(run, parsed_day, out_dir, snapshot=snap, execution=rep,
                                           settings=settings, force=force))  # fmt: skip
    write_stdout(result.json_text)
    digest_table(result.digest)
    if telegram:
        from btcn.reports.digest import to_telegram_html

        with _http_client(settings, settings.telegram.timeout_ms) as client:
            _notifier(settings, client).send(to_telegram_html(result.digest))


@monitor_app.command("push")
@handle_errors
def push(
    run: Annotated[
        Path | None, typer.Option("--run", "-r", help="Run folder whose equity series to push.")
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option("--snapshot", "-s", help="Snapshot JSON: push one live point.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only bars closing less than this duration before the run's end, "
            "e.g. 2d (default: all bars).",
        ),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Extra tag KEY=VALUE (repeatable).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the line protocol on stdout; send nothing.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Write NAV, net delta, Sharpe (30 d), Basis_Gate, funding rate, used margin and the
    liquidation price and distance to InfluxDB.

    Uses the HTTP line protocol: 1.x /write or 2.x /api/v2/write per [influx] api, in batches of
    [influx] batch_size lines, retrying transient failures. Timestamps are bar close times in ms.
    Prints a JSON summary (points, requests) on stdout.
    """
    import json

    from btcn.cli.console import write_stdout
    from btcn.core.durations import parse_duration_ms
    from btcn.errors import InvalidInputError, UsageError
    from btcn.monitoring.influx import InfluxTarget, InfluxWriter, to_line
    from btcn.monitoring.retry import service_policy
    from btcn.runtime.secrets import get_secret
    from btcn.runtime.watchdog import from_settings
    from btcn.stages import monitor as stage

    if run is None and snapshot is None:
        raise UsageError("give --run DIR and/or --snapshot FILE")
    settings = load_settings(config)
    inf = settings.influx
    tags: dict[str, str] = {}
    for item in tag or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UsageError(f"--tag must be KEY=VALUE, got {item!r}")
        tags[key] = value
    points = []
    try:
        if run is not None:
            from btcn.reports.runfolder import RunFolder

            rf = RunFolder.load(run)
            since_ms = None
            if since is not None:
                try:
                    since_ms = rf.end_ms - parse_duration_ms(since)
                except ValueError as exc:
                    raise UsageError(f"--since: {exc}") from None
            points.extend(
                stage.points_from_run(rf, inf.measurement, {"source": rf.label, **tags}, since_ms)
            )
        if snapshot is not None:
            from btcn.cli.console import read_text_input
            from btcn.contracts import Snapshot, parse_artifact

            snap = parse_artifact(read_text_input(str(snapshot), "snapshot"), Snapshot,
                                  str(snapshot))  # fmt: skip
            points.extend(stage.points_from_snapshot(snap, settings, inf.measurement, tags))
        if dry_run:
            lines = [line for p in points if (line := to_line(p)) is not None]
            write_stdout("".join(line + "\n" for line in lines))
            return
    except ValueError as exc:  # a tag or name that line protocol cannot carry
        raise InvalidInputError(str(exc)) from None
    secret = get_secret(inf.token_secret, required=inf.api == "v2")
    target = InfluxTarget(
        url=inf.url, api=inf.api, database=inf.database, retention_policy=inf.retention_policy,
        username=inf.username, org=inf.org, bucket=inf.bucket,
        secret=secret.get_secret_value() if secret else None,
    )  # fmt: skip
    watchdog = from_settings(settings, "monitor push")
    with _http_client(settings, inf.timeout_ms) as client:
        writer = InfluxWriter(
            target, client, batch_size=inf.batch_size, policy=service_policy(retries=inf.retries),
            checkpoint=watchdog.checkpoint,
        )  # fmt: skip
        stats = writer.write(points)
    summary = {
        "kind": "influx_push",
        "api": inf.api,
        "points": stats.points,
        "skipped": stats.skipped,
        "requests": stats.requests,
        "bytes": stats.lines_bytes,
    }
    write_stdout(json.dumps(summary) + "\n")


def _send_alerts(settings, state: Path | None, conditions, now: int):
    from btcn.runtime.state import StateStore
    from btcn.stages import monitor as stage

    state_path = state if state is not None else Path(settings.state.path)
    al = settings.alerts
    with StateStore(state_path) as store:
        if settings.telegram.enabled:
            with _http_client(settings, settings.telegram.timeout_ms) as client:
                return stage.evaluate_alerts(
                    conditions, store=store, sender=_notifier(settings, client), now_ms=now,
                    cooldown_ms=al.cooldown_ms, send_recovery=al.send_recovery,
                ), True  # fmt: skip
        return stage.evaluate_alerts(
            conditions, store=store, sender=None, now_ms=now, cooldown_ms=al.cooldown_ms,
            send_recovery=al.send_recovery,
        ), False  # fmt: skip


@monitor_app.command("alerts")
@handle_errors
def alerts(
    run: Annotated[
        Path | None,
        typer.Option(
            "--run", "-r", help="Run folder: used-margin, liquidation and funding conditions."
        ),
    ] = None,
    plan: Annotated[
        Path | None, typer.Option("--plan", help="Plan JSON: circuit breaker (safe mode).")
    ] = None,
    execution: Annotated[
        Path | None, typer.Option("--execution", help="Execution report JSON: partial/failed.")
    ] = None,
    audit_file: Annotated[
        Path | None, typer.Option("--audit", help="Audit JSON (`btcn audit` stdout): drift.")
    ] = None,
    funding: Annotated[
        Path | None, typer.Option("--funding", help="Funding history file: latest rate.")
    ] = None,
    config: ConfigOpt = None,
    state: StateOpt = None,
) -> None:
    """Evaluate alert conditions and send changes to Telegram, de-duplicated across runs.

    Conditions: circuit breaker tripped (--plan in safe mode), |funding| above [alerts]
    funding_bps_8h per 8 h (--funding, else the run's last funding event), used margin above
    [alerts] margin_used_pct_nav of NAV (--run), liquidation distance below [alerts]
    liquidation_distance_below (--run), audit drift (--audit), execution partial or failed
    (--execution). A condition fires once, is repeated at most once per [alerts] cooldown
    while it lasts, and sends a recovery message when it clears. Conditions without an input are
    left as they were. Without [telegram] chat_id the messages only go to stdout.
    """
    import json

    from btcn.cli.console import read_text_input, write_stdout
    from btcn.cli.render_ops import alerts_table
    from btcn.errors import UsageError
    from btcn.runtime.clock import now_ms
    from btcn.stages import monitor as stage

    if not any((run, plan, execution, audit_file, funding)):
        raise UsageError("give at least one of --run, --plan, --execution, --audit, --funding")
    settings = load_settings(config)
    al = settings.alerts
    conditions = []
    if plan is not None:
        conditions.append(stage.plan_condition(read_text_input(str(plan), "plan"), str(plan)))
    if funding is not None:
        cond = stage.funding_condition_from_file(funding, al.funding_bps_8h)
        if cond is not None:
            conditions.append(cond)
    if run is not None:
        from btcn.reports.runfolder import RunFolder

        rf = RunFolder.load(run)
        conditions.append(stage.margin_condition_from_run(rf, al.margin_used_pct_nav))
        cond = stage.liquidation_condition_from_run(rf, al.liquidation_distance_below)
        if cond is not None:
            conditions.append(cond)
        if funding is None:
            cond = stage.funding_condition_from_run(rf, al.funding_bps_8h)
            if cond is not None:
                conditions.append(cond)
    if audit_file is not None:
        conditions.append(
            stage.audit_condition(read_text_input(str(audit_file), "audit"), str(audit_file))
        )
    if execution is not None:
        conditions.append(
            stage.execution_condition(
                read_text_input(str(execution), "execution report"), str(execution)
            )
        )
    now = now_ms()
    result, delivered = _send_alerts(settings, state, conditions, now)
    write_stdout(json.dumps(stage.alert_run_json(result, now, delivered), indent=2) + "\n")
    alerts_table(result)
