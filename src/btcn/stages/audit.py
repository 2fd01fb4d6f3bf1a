"""``btcn audit``: KPIs of a run folder against targets; proposals; ``Log.xlsx``.

The KPIs come from :mod:`btcn.core.kpis` (the same functions the backtest summary uses) through
:meth:`RunFolder.kpis`; nothing here re-implements a KPI.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from btcn.audit.compare import KpiCheck, Proposal, check_all, propose
from btcn.audit.model import AuditResult, KpiResult, ProposalResult
from btcn.audit.rules import Facts
from btcn.audit.targets import load_targets
from btcn.audit.workbook import update_log
from btcn.core.durations import parse_duration_ms
from btcn.reports.runfolder import RunFolder
from btcn.runtime.settings import Settings


@dataclass(frozen=True)
class AuditRequest:
    run_dir: Path
    settings: Settings
    now_ms: int
    targets_path: Path | None = None
    log_path: Path | None = None
    tolerance: float | None = None


def _nan_to_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def kpi_values(rf: RunFolder) -> dict[str, float]:
    k = rf.kpis()
    c = rf.carry()
    return {
        "sharpe_30d": rf.sharpe_30d(),
        "sharpe": k.sharpe,
        "sortino": k.sortino,
        "max_drawdown": k.max_drawdown,
        "fees_per_nav_per_day": k.fees_per_nav_per_day,
        "roi": k.roi,
        "cagr": k.cagr,
        "funding_apr_on_nav": c.funding_apr_on_nav,
        "net_apr_on_nav": c.net_apr_on_nav,
        "hedged_fraction": c.hedged_fraction,
        "carry_capture": c.carry_capture,
        "fee_drag": c.fee_drag,
    }


def kpi_labels(rf: RunFolder) -> dict[str, tuple[str, float]]:
    """Label and window (days) of the KPIs that have one: every Sharpe says which window it is."""
    days = rf.kpis().days
    window = min(30.0, days)
    return {
        "sharpe_30d": (f"Sharpe (last {window:.0f} days)", window),
        "sharpe": (f"Sharpe (run, {days:.0f} days)", days),
        "sortino": (f"Sortino (run, {days:.0f} days)", days),
    }


def _count(text: object) -> int:
    """summary.csv's ``rebalances``; 0 when missing or not a number (a damaged summary)."""
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
    return int(value) if math.isfinite(value) else 0


def facts(rf: RunFolder) -> Facts:
    """The figures the rule table reads (btcn.audit.rules)."""
    k, c, tr = rf.kpis(), rf.carry(), rf.trades
    targets = rf.meta.get("targets")
    short = float(targets[2]) if isinstance(targets, list) and len(targets) == 3 else math.nan
    rebalances = rf.summary.get("rebalances") if rf.summary else None
    return Facts(
        days=k.days,
        orders=len(tr),
        blocked_orders=len(rf.meta.get("blocked_trades") or []),
        taker_share=float((tr["liquidity"] != "maker").mean()) if len(tr) else math.nan,
        rebalances=_count(rebalances),
        funding_usdt=k.funding_usdt,
        fees_usdt=k.fees_usdt,
        price_pnl_usdt=c.price_pnl_usdt,
        basis_pnl_usdt=c.basis_pnl_usdt,
        funding_rate_apr=c.funding_rate_apr,
        hedged_fraction=c.hedged_fraction,
        short_target=short,
    )


def current_settings(rf: RunFolder, settings: Settings) -> dict[str, Any]:
    """The settings the run used (from run.json), else the ones in force now."""
    floor = rf.config_value("strategy", "threshold_floor")
    cooldown = rf.config_value("strategy", "cooldown")
    mnd = rf.config_value("guardrails", "max_net_delta")
    mdd = rf.config_value("strategy", "max_delta_drift")
    age = rf.config_value("strategy", "signal_max_age")
    try:
        cooldown_ms = parse_duration_ms(cooldown) if isinstance(cooldown, str) else None
    except ValueError:
        cooldown_ms = None
    return {
        "strategy.threshold_floor": floor
        if floor is not None
        else settings.strategy.threshold_floor,
        "strategy.cooldown_ms": cooldown_ms or settings.strategy.cooldown_ms,
        "guardrails.max_net_delta": mnd if mnd is not None else settings.guardrails.max_net_delta,
        "strategy.max_delta_drift": mdd if mdd is not None else settings.strategy.max_delta_drift,
        "strategy.signal_max_age_ms": _duration(age) or settings.strategy.signal_max_age_ms,
    }


