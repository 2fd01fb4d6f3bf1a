"""Compare KPIs with their targets and turn each drift into a concrete proposal (pure).

Deviation is relative to the target and signed so that **positive is worse**:
``(target - actual) / |target|`` when higher is better, ``(actual - target) / |target|`` when
lower is better. A KPI drifts when that adverse deviation exceeds the tolerance (5 % by
default). A deviation in the good direction is reported (status ``better``) but is not drift: the
audit exists to catch a strategy doing worse than planned. A KPI that cannot be computed (NaN,
e.g. a Sharpe over fewer than two days) is ``n/a``, not drift. Beyond a ``hard_limit`` the status
is ``breach`` and the proposal is critical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from btcn.audit.model import KpiStatus, Severity
from btcn.audit.rules import Facts, choose
from btcn.audit.targets import Target, Targets

Status = KpiStatus


@dataclass(frozen=True, slots=True)
class KpiCheck:
    name: str
    actual: float
    target: float
    better: str
    deviation: float  # adverse relative deviation (positive = worse than target); NaN if n/a
    tolerance: float
    hard_limit: float | None
    status: Status

    @property
    def drifted(self) -> bool:
        return self.status in ("drift", "breach")

    @property
    def label(self) -> str:
        """The KPI's name, with its window for a Sharpe: ``sharpe_30d [Sharpe (30 days)]``."""
        return f"{self.name} [{LABELS[self.name]}]" if self.name in LABELS else self.name

    def describe(self) -> str:
        return (
            f"{self.label} {fmt_kpi(self.name, self.actual)} vs target "
            f"{fmt_kpi(self.name, self.target)} ({self.deviation * 100:+.1f} % worse)"
        )


@dataclass(frozen=True, slots=True)
class Proposal:
    kpi: str
    severity: Severity
    setting: str
    current: str
    suggested: str
    change: str
    evidence: str
    rule: str = ""  # the row of the rule table that chose the change


PCT_KPIS = frozenset({"max_drawdown", "fees_per_nav_per_day", "roi", "cagr", "funding_apr_on_nav",
                      "net_apr_on_nav", "carry_capture", "fee_drag", "hedged_fraction"})  # fmt: skip
LABELS = {"sharpe_30d": "Sharpe (30 days)", "sharpe": "Sharpe (run)", "sortino": "Sortino (run)"}


def fmt_kpi(name: str, value: float) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if name == "fees_per_nav_per_day":
        return f"{value * 100:.4f} %"
    if name in PCT_KPIS:
        return f"{value * 100:.2f} %"
    return f"{value:.3f}"


def check(name: str, actual: float, target: Target, tolerance: float) -> KpiCheck:
    if actual is None or not math.isfinite(actual):
        return KpiCheck(name, math.nan, target.target, target.better, math.nan, tolerance,
                        target.hard_limit, "n/a")  # fmt: skip
    rel = (actual - target.target) / abs(target.target)
    adverse = -rel if target.better == "higher" else rel
    breach = target.hard_limit is not None and (
        actual > target.hard_limit if target.better == "lower" else actual < target.hard_limit
    )
    if breach:
        status: Status = "breach"
    elif adverse > tolerance:
        status = "drift"
    elif -adverse > tolerance:
        status = "better"
    else:
        status = "ok"
    return KpiCheck(name, actual, target.target, target.better, adverse, tolerance,
                    target.hard_limit, status)  # fmt: skip


def check_all(values: dict[str, float], targets: Targets, tolerance: float) -> list[KpiCheck]:
    tol = targets.tolerance if targets.tolerance is not None else tolerance
    return [check(name, values.get(name, math.nan), t, tol) for name, t in targets.kpis.items()]


def propose(c: KpiCheck, current: dict[str, Any], evidence: dict[str, Any],
            facts: Facts | None = None) -> Proposal:  # fmt: skip
    """One concrete, reviewable change for a drifted KPI, chosen by the rule table
    (:mod:`btcn.audit.rules`); its evidence starts with the figures the rule rests on.

    ``current`` holds the settings in force for the run (``strategy.threshold_floor``,
    ``strategy.cooldown_ms``, ``guardrails.max_net_delta``, ...); ``evidence`` the run's figures.
    """
    severity: Severity = "critical" if c.status == "breach" else "warning"
    rule, ch = choose(c, current, facts or Facts())
    general = "; ".join(f"{k} {v}" for k, v in evidence.items())
    ev = f"{rule}: {ch.evidence}" + (f" | {general}" if general else "")
    return Proposal(c.name, severity, ch.setting, ch.current, ch.suggested,
                    f"{c.describe()}: {ch.action}", ev, rule)  # fmt: skip
