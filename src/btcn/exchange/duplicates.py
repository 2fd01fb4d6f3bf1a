"""The answer to a plan that was executed before, on any venue: nothing is traded again."""

from __future__ import annotations

from btcn.contracts import ExecutionReport, Plan, parse_artifact
from btcn.data.timeparse import iso_utc


def already_executed_report(
    plan: Plan, digest: str, previous_report_json: str, now_ms: int, *, venue: str, live: bool
) -> ExecutionReport:
    """Report for a re-run of an executed plan: the first run's orders marked
    ``skipped_duplicate`` and its status kept in ``previous_status`` (so a re-run of a partial
    plan still exits with the partial code)."""
    first = parse_artifact(previous_report_json, ExecutionReport, "state store")
    return ExecutionReport(
        as_of_ms=now_ms,
        venue=venue,
        plan_digest=digest,
        plan_as_of_ms=plan.as_of_ms,
        dry_run=False,
        live=live,
        status="already_executed",
        previous_status=first.status,
        rebalance_recorded=False,
        orders=[o.model_copy(update={"status": "skipped_duplicate"}) for o in first.orders],
        note=f"plan {digest[:12]} was already executed at {iso_utc(first.as_of_ms)} ({first.status}); "
        "nothing was traded again",
    )
