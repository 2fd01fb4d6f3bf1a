from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.errors import ExitCode
from tests.conftest import EXAMPLES
from tests.sweep.conftest import DATA, SMALL_GRID

runner = CliRunner()


def grid_file(tmp_path: Path, text: str = SMALL_GRID) -> Path:
    p = tmp_path / "grid.toml"
    p.write_text(text)
    return p


def args(tmp_path: Path, *extra: str, grid: Path | None = None) -> list[str]:
    return ["sweep", "--grid", str(grid or grid_file(tmp_path)), "--candles", str(DATA / "spot_5m"),
            "--perp", str(DATA / "perp_5m"), "--funding", str(DATA / "funding"),
            "--out", str(tmp_path / "out"), *extra]  # fmt: skip


def test_help_describes_the_command() -> None:
    res = runner.invoke(app, ["sweep", "--help"])
    assert res.exit_code == 0
    for opt in ("--grid", "--walk-forward", "--workers", "--scheduler", "--metric", "--heatmap"):
        assert opt in res.stdout


def test_sweep_prints_json_and_writes_its_files(tmp_path: Path) -> None:
    res = runner.invoke(app, args(tmp_path, "--workers", "1", "--metric", "roi"))
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert (
        doc["points"] == 6
        and doc["executed"] == 6
        and doc["failed"] == 0
        and doc["metric"] == "roi"
    )
    assert doc["backend"] == "serial" and doc["best"]["params"]["strategy.cooldown"] in (
        "5m",
        "30m",
        "2h",
    )
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"sweep.parquet", "sweep.html"}
    assert "top points by roi" in res.stderr and "6 run, 0 reused, 0 failed" in res.stderr
    again = runner.invoke(app, ["-q", *args(tmp_path, "--workers", "1")])
    assert again.exit_code == 0 and json.loads(again.stdout)["reused"] == 6 and again.stderr == ""


def test_workers_zero_means_every_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/sweeps.md and [sweep] workers: 0 = every core (here patched to a 1-core machine)."""
    from btcn.sweep import backends

    monkeypatch.setattr(backends, "cores", lambda: 1)
    res = runner.invoke(app, args(tmp_path, "--workers", "0"))
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["workers"] == 1 and doc["backend"] == "serial" and doc["failed"] == 0
    help_text = runner.invoke(app, ["sweep", "--help"]).stdout
    assert "0 = every core" in " ".join(help_text.split())


def test_walk_forward_from_the_command_line(tmp_path: Path) -> None:
    res = runner.invoke(app, args(tmp_path, "--workers", "1", "--walk-forward", "14d:7d",
                                  "--heatmap", "strategy.cooldown,strategy.threshold_floor"))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    wf = json.loads(res.stdout)["walk_forward"]
    assert wf["walk_forward"] == "14d:7d" and len(wf["windows"]) == 2
    assert {"is_sharpe", "oos_sharpe", "is_roi", "oos_roi"} <= set(wf["windows"][0])
    assert "in-sample vs out-of-sample" in res.stderr and "out-of-sample chained" in res.stderr
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert files == {"sweep.parquet", "sweep.html", "walk_forward.parquet", "walk_forward.json",
                     "oos_equity.parquet"}  # fmt: skip
    t = pq.read_table(tmp_path / "out" / "walk_forward.parquet")
    assert {"is_sharpe", "oos_sharpe", "is_max_drawdown", "oos_max_drawdown"} <= set(t.column_names)


def test_failed_evaluations_exit_7_after_writing_everything(tmp_path: Path) -> None:
    grid = grid_file(tmp_path, '[grid]\n"strategy.targets.BTC_SPOT" = [0.5, 0.8]\n'
                               '"strategy.targets.BTC_PERP_LONG" = [0.0, 0.4]')  # fmt: skip
    res = runner.invoke(app, args(tmp_path, "--workers", "1", grid=grid))
    assert res.exit_code == ExitCode.PARTIAL
    assert json.loads(res.stdout)["failed"] == 1
    assert "1 of 4 evaluations failed" in res.stderr
    assert pq.read_table(tmp_path / "out" / "sweep.parquet").num_rows == 4


@pytest.mark.parametrize(("extra", "grid", "code", "needle"), [
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], SMALL_GRID, ExitCode.USAGE, "exclude each other"),
    (["--metric", "vibes"], SMALL_GRID, ExitCode.USAGE, "not a KPI"),
    (["--walk-forward", "90d"], SMALL_GRID, ExitCode.USAGE, "TRAIN:TEST"),
    (["--heatmap", "onlyone"], SMALL_GRID, ExitCode.USAGE, "two swept keys"),
    (["--workers", "-1"], SMALL_GRID, ExitCode.USAGE, ""),
    ([], '[grid]\n"strategy.cooldwn" = ["5m"]', ExitCode.CONFIG, "unknown settings key 'strategy.cooldwn'"),
    ([], '[grid]\n"strategy.cooldown" = [5]', ExitCode.CONFIG, "strategy.cooldown = 5"),
])  # fmt: skip
def test_user_errors_are_one_line_with_their_exit_code(tmp_path: Path, extra: list[str], grid: str,
                                                        code: int, needle: str) -> None:  # fmt: skip
    res = runner.invoke(app, args(tmp_path, *extra, grid=grid_file(tmp_path, grid)))
    assert res.exit_code == code, res.stderr
    assert needle in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "out" / "sweep.parquet").exists()


def test_missing_grid_file(tmp_path: Path) -> None:
    res = runner.invoke(app, args(tmp_path, grid=tmp_path / "none.toml"))
    assert res.exit_code == ExitCode.CONFIG and "grid file not found" in res.stderr


def test_example_grid_is_valid_and_pipes(tmp_path: Path) -> None:
    """examples/grid.toml through a real process, local workers, stdout into a pipe."""
    btcn = str(Path(sys.executable).parent / "btcn")
    out = tmp_path / "out"
    proc = subprocess.run(
        [btcn, "-q", "sweep", "--grid", str(EXAMPLES / "grid.toml"), "--candles", str(DATA / "spot_5m"),
         "--perp", str(DATA / "perp_5m"), "--funding", str(DATA / "funding"), "--out", str(out),
         "--workers", "2", "--start", "2025-01-01", "--end", "2025-01-07"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["backend"] == "local" and doc["workers"] == 2 and doc["failed"] == 0
    assert doc["points"] == pq.read_table(out / "sweep.parquet").num_rows >= 20
