"""``audit``: the JSON the audit prints on stdout (and ``monitor alerts --audit`` reads back)."""

from __future__ import annotations

from typing import Literal

from btcn.contracts.base import Artifact, Model


class KpiResult(Model):
    name: str
    actual: float | None
    target: float
    better: Literal["higher", "lower"]
    deviation: float | None  # adverse relative deviation: positive = worse than target
    tolerance: float
    hard_limit: float | None
    status: Literal["ok", "better", "drift", "breach", "n/a"]


class ProposalResult(Model):
    kpi: str
    severity: Literal["warning", "critical"]
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
