"""The last bad-input holes: each ends in one readable line and its documented exit code, and
changes no file (issue 17)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.errors import ExitCode
from tests.conftest import EXAMPLES

SNAP = str(EXAMPLES / "snapshot.json")
SPOT = str(EXAMPLES / "data" / "spot_5m")


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=env)


def one_error_line(res) -> str:  # type: ignore[no-untyped-def]
    lines = [x for x in res.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in res.stderr and "internal error" not in res.stderr
    return lines[0]


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    res = invoke("plan", "--snapshot", SNAP, "--candles", SPOT)
    assert res.exit_code == 0
    path = tmp_path / "plan.json"
    path.write_text(res.stdout)
    return path


def test_a_state_path_that_cannot_exist(plan_file: Path) -> None:
    res = invoke("execute", str(plan_file), env={"BTCN_STATE__PATH": "/proc/nope/state.db"})
    assert res.exit_code == ExitCode.INVALID_INPUT
    assert "cannot open state store /proc/nope/state.db" in one_error_line(res)


@pytest.mark.parametrize("command", ["plan", "execute"])
def test_a_state_store_whose_tables_have_other_columns(
    tmp_path: Path, plan_file: Path, command: str
) -> None:
    db = tmp_path / "foreign.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE rebalances (plan TEXT, y INT)")
        c.execute("CREATE TABLE executed_plans (x INT)")
        c.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    before = db.read_bytes()
    args = (
        ["plan", "--snapshot", SNAP, "--candles", SPOT, "--state", str(db)]
        if command == "plan"
        else ["execute", str(plan_file), "--state", str(db), "--force"]
    )
    res = invoke(*args)
    assert res.exit_code == ExitCode.INVALID_INPUT, res.output
    line = one_error_line(res)
    assert "table executed_plans lacks the column(s) plan_digest" in line or "rebalances" in line
    assert db.read_bytes() == before  # nothing was written into the foreign file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.db", "plan.json"]


def test_a_huge_initial_nav_is_a_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "btcn.toml"
    cfg.write_text("[backtest]\ninitial_nav_usdt = 1e300\n")
    res = invoke("backtest", "--candles", SPOT, "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert res.exit_code == ExitCode.CONFIG
    assert "backtest.initial_nav_usdt" in one_error_line(res)
    assert not (tmp_path / "o").exists()


def test_the_largest_allowed_nav_runs(tmp_path: Path) -> None:
    cfg = tmp_path / "btcn.toml"
    cfg.write_text("[backtest]\ninitial_nav_usdt = 1e12\n")
    res = invoke("-q", "backtest", "--candles", SPOT, "--perp", str(EXAMPLES / "data" / "perp_5m"),
                 "--config", str(cfg), "--out", str(tmp_path / "o"))  # fmt: skip
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("second", ["close", "Close"])
def test_a_parquet_candle_file_with_a_column_twice(tmp_path: Path, second: str) -> None:
    n = 50
    t = np.arange(n, dtype=np.int64) * 300_000 + 1_735_689_600_000
    cols = [t, *(np.full(n, v) for v in (100.0, 101.0, 99.0, 100.0, 1.0, 100.0))]
    names = ["open_time", "open", "high", "low", "close", "volume", second]
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.table([pa.array(c) for c in cols], names=names), path)
    res = invoke("backtest", "--candles", str(path), "--out", str(tmp_path / "o"))
    assert res.exit_code == ExitCode.INVALID_INPUT
    assert "appears more than once" in one_error_line(res)
