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

    def describe(self) -> str:
        return (
            f"{self.name} {fmt_kpi(self.name, self.actual)} vs target "
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


PCT_KPIS = frozenset({"max_drawdown", "fees_per_nav_per_day", "roi", "cagr"})


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


def _round_up(x: float, step: float) -> float:
    return math.ceil(x / step - 1e-9) * step


def _round_down(x: float, step: float) -> float:
    return math.floor(x / step + 1e-9) * step


def _num(x: Any, default: float) -> float:
    return float(x) if isinstance(x, int | float) and math.isfinite(float(x)) else default


def propose(c: KpiCheck, current: dict[str, Any], evidence: dict[str, Any]) -> Proposal:
    """One concrete, reviewable change for a drifted KPI, with the figures that justify it.

    ``current`` holds the settings in force for the run (``strategy.threshold_floor``,
    ``strategy.cooldown_ms``, ``guardrails.max_net_delta``); ``evidence`` the run's figures.
    """
    severity: Severity = "critical" if c.status == "breach" else "warning"
    ev = "; ".join(f"{k} {v}" for k, v in evidence.items())
    dev = f"{c.describe()}"
    if c.name == "fees_per_nav_per_day":
        floor = _num(current.get("strategy.threshold_floor"), 0.005)
        # Fees scale with the number of rebalances, which falls roughly in proportion to the
        # band width; widen the band by the overshoot, at most doubling it in one step.
        factor = min(2.0, max(1.1, c.actual / c.target))
        new = round(_round_up(floor * factor, 0.0005), 6)
        return Proposal(c.name, severity, "strategy.threshold_floor", f"{floor:g}", f"{new:g}",
                        f"{dev}: raise the threshold floor from {floor:g} to {new:g} so fewer "
                        "rebalances trade (fees scale with rebalance count)", ev)  # fmt: skip
    if c.name == "max_drawdown":
        mnd = _num(current.get("guardrails.max_net_delta"), 0.2)
        new = max(0.01, round(_round_down(mnd * c.target / c.actual, 0.01), 6))
        change = (
            f"{dev}: tighten the net-delta guardrail from {mnd:g} to {new:g} of NAV so the book "
            "cannot drift as far from neutral"
        )
        if c.status == "breach":
            change = (
                f"{dev}, beyond the hard limit {fmt_kpi(c.name, c.hard_limit or math.nan)}: stop "
                f"live trading and review; then tighten max_net_delta from {mnd:g} to {new:g}"
            )
        return Proposal(c.name, severity, "guardrails.max_net_delta", f"{mnd:g}", f"{new:g}",
                        change, ev)  # fmt: skip
    if c.name in ("sharpe_30d", "sharpe", "sortino"):
        cd_ms = int(_num(current.get("strategy.cooldown_ms"), 3_600_000))
        new_ms = cd_ms * 2
        from btcn.core.durations import format_duration_ms

        cur_s, new_s = format_duration_ms(cd_ms), format_duration_ms(new_ms)
        return Proposal(c.name, severity, "strategy.cooldown", cur_s, new_s,
                        f"{dev}: lengthen the cooldown from {cur_s} to {new_s}: fewer, larger "
                        "rebalances cut the fee drag that lowers risk-adjusted return", ev)  # fmt: skip
    return Proposal(c.name, severity, "(review)", "", "",
                    f"{dev}: no automatic suggestion for this KPI; review the strategy "
                    "settings or the target", ev)  # fmt: skip