def _duration(value: Any) -> int | None:
    try:
        return parse_duration_ms(value) if isinstance(value, str) else None
    except ValueError:
        return None


def evidence(rf: RunFolder) -> dict[str, str]:
    k = rf.kpis()
    eq, tr = rf.equity, rf.trades
    ev = {
        "period": f"{k.days:.1f} days",
        "fees": f"{k.fees_usdt:,.2f} USDT",
        "mean NAV": f"{float(np.mean(rf.nav)):,.2f} USDT",
        "trades": str(len(tr)),
    }
    if len(tr):
        ev["taker share"] = f"{float((tr['liquidity'] != 'maker').mean()) * 100:.0f} %"
    if rf.summary and rf.summary.get("rebalances"):
        ev["rebalances"] = rf.summary["rebalances"]
    ev["funding"] = f"{k.funding_usdt:,.2f} USDT"
    ev["max |net delta|"] = f"{float(eq['net_delta_pct_nav'].abs().max()):.4f} % of NAV"
    trough = int(np.argmax(eq["drawdown"].to_numpy()))
    ev["deepest drawdown at"] = dt.datetime.fromtimestamp(
        int(rf.ts_ms[trough]) / 1000, tz=dt.UTC
    ).strftime("%Y-%m-%d %H:%M UTC")
    return ev


def run(req: AuditRequest) -> tuple[AuditResult, list[KpiCheck], list[Proposal]]:
    rf = RunFolder.load(req.run_dir)
    audit_cfg = req.settings.audit
    targets_path = req.targets_path or (Path(audit_cfg.targets) if audit_cfg.targets else None)
    targets = load_targets(targets_path)
    tolerance = req.tolerance if req.tolerance is not None else audit_cfg.tolerance
    if req.tolerance is not None:
        targets = targets.model_copy(update={"tolerance": None})  # the command line wins
    values = kpi_values(rf)
    checks = check_all(values, targets, tolerance)
    cur, ev = current_settings(rf, req.settings), evidence(rf)
    run_facts = facts(rf)
    proposals = [propose(c, cur, ev, run_facts) for c in checks if c.drifted]
    labels = kpi_labels(rf)
    day = dt.datetime.fromtimestamp(req.now_ms / 1000, tz=dt.UTC).date()
    k = rf.kpis()
    drift_count = sum(c.drifted for c in checks)
    status = (
        "breach" if any(c.status == "breach" for c in checks) else "drift" if drift_count else "ok"
    )
    as_of = dt.datetime.fromtimestamp(rf.end_ms / 1000, tz=dt.UTC).replace(tzinfo=None)
    kpi_row = [
        day, rf.label, as_of, k.days, k.nav_end, k.roi, values["sharpe"], values["sharpe_30d"],
        values["sortino"], values["max_drawdown"], k.fees_usdt, values["fees_per_nav_per_day"],
        k.funding_usdt, drift_count, status,
    ]  # fmt: skip
    by_name = {c.name: c for c in checks}
    proposal_rows = [
        [
            day,
            rf.label,
            p.kpi,
            by_name[p.kpi].actual,
            by_name[p.kpi].target,
            by_name[p.kpi].better,
            by_name[p.kpi].deviation,
            by_name[p.kpi].tolerance,
            p.severity,
            p.setting,
            p.current,
            p.suggested,
            p.change,
            p.evidence,
        ]
        for p in proposals
    ]
    log_path = req.log_path if req.log_path is not None else Path(audit_cfg.log_path)
    if str(log_path) != "-":
        update_log(log_path, day, rf.label, [kpi_row], proposal_rows)
    result = AuditResult(
        as_of_ms=rf.end_ms,
        run=rf.label,
        run_path=str(rf.path),
        date=day.isoformat(),
        created_at_ms=req.now_ms,
        drift=drift_count > 0,
        kpis=[
            KpiResult(
                name=c.name,
                actual=_nan_to_none(c.actual),
                target=c.target,
                better=c.better,  # type: ignore[arg-type]
                deviation=_nan_to_none(c.deviation),
                tolerance=c.tolerance,
                hard_limit=c.hard_limit,
                status=c.status,
                label=labels.get(c.name, (None, None))[0],
                window_days=labels.get(c.name, (None, None))[1],
            )
            for c in checks
        ],
        proposals=[ProposalResult(**asdict(p)) for p in proposals],
        log_path=None if str(log_path) == "-" else str(log_path),
    )
    return result, checks, proposals
