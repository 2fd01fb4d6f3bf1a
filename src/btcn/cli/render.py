"""Human-readable tables on stderr (never on stdout)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from btcn.cli.console import err_console, plain, styled
from btcn.cli.context import STATE

if TYPE_CHECKING:
    from rich.text import Text

    from btcn.contracts import ExecutionReport, LiquidationInfo, Plan, Weights


_MS_TEXT = re.compile(r"^(-?\d+) ms$")
_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000))


def human_duration_ms(ms: int) -> str:
    """``215d``, ``3h 25m``, ``12.5s``, ``250ms``: at most two units, for people (JSON keeps ms)."""
    sign, ms = ("-", -ms) if ms < 0 else ("", ms)
    if ms < 1000:
        return f"{sign}{ms}ms"
    if ms < 60_000:
        return f"{sign}{ms / 1000:g}s"
    parts = []
    rest = ms
    for unit, size in _UNITS:
        if rest >= size and len(parts) < 2:
            parts.append(f"{rest // size}{unit}")
            rest %= size
        elif parts:
            break
    return sign + " ".join(parts)


def human_ms(text: str) -> str:
    """A guardrail figure such as ``"18576000000 ms"`` as a duration; other figures unchanged."""
    m = _MS_TEXT.match(text.strip())
    return human_duration_ms(int(m.group(1))) if m else text


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{x * 100:+.3f}%"  # noqa: PLR0124 - NaN check


def weights_table(weights: Weights) -> None:
    if STATE.quiet:
        return
    from btcn.cli.console import table as Table

    table = Table(title=f"NAV {weights.nav_usdt:.2f} USDT", title_justify="left")
    for col in ("leg", "qty BTC", "notional USDT", "weight", "target", "drift"):
        table.add_column(col, justify="right" if col != "leg" else "left")
    for leg in weights.legs:
        table.add_row(
            leg.leg, f"{leg.qty_btc:.6f}", f"{leg.notional_usdt:.2f}", _pct(leg.weight),
            _pct(leg.target), _pct(leg.drift),
        )  # fmt: skip
    err_console().print(table)
    err_console().print(
        f"net delta {weights.net_delta_btc:.6f} BTC ({weights.net_delta_pct_nav:+.3f}% of NAV)"
    )
    liquidation_table(weights.liquidation)


def _distance(d: float | None) -> str | Text:
    if d is None or d != d:  # noqa: PLR0124 - NaN check
        return "n/a"
    return plain("past", "bold red") if d < 0 else f"{d * 100:.1f}%"


def _price(p: object | None) -> str:
    return "-" if p is None else f"{p:,.1f}"


def liquidation_table(infos: list[LiquidationInfo], title: str = "liquidation") -> None:
    """btcn's liquidation estimate of each open perp side beside Gate's own figure (stderr)."""
    if STATE.quiet:
        return
    rows = [i for i in infos if i.size_contracts > 0]
    console = err_console()
    if not rows:
        console.print(f"{title}: no perp position")
        return
    from btcn.cli.console import table as Table

    mode = rows[0].margin_mode
    table = Table(title=f"{title} ({mode} margin, mark {rows[0].mark_usdt:,.1f})",
                  title_justify="left")  # fmt: skip
    for col in ("leg", "contracts", "liq price (btcn)", "distance", "liq price (Gate)"):
        table.add_column(col, justify="left" if col == "leg" else "right")
    for i in rows:
        table.add_row(
            i.leg, f"{i.size_contracts}", _price(i.liq_price_usdt), _distance(i.distance),
            _price(i.venue_liq_price_usdt),
        )  # fmt: skip
    console.print(table)


def plan_table(plan: Plan) -> None:
    if STATE.quiet:
        return
    from btcn.cli.console import table as Table

    console = err_console()
    thr = plan.threshold
    console.print(styled(
        "[bold]plan[/] {}", f"{plan.status}  NAV {plan.nav_usdt:.2f} USDT  thr "
        f"{thr.thr * 100:.3f}% ({thr.source}; {thr.note})  signal {plan.signal.value}"))  # fmt: skip
    table = Table(show_edge=False)
    for col in ("leg", "weight", "target", "drift", "order"):
        table.add_column(col, justify="left" if col in ("leg", "order") else "right")
    orders: dict[str, str | Text] = {
        o.leg: f"{o.action} {o.qty_venue} {o.venue_unit} @ {o.limit_price_usdt}"
        for o in plan.orders
    }
    for b in plan.blocked:
        orders[b.leg] = styled("[yellow]blocked[/] {}", f"{b.action} {b.qty_btc} BTC ({b.rule})")
    for d in plan.dropped:
        orders.setdefault(d.leg, plain(f"dropped {d.action}: {d.reason}", "dim"))
    for w in plan.weights:
        table.add_row(w.leg, _pct(w.weight), _pct(w.target), _pct(w.drift), orders.get(w.leg, ""))
    console.print(table)
    for g in plan.guardrails:
        if not g.ok:
            console.print(styled("[bold yellow]guardrail {}[/]: {}", g.name,
                                 f"{g.detail} ({human_ms(g.value)} vs limit {human_ms(g.limit)}; "
                                 f"{g.effect})"))  # fmt: skip
    cd = plan.cooldown
    from btcn.data.timeparse import iso_utc

    if cd.active and cd.next_allowed_ms is not None:
        console.print(f"cooldown active until {iso_utc(cd.next_allowed_ms)} "
                      f"({human_duration_ms(cd.next_allowed_ms - plan.as_of_ms)} after the plan)")  # fmt: skip
    if plan.liquidation:  # version 1 plans (upgraded) carry none
        liquidation_table(plan.liquidation)


def execution_table(report: ExecutionReport) -> None:
    if STATE.quiet:
        return
    from btcn.cli.console import table as Table

    console = err_console()
    dry = " (dry run)" if report.dry_run else ""
    console.print(
        styled("[bold]execution[/] {}", f"{report.status} on {report.venue}{dry}: {report.note}")
    )
    if not report.orders:
        return
    table = Table(show_edge=False)
    for col in (
        "leg",
        "action",
        "purpose",
        "requested",
        "filled",
        "avg price",
        "fee USDT",
        "liquidity",
        "status",
    ):
        table.add_column(col)
    for o in report.orders:
        table.add_row(
            o.leg, o.action, o.purpose, str(o.requested_qty_venue), str(o.filled_qty_venue),
            f"{o.avg_price_usdt:.2f}" if o.avg_price_usdt is not None else "-",
            f"{o.fee_usdt:.4f}", o.liquidity, o.status,
        )  # fmt: skip
    console.print(table)


def summary_table(summary: dict, meta: dict, out: object) -> None:
    from btcn.cli.console import table as Table

    t = Table(
        title=f"backtest {summary['start']} → {summary['end']} ({summary['bars']} bars)",
        title_justify="left",
    )
    t.add_column("metric")
    t.add_column("value", justify="right")
    # fractions in the file, percent in the table
    pct = {"roi", "cagr", "max_drawdown", "fees_per_nav_per_day", "min_liq_distance",
           "max_abs_net_delta_nav", "funding_apr_on_nav", "net_apr_on_nav", "funding_rate_apr",
           "hedged_fraction", "carry_capture", "fee_drag"}  # fmt: skip
    for key, value in summary.items():
        if key in ("start", "end", "bars"):
            continue
        if isinstance(value, float):
            text = "n/a" if value != value else (f"{value:.4%}" if key in pct else f"{value:,.4f}")  # noqa: PLR0124
        else:
            text = str(value)
        t.add_row(key, text)
    console = err_console()
    console.print(t)
    if meta.get("liquidations"):
        console.print(styled("[bold red]{} liquidation event(s)[/] (see run.json)",
                             len(meta["liquidations"])))  # fmt: skip
    console.print(f"files written to {out}")
