"""No command leaves a lock, temporary or SQLite side file behind (issue 17: a
``.Log.xlsx.btcn-lock`` stayed; a read-only look at the state store left ``-wal``/``-shm``)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from btcn.cli.app import app
from tests.conftest import EXAMPLES

SPOT = str(EXAMPLES / "data" / "spot_5m")


def test_every_command_leaves_only_its_outputs(tmp_path: Path) -> None:
    def run(*args: str, expect: tuple[int, ...] = (0,)) -> str:
        res = CliRunner().invoke(app, ["-q", *args])
        assert res.exit_code in expect, (args, res.output)
        return res.stdout

    snap = tmp_path / "snap.json"
    snap.write_text(
        run("fetch", "snapshot", "--venue", "paper", "--candles", SPOT, "--state", "s.db")
    )
    plan = tmp_path / "plan.json"
    plan.write_text(run("plan", "--snapshot", str(snap), "--candles", SPOT, "--state", "s.db"))
    report = tmp_path / "report.json"
    report.write_text(run("execute", str(plan), "--state", "s.db"))
    run("execute", str(plan), "--state", "s.db", "--dry-run")  # a read-only look at the store
    run("plan", "--snapshot", str(snap), "--candles", SPOT, "--state", "s.db")
    run("backtest", "--candles", SPOT, "--out", "run")
    run("audit", "--run", "run", "--log", "Log.xlsx", expect=(0, 8))
    run("report", "--run", "run")
    run("report", "--run", "hist", "--snapshot", str(snap), "--execution", str(report))
    run("weights", "--snapshot", str(snap))
    top = sorted(p.name for p in tmp_path.iterdir())
    assert top == ["Log.xlsx", "hist", "plan.json", "report.json", "run", "s.db", "snap.json"]
    hidden = [
        p for p in tmp_path.rglob("*") if p.name.startswith(".") or p.suffix in (".tmp", ".lock")
    ]
    assert hidden == []
