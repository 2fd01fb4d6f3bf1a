"""The cron wrapper: fetch -> plan -> execute under flock, dated log, non-zero exit on failure.

Runs the real script and the real btcn against the fake Binance server on 127.0.0.1.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fakes import FakeServer

SCRIPT = ROOT / "examples" / "cron" / "btcn-rebalance.sh"
BTCN = str(Path(sys.executable).parent / "btcn")

pytestmark = pytest.mark.skipif(shutil.which("flock") is None, reason="flock (util-linux) missing")


def run_wrapper(home: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BTCN_", "GATE_"))}
    env.update({"BTCN_HOME": str(home), "BTCN": BTCN, **env_extra})
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=180,
                          check=False)  # fmt: skip


@pytest.fixture
def binance() -> FakeServer:
    with FakeServer() as srv:
        yield srv


@pytest.mark.slow
def test_paper_dry_run_end_to_end(tmp_path: Path, binance: FakeServer) -> None:
    env = {"BTCN_BINANCE__BASE_URL": binance.binance_url, "BTCN_HISTORY_DAYS": "3"}
    res = run_wrapper(tmp_path, env)
    log = next((tmp_path / "logs").glob("rebalance-*.log")).read_text()
    assert res.returncode == 0, log
    assert "$ btcn fetch candles" in log and "$ btcn execute --dry-run" in log and "done:" in log
    reports = sorted((tmp_path / "plans").glob("*.report.json"))
    report = json.loads(reports[-1].read_text())
    assert report["kind"] == "execution_report" and report["dry_run"] is True
    assert (tmp_path / "data" / "spot_5m.parquet").stat().st_size > 0
    assert (tmp_path / "history" / "equity.parquet").is_file()  # the live history is kept
    # a second run resumes the candle file and appends to the same dated log
    res2 = run_wrapper(tmp_path, env)
    assert res2.returncode == 0
    assert (
        next((tmp_path / "logs").glob("rebalance-*.log"))
        .read_text()
        .count("rebalance: venue paper")
        == 2
    )


def test_an_overlapping_run_is_skipped(tmp_path: Path) -> None:
    lock = tmp_path / ".btcn-rebalance.lock"
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        res = run_wrapper(tmp_path, {})
    assert res.returncode == 75
    assert (
        "still running; this one is skipped" in next((tmp_path / "logs").glob("*.log")).read_text()
    )


def test_a_failing_step_fails_the_job(tmp_path: Path) -> None:
    # Binance unreachable: the fetch fails, the script stops there with btcn's exit code
    res = run_wrapper(
        tmp_path, {"BTCN_BINANCE__BASE_URL": "http://127.0.0.1:9", "BTCN_BINANCE__MAX_RETRIES": "0"}
    )
    log = next((tmp_path / "logs").glob("*.log")).read_text()
    assert res.returncode == 6, log
    assert "$ btcn plan" not in log


def test_live_needs_the_gate_venue(tmp_path: Path) -> None:
    res = run_wrapper(tmp_path, {"BTCN_MODE": "--live"})
    assert res.returncode == 2
    assert "--live needs BTCN_VENUE=gate" in next((tmp_path / "logs").glob("*.log")).read_text()
