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


class ProposalResult(Model):
    kpi: str
    severity: Severity
    setting: str
    current: str
    suggested: str
    change: str
    evidence: str


class AuditResult(Artifact):
    kind: Literal["audit"] = "audit"
    schema_version: Literal[1] = 1
    run: str
    run_path: str
    date: str  # the audit day (UTC), the key of the workbook rows
    created_at_ms: int
    drift: bool
    kpis: list[KpiResult]
    proposals: list[ProposalResult]
    log_path: str | None
