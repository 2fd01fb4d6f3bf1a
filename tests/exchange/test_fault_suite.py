"""A short run of ``benchmarks/fault_suite.py`` inside pytest: real ``btcn execute --live``
subprocesses killed with SIGKILL at random (seeded) points, then resumed.

The benchmark script runs the full 75+ trials (transfers, realise orders and legging cases
included); this keeps the default test run fast.
"""

from __future__ import annotations

import pytest

from benchmarks.fault_suite import run_suite, signal_exit_ok
from tests import secret_scan


@pytest.mark.slow
def test_kill_9_at_random_points_never_duplicates_or_loses_fills() -> None:
    summary = run_suite(trials=10, seed=4242, quiet=True)
    for trial in summary["results"]:  # type: ignore[attr-defined]
        for text in trial.outputs:
            secret_scan.record(f"fault suite trial {trial.index}", text)
    assert summary["killed_before_exit"] >= 4
    assert summary["duplicate_orders"] == 0
    assert summary["lost_fills"] == 0
    # the property: in every trial the report's fills, summed per leg, are the venue's
    assert summary["report_fills_eq_venue"] == summary["trials"]
    assert summary["compensating_opens_zero_target"] == 0
    assert summary["double_transfers"] == 0 and summary["lost_transfers"] == 0
    assert summary["net_delta_within_drift_or_reported"] == summary["trials"]
    assert summary["inconsistent"] == 0, [
        (t.index, t.scenario, t.status)
        for t in summary["results"]  # type: ignore[attr-defined]
        if not (t.positions_ok or t.partial_reported)
    ]


@pytest.mark.slow
def test_sigterm_and_sigint_stop_cleanly_and_a_rerun_finishes_the_plan() -> None:
    summary = run_suite(trials=4, seed=77, quiet=True, signals=("term", "int"))
    for trial in summary["results"]:  # type: ignore[attr-defined]
        for text in trial.outputs:
            secret_scan.record(f"fault suite signal trial {trial.index}", text)
    stopped = [t for t in summary["results"] if t.killed]  # type: ignore[attr-defined]
    assert len(stopped) >= 2
    # a signal stops the executor through its exception path: 143 for SIGTERM, 130 for SIGINT
    for t in stopped:
        assert signal_exit_ok(t), (t.signal_name, t.signal_exit, t.kill_point)
    assert summary["duplicate_orders"] == 0 and summary["lost_fills"] == 0
    assert summary["inconsistent"] == 0
