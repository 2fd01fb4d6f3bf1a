"""``audit``: the JSON the audit prints on stdout (and ``monitor alerts --audit`` reads back)."""

from __future__ import annotations

from typing import Literal

from btcn.contracts.base import Artifact, Model

Better = Literal["higher", "lower"]  # which direction of a KPI is good
KpiStatus = Literal["ok", "better", "drift", "breach", "n/a"]
Severity = Literal["warning", "critical"]


class KpiResult(Model):
    name: str
    actual: float | None
    target: float
    better: Better
    deviation: float | None  # adverse relative deviation: positive = worse than target
    tolerance: float
    hard_limit: float | None
    status: KpiStatus
    # version 2: what the figure is, with its window ("Sharpe (30 days)", "Sharpe (run, 871 d)")
    label: str | None = None
    window_days: float | None = None


class ProposalResult(Model):
    kpi: str
    severity: Severity
    setting: str
    current: str
    suggested: str
    change: str
    evidence: str
    rule: str | None = None  # version 2: the row of the rule table (btcn.audit.rules)


class AuditResult(Artifact):
    kind: Literal["audit"] = "audit"
    # 2: carry KPIs, labels and windows of the KPIs, the rule of each proposal (1 is still read)
    schema_version: Literal[2] = 2
    run: str
    run_path: str
    date: str  # the audit day (UTC), the key of the workbook rows
    created_at_ms: int
    drift: bool
    kpis: list[KpiResult]
    proposals: list[ProposalResult]
    log_path: str | None
