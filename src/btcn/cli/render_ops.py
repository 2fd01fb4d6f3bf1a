"""Tables on stderr for ``audit``, ``report`` and ``monitor`` (never on stdout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from btcn.cli.console import err_console, plain, styled
from btcn.cli.context import STATE

if TYPE_CHECKING:
    from btcn.audit.compare import KpiCheck, Proposal
    from btcn.reports.digest import Digest
    from btcn.stages.monitor import AlertRun

STATUS_STYLE = {"ok": "green", "better": "green", "drift": "yellow", "breach": "bold red",
                "n/a": "dim"}  # fmt: skip


def audit_table(run: str, checks: list[KpiCheck], proposals: list[Proposal]) -> None:
    if STATE.quiet:
        return
    from btcn.audit.compare import fmt_kpi
    from btcn.cli.console import table as Table

    table = Table(title=f"audit of {run}", title_justify="left")
    for col in ("KPI", "actual", "target", "better", "deviation", "status"):
        table.add_column(col, justify="left" if col in ("KPI", "better", "status") else "right")
    for c in checks:
        dev = "n/a" if c.deviation != c.deviation else f"{c.deviation * 100:+.1f} %"
        style = STATUS_STYLE[c.status]
        table.add_row(c.label, fmt_kpi(c.name, c.actual), fmt_kpi(c.name, c.target), c.better,
                      dev, plain(c.status, style))  # fmt: skip
    console = err_console()
    console.print(table)
    for p in proposals:
        console.print(styled("[bold]proposal[/] {}", f"({p.severity}) {p.setting}: {p.change}"))


def digest_table(d: Digest) -> None:
    if STATE.quiet:
        return
    from btcn.cli.console import table as Table
    from btcn.reports.digest import TRADE_HEADERS, rows, trade_rows

    console = err_console()
    table = Table(title=f"digest {d.run} {d.day} (UTC)", title_justify="left")
    table.add_column("figure")
    table.add_column("day", justify="right")
    table.add_column("run to date", justify="right")
    for a, b, c in rows(d):
        table.add_row(a, b, c)
    console.print(table)
    if d.top_costly_trades:
        trades = Table(title="most costly trades of the day (fee + slippage)", title_justify="left")
        for h in TRADE_HEADERS:
            trades.add_column(h)
        for r in trade_rows(d):
            trades.add_row(*r)
        console.print(trades)


def alerts_table(run: AlertRun) -> None:
    if STATE.quiet:
        return
    from btcn.cli.console import table as Table

    table = Table(title="alerts", title_justify="left")
    for col in ("alert", "state", "sent", "detail"):
        table.add_column(col)
    for o in run.outcomes:
        state = plain("active", "red") if o.active else plain("clear", "green")
        table.add_row(o.key, state, o.sent or "-", o.detail)
    err_console().print(table)
