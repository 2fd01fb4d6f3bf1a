"""Real processes, real signals: SIGINT and SIGTERM at random (seeded) points of a backtest, a
sweep and a report never leave temporary files or a folder mixing old and new files.

Each trial starts from a complete previous output (written with other settings), runs the real
``btcn`` command in a subprocess and signals it after a random delay. Afterwards the exit code is
130 (SIGINT), 143 (SIGTERM) or 0 (it finished first), stdout is empty or JSON, and every file of
the folder is either the previous one (same inode and bytes) or a new one, never both.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

BTCN = [sys.executable, "-m", "btcn", "-q"]
DATA = ["--candles", str(EXAMPLES / "data" / "spot_5m"), "--perp", str(EXAMPLES / "data" / "perp_5m"),
        "--funding", str(EXAMPLES / "data" / "funding")]  # fmt: skip
RUN_FILES = {"summary.csv", "equity.html", "blocked_trades_log.csv", "executed_trades.json",
             "open_positions.json", "equity.parquet", "trades.parquet", "run.json"}  # fmt: skip
SWEEP_DERIVED = {"sweep.html"}


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BTCN_", "GATE_"))}
    env["BTCN_WATCHDOG__ENABLED"] = "false"
    return env


def _inodes(folder: Path) -> dict[str, tuple[int, bytes]]:
    if not folder.is_dir():
        return {}
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in folder.iterdir() if p.is_file()}


def _signal_at(cmd: list[str], delay: float, sig: int, cwd: Path) -> tuple[int, str, str]:
    """Signal ``cmd`` after ``delay`` s. Delays start at 0.8 s: btcn's handlers are installed by
    its first import, and a signal before the interpreter has even reached it (possible on a
    loaded CI machine) ends the process as Python's defaults do, before any btcn code ran."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=_env(cwd), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out.decode(), err.decode()


def _common_checks(code: int, out: str, err: str, sig: int, parent: Path) -> None:
    assert code in ({0, 130} if sig == signal.SIGINT else {0, 143}), (code, err)
    assert "Traceback" not in err, err
    if out.strip():
        json.loads(out)
    left = [p.name for p in parent.rglob("*") if p.name.startswith(".btcn-run-")
            or p.name.endswith(".tmp")]  # fmt: skip
    assert not left, left


def _all_old_or_all_new(before: dict[str, tuple[int, bytes]], folder: Path) -> str:
    after = _inodes(folder)
    old = {n for n, v in after.items() if before.get(n) == v}
    if old == set(after) == set(before):
        return "old"
    assert not old, f"mixed folder: {sorted(old)} kept beside new {sorted(set(after) - old)}"
    return "new"


TRIALS = [(i, sig) for i in range(3) for sig in (signal.SIGINT, signal.SIGTERM)]


@pytest.mark.slow
@pytest.mark.parametrize(("i", "sig"), TRIALS[:4])
def test_backtest_interrupted_anywhere(tmp_path: Path, i: int, sig: int) -> None:
    out = tmp_path / "run"
    first = subprocess.run([*BTCN, "backtest", *DATA, "--out", str(out)], cwd=tmp_path,
                           env={**_env(tmp_path), "BTCN_STRATEGY__THRESHOLD_FLOOR": "0.01"},
                           capture_output=True, check=True)  # fmt: skip
    assert first.returncode == 0
    before = _inodes(out)
    assert set(before) == RUN_FILES
    delay = random.Random(1000 + i).uniform(0.8, 3.0)
    code, so, se = _signal_at([*BTCN, "backtest", *DATA, "--out", str(out)], delay, sig, tmp_path)
    _common_checks(code, so, se, sig, tmp_path)
    state = _all_old_or_all_new(before, out)
    assert set(_inodes(out)) == RUN_FILES
    assert state == "new" or code != 0


@pytest.mark.slow
@pytest.mark.parametrize(("i", "sig"), TRIALS[:2])
def test_sweep_interrupted_anywhere(tmp_path: Path, i: int, sig: int) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text('[grid]\n"strategy.threshold_floor" = [0.004, 0.008, 0.012]\n')
    out = tmp_path / "sweep"
    args = [*BTCN, "sweep", "--candles", str(EXAMPLES / "data" / "spot_5m"), "--grid", str(grid),
            "--out", str(out), "--workers", "1", "--overwrite"]  # fmt: skip
    subprocess.run(args, cwd=tmp_path, capture_output=True, check=True,
                   env={**_env(tmp_path), "BTCN_STRATEGY__COOLDOWN": "2h"})  # fmt: skip
    before = _inodes(out)
    assert {"sweep.parquet", "sweep.html"} <= set(before)
    delay = random.Random(2000 + i).uniform(0.8, 4.0)
    code, so, se = _signal_at(args, delay, sig, tmp_path)
    _common_checks(code, so, se, sig, tmp_path)
    after = _inodes(out)
    # the old report never stands beside new results: it goes first, with one swap
    if "sweep.html" in after and before["sweep.html"] == after["sweep.html"]:
        assert after["sweep.parquet"] == before["sweep.parquet"]
    if code == 0:
        assert after["sweep.html"] != before["sweep.html"]


@pytest.mark.slow
@pytest.mark.parametrize(("i", "sig"), TRIALS[:2])
def test_report_interrupted_anywhere(tmp_path: Path, i: int, sig: int) -> None:
    run = tmp_path / "run"
    subprocess.run([*BTCN, "backtest", *DATA, "--out", str(run)], cwd=tmp_path, env=_env(tmp_path),
                   capture_output=True, check=True)  # fmt: skip
    (run / "summary.csv").unlink()
    (run / "equity.html").unlink()  # report regenerates both, and adds the digest
    before = _inodes(run)
    delay = random.Random(3000 + i).uniform(0.8, 2.0)
    code, so, se = _signal_at([*BTCN, "report", "--run", str(run)], delay, sig, tmp_path)
    _common_checks(code, so, se, sig, tmp_path)
    after = _inodes(run)
    added = set(after) - set(before)
    assert added in (set(), {"summary.csv", "equity.html", "digest-2025-01-31.md",
                             "digest-2025-01-31.json"})  # fmt: skip
    kept = {n for n in before if after.get(n, (None,))[1] == before[n][1]}
    assert kept == set(before)  # the run's own files are never changed by a report
    shutil.rmtree(run)
