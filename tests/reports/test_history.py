"""The live history `btcn report` keeps: snapshots and execution reports become a run folder that
audit, report and monitor read like a backtest."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.errors import ExitCode
from tests.conftest import EXAMPLES
from tests.helpers import seed_paper_account

runner = CliRunner()
SNAP = EXAMPLES / "snapshot.json"
SPOT = str(EXAMPLES / "data" / "spot_5m")


def later_snapshot(tmp_path: Path, hours: int, spot_btc: str | None = None) -> Path:
    raw = json.loads(SNAP.read_text())
    raw["as_of_ms"] += hours * 3_600_000
    if spot_btc is not None:
        raw["balances"]["spot_btc"] = spot_btc
    path = tmp_path / f"snap-{hours}.json"
    path.write_text(json.dumps(raw))
    return path


def test_snapshots_and_executions_build_a_run_folder(tmp_path: Path) -> None:
    hist = tmp_path / "live"
    res = runner.invoke(app, ["-q", "report", "--run", str(hist), "--snapshot", str(SNAP)])
    assert res.exit_code == 0, res.stderr
    eq = pq.read_table(hist / "equity.parquet").to_pydict()
    weights = json.loads(runner.invoke(app, ["weights", "--snapshot", str(SNAP)]).stdout)
    assert eq["nav_usdt"] == [float(weights["nav_usdt"])]
    assert {"summary.csv", "equity.html", "run.json", "open_positions.json"} <= {
        p.name for p in hist.iterdir()
    }

    # a real paper execution of the example plan, then its report
    state = str(tmp_path / "s.db")
    seed_paper_account(state, SNAP)
    plan = runner.invoke(app, ["plan", "--snapshot", str(SNAP), "--candles", SPOT]).stdout
    report = runner.invoke(app, ["execute", "--state", state], input=plan).stdout
    (tmp_path / "report.json").write_text(report)
    fills = sum(len(o["fills"]) for o in json.loads(report)["orders"])
    res = runner.invoke(app, ["-q", "report", "--run", str(hist), "--snapshot", str(later_snapshot(tmp_path, 1)),
                              "--execution", str(tmp_path / "report.json")])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    trades = pq.read_table(hist / "trades.parquet").to_pydict()
    assert len(trades["ts_ms"]) == fills
    eq = pq.read_table(hist / "equity.parquet").to_pydict()
    assert len(eq["nav_usdt"]) == 2
    fees = sum(trades["fee_usdt"])
    assert abs(sum(eq["fees_usdt"]) - fees) < 1e-9 and fees > 0

    # recording the same execution again changes nothing
    again = runner.invoke(
        app, ["-q", "report", "--run", str(hist), "--execution", str(tmp_path / "report.json")]
    )
    assert again.exit_code == 0
    assert len(pq.read_table(hist / "trades.parquet")) == fills

    # audit and monitor read the history like a backtest run
    audit = runner.invoke(app, ["-q", "audit", "--run", str(hist), "--log", "-"])
    assert audit.exit_code in (0, ExitCode.DRIFT), audit.stderr
    push = runner.invoke(app, ["-q", "monitor", "push", "--run", str(hist), "--dry-run"])
    assert push.exit_code == 0 and "nav_usdt=" in push.stdout


def test_dry_runs_are_not_recorded_and_backtests_are_refused(tmp_path: Path) -> None:
    hist = tmp_path / "live"
    plan = runner.invoke(app, ["plan", "--snapshot", str(SNAP), "--candles", SPOT]).stdout
    (tmp_path / "dry.json").write_text(
        runner.invoke(app, ["execute", "--dry-run"], input=plan).stdout
    )
    res = runner.invoke(app, ["-q", "report", "--run", str(hist), "--snapshot", str(SNAP),
                              "--execution", str(tmp_path / "dry.json")])  # fmt: skip
    assert res.exit_code == 0
    assert len(pq.read_table(hist / "trades.parquet")) == 0
    # an execution before any snapshot is refused with a hint
    res = runner.invoke(
        app, ["report", "--run", str(tmp_path / "empty"), "--execution", str(tmp_path / "dry.json")]
    )
    assert res.exit_code == ExitCode.INVALID_INPUT and "give a snapshot" in res.stderr
    # a backtest folder is not a live history
    bt = tmp_path / "bt"
    runner.invoke(
        app, ["-q", "backtest", "--candles", SPOT, "--out", str(bt), "--end", "2025-01-03"]
    )
    res = runner.invoke(app, ["report", "--run", str(bt), "--snapshot", str(SNAP)])
    assert res.exit_code == ExitCode.INVALID_INPUT and "not a live history" in res.stderr


def _state_of(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_report_validates_everything_before_it_writes(tmp_path: Path) -> None:
    """A snapshot in seconds, a --day the history does not hold, a foreign --out-dir: each is
    refused with exit 3 and leaves every file of the history as it was (bytes and mtime)."""
    hist = tmp_path / "live"
    assert (
        runner.invoke(app, ["-q", "report", "--run", str(hist), "--snapshot", str(SNAP)]).exit_code
        == 0
    )
    before = _state_of(hist)
    raw = json.loads(later_snapshot(tmp_path, 2).read_text())
    raw["as_of_ms"] //= 1000  # seconds, not milliseconds
    (tmp_path / "seconds.json").write_text(json.dumps(raw))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    cases = [
        (["--snapshot", str(tmp_path / "seconds.json")], "is not a time between 2009 and 2100"),
        (["--snapshot", str(later_snapshot(tmp_path, 3)), "--day", "2019-01-01"], "no bars on"),
        (
            ["--snapshot", str(later_snapshot(tmp_path, 4)), "--out-dir", str(foreign)],
            "not a folder of btcn digests",
        ),
    ]
    for extra, needle in cases:
        res = runner.invoke(app, ["report", "--run", str(hist), *extra])
        assert res.exit_code == ExitCode.INVALID_INPUT and needle in res.output, res.output
        assert _state_of(hist) == before, extra
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    assert not list(tmp_path.glob("*.tmp*")) and not list(tmp_path.glob(".live*"))
