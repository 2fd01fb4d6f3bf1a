"""Real processes, real signals: SIGINT and SIGTERM at every point of a backtest's, a sweep's and
a report's output commit never leave temporary files or a folder mixing old and new files.

Each trial starts from a complete previous output (written with other settings), runs the real
``btcn`` command in a subprocess stopped at a chosen point (``pause_at.py``: the command tells the
test through a pipe that it is there) and signals it then. So the outcome is known exactly:
before the swap the folder holds every old file, from the swap on every new one; the exit code is
130 (SIGINT) or 143 (SIGTERM); stdout is empty; nothing temporary is left.
"""

from __future__ import annotations

import os
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
PAUSE_AT = Path(__file__).with_name("pause_at.py")


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BTCN_", "GATE_"))}
    env["BTCN_WATCHDOG__ENABLED"] = "false"
    return env


def _inodes(folder: Path) -> dict[str, tuple[int, bytes]]:
    if not folder.is_dir():
        return {}
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in folder.iterdir() if p.is_file()}


def _signal_at(
    args: list[str], step: str, sig: int, cwd: Path, nth: int = 1
) -> tuple[int, str, str]:
    """Run ``btcn args`` stopped at the ``nth`` time it reaches ``step``; signal it there."""
    events_r, events_w = os.pipe()
    go_r, go_w = os.pipe()
    cmd = [sys.executable, str(PAUSE_AT), step, str(nth), str(events_w), str(go_r), *args]
    proc = subprocess.Popen(cmd, cwd=cwd, env=_env(cwd), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, pass_fds=(events_w, go_r))  # fmt: skip
    os.close(events_w)
    os.close(go_r)
    with os.fdopen(events_r) as events:
        reached = events.readline().strip()  # blocks until the command is there (or exits)
    if reached == step:
        proc.send_signal(sig)
        if step in HELD:  # signals are held back there: tell the command it may go on
            os.write(go_w, b"go\n")
    os.close(go_w)
    out, err = proc.communicate(timeout=120)
    assert reached == step, f"never reached {step!r} (exit {proc.returncode}): {err.decode()}"
    return proc.returncode, out.decode(), err.decode()


def _common_checks(code: int, out: str, err: str, sig: int, parent: Path) -> None:
    assert code == (130 if sig == signal.SIGINT else 143), (code, err)
    assert "Traceback" not in err, err
    assert out == ""  # the summary JSON is printed only by a command that finished
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


# Where the signal lands, and what the folder must hold afterwards: before the swap ("aside") the
# old files, from the swap on the new ones (a signal during the swap is held until it is done).
STEPS = {
    "start": "old",
    "build": "old",
    "fsync": "old",
    "aside": "new",
    "in": "new",
    "clean": "new",
}
HELD = {"aside"}  # btcn holds SIGINT/SIGTERM back during the swap
INT_TERM = (signal.SIGINT, signal.SIGTERM)
BACKTEST_TRIALS = [(step, INT_TERM[i % 2]) for i, step in enumerate(STEPS)]


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete backtest folder written with other settings (copied into each trial)."""
    out = tmp_path_factory.mktemp("previous") / "run"
    subprocess.run([*BTCN, "backtest", *DATA, "--out", str(out)], cwd=out.parent,
                   env={**_env(out.parent), "BTCN_STRATEGY__THRESHOLD_FLOOR": "0.01"},
                   capture_output=True, check=True)  # fmt: skip
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("step", "sig"), BACKTEST_TRIALS)
def test_backtest_interrupted_anywhere(
    tmp_path: Path, previous_run: Path, step: str, sig: int
) -> None:
    out = tmp_path / "run"
    shutil.copytree(previous_run, out)
    before = _inodes(out)
    assert set(before) == RUN_FILES
    code, so, se = _signal_at(["-q", "backtest", *DATA, "--out", str(out)], step, sig, tmp_path)
    _common_checks(code, so, se, sig, tmp_path)
    assert _all_old_or_all_new(before, out) == STEPS[step]
    assert set(_inodes(out)) == RUN_FILES


@pytest.mark.slow
@pytest.mark.parametrize(("step", "sig"), [("start", signal.SIGINT), ("fsync", signal.SIGTERM),
                                           ("aside", signal.SIGINT)])  # fmt: skip
def test_sweep_interrupted_anywhere(tmp_path: Path, step: str, sig: int) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text('[grid]\n"strategy.threshold_floor" = [0.004, 0.008, 0.012]\n')
    out = tmp_path / "sweep"
    args = ["-q", "sweep", "--candles", str(EXAMPLES / "data" / "spot_5m"), "--grid", str(grid),
            "--out", str(out), "--workers", "1", "--overwrite"]  # fmt: skip
    subprocess.run([*BTCN[:-1], *args], cwd=tmp_path, capture_output=True, check=True,
                   env={**_env(tmp_path), "BTCN_STRATEGY__COOLDOWN": "2h"})  # fmt: skip
    before = _inodes(out)
    assert {"sweep.parquet", "sweep.html"} <= set(before)
    code, so, se = _signal_at(args, step, sig, tmp_path)
    _common_checks(code, so, se, sig, tmp_path)
    after = _inodes(out)
    # the first commit of a sweep drops the old report with the first new results, in one swap
    if STEPS[step] == "old":
        assert after == before
    else:
        assert "sweep.html" not in after and after["sweep.parquet"] != before["sweep.parquet"]


@pytest.mark.slow
@pytest.mark.parametrize(("step", "sig"), [("fsync", signal.SIGINT), ("in", signal.SIGTERM)])
def test_report_interrupted_anywhere(
    tmp_path: Path, previous_run: Path, step: str, sig: int
) -> None:
    run = tmp_path / "run"
    shutil.copytree(previous_run, run)
    (run / "summary.csv").unlink()
    (run / "equity.html").unlink()  # report regenerates both, and adds the digest
    before = _inodes(run)
    code, so, se = _signal_at(["-q", "report", "--run", str(run)], step, sig, tmp_path)
    _common_checks(code, so, se, sig, tmp_path)
    after = _inodes(run)
    added = set(after) - set(before)
    new = {"summary.csv", "equity.html", "digest-2025-01-31.md", "digest-2025-01-31.json"}
    assert added == (set() if STEPS[step] == "old" else new)
    kept = {n for n in before if after.get(n, (None,))[1] == before[n][1]}
    assert kept == set(before)  # the run's own files are never changed by a report
