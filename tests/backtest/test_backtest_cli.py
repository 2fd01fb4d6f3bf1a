from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from btcn.backtest import outputs
from btcn.cli.app import app
from btcn.contracts.tables import BLOCKED_COLUMNS, EQUITY_SCHEMA, SUMMARY_COLUMNS, TRADES_SCHEMA
from btcn.errors import ExitCode
from tests.conftest import EXAMPLES, REAL_DATA

runner = CliRunner()
DATA = EXAMPLES / "data"
ARGS = ["backtest", "--candles", str(DATA / "spot_5m"), "--perp", str(DATA / "perp_5m"),
        "--funding", str(DATA / "funding"), "--signals", str(EXAMPLES / "signals.csv")]  # fmt: skip
FILES = {"summary.csv", "equity.html", "blocked_trades_log.csv", "executed_trades.json",
         "open_positions.json", "equity.parquet", "trades.parquet", "run.json"}  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    res = runner.invoke(app, [*ARGS, "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    return out


def test_example_backtest_writes_every_file_with_its_contract(run_dir: Path) -> None:
    assert {p.name for p in run_dir.iterdir()} >= FILES
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".btcn-run-")]
    with open(run_dir / "summary.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == (*SUMMARY_COLUMNS, "schema_version") and len(rows) == 2
    summary = dict(zip(rows[0], rows[1], strict=True))
    assert summary["schema_version"] == "2"
    # every ratio is a fraction (equity.parquet's net_delta_pct_nav is in percent)
    pct = pq.read_table(run_dir / "equity.parquet").column("net_delta_pct_nav").to_numpy()
    assert float(summary["max_abs_net_delta_nav"]) == pytest.approx(abs(pct).max() / 100)
    assert 0.5 < float(summary["carry_capture"]) <= 1.05
    assert 0.3 < float(summary["hedged_fraction"]) < 0.7
    assert float(summary["fee_drag"]) == pytest.approx(
        float(summary["fees_usdt"]) / float(summary["funding_usdt"])
    )
    assert float(summary["price_pnl_usdt"]) + float(summary["basis_pnl_usdt"]) == pytest.approx(
        float(summary["gross_pnl_usdt"])
    )
    assert int(summary["bars"]) == 31 * 288 and float(summary["nav_start"]) == 100_000
    assert pq.read_schema(run_dir / "equity.parquet").names == EQUITY_SCHEMA.names
    assert pq.read_schema(run_dir / "trades.parquet").names == TRADES_SCHEMA.names
    trades = json.loads((run_dir / "executed_trades.json").read_text())
    assert trades and set(trades[0]) == set(TRADES_SCHEMA.names)
    assert (
        pq.read_table(run_dir / "trades.parquet").num_rows == len(trades) == int(summary["trades"])
    )
    with open(run_dir / "blocked_trades_log.csv", newline="") as fh:
        blocked = list(csv.reader(fh))
    assert tuple(blocked[0]) == BLOCKED_COLUMNS and len(blocked) - 1 == int(
        summary["blocked_trades"]
    )
    positions = json.loads((run_dir / "open_positions.json").read_text())
    assert {p["leg"] for p in positions} == {"BTC_SPOT", "BTC_PERP_SHORT"}
    assert {"leg", "side", "qty_btc", "entry_price", "entry_ts_ms", "unrealized_pnl_usdt"} <= set(
        positions[0]
    )
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["kind"] == "backtest_run" and meta["has_perp"] is True
    # every section that changes the result is recorded, the treasury's [risk] included
    assert set(meta["settings"]) == {"strategy", "fees", "guardrails", "backtest", "risk"}
    assert meta["settings"]["risk"]["margin_buffer"] == 0.5
    # summary.min_liq_distance is the equity column's minimum (rows show wallets after transfers)
    eq = pq.read_table(run_dir / "equity.parquet").to_pandas()
    assert float(summary["min_liq_distance"]) == eq["liq_distance"].min()
    html = (run_dir / "equity.html").read_text()
    assert (
        html.startswith("<!DOCTYPE html>")
        and "Plotly.newPlot" in html
        and "http" not in html.split("<script>")[0]
    )


def test_summary_adds_up(run_dir: Path) -> None:
    res = outputs.load_run(run_dir)
    s = res.summary
    assert s["net_pnl_usdt"] == pytest.approx(s["nav_end"] - s["nav_start"])
    assert s["gross_pnl_usdt"] == pytest.approx(
        s["net_pnl_usdt"] + s["fees_usdt"] - s["funding_usdt"]
    )
    eq = res.equity
    assert s["fees_usdt"] == pytest.approx(float(np.sum(eq["fees_usdt"])))
    assert s["funding_usdt"] == pytest.approx(float(np.sum(eq["funding_usdt"])))
    trades = json.loads((run_dir / "executed_trades.json").read_text())
    assert s["fees_usdt"] == pytest.approx(sum(t["fee_usdt"] for t in trades))
    assert s["funding_usdt"] > 0  # January 2025 funding was positive: the short earned it


def test_stdout_is_the_summary_json(tmp_path: Path) -> None:
    res = runner.invoke(app, ["-q", *ARGS, "--out", str(tmp_path / "r")])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["bars"] == 31 * 288
    assert res.stderr == ""


def test_regenerate_rebuilds_missing_reports(run_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    for name in ("summary.csv", "equity.html", "blocked_trades_log.csv"):
        (copy / name).unlink()
    written = outputs.regenerate(copy)
    assert set(written) == {"summary.csv", "equity.html", "blocked_trades_log.csv"}
    assert (copy / "blocked_trades_log.csv").read_text() == (
        run_dir / "blocked_trades_log.csv"
    ).read_text()
    assert (copy / "summary.csv").read_text() == (run_dir / "summary.csv").read_text()
    assert outputs.regenerate(copy) == []


def test_load_run_errors(tmp_path: Path) -> None:
    from btcn.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="run folder not found"):
        outputs.load_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match=r"missing run\.json"):
        outputs.load_run(tmp_path / "empty")


def test_failed_run_leaves_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from btcn.backtest import html

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(html, "write_equity_html", broken)
    out = tmp_path / "r"
    res = runner.invoke(app, [*ARGS, "--out", str(out)])
    assert res.exit_code == ExitCode.INTERNAL
    # the folder is built beside --out and swapped in only when complete
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "code", "needle"),
    [
        (["--start", "2025-02-05"], ExitCode.INVALID_INPUT, "fewer than two bars"),
        (
            ["--start", "2025-01-10", "--end", "2025-01-05"],
            ExitCode.USAGE,
            "--end must be after --start",
        ),
        (["--start", "soon"], ExitCode.USAGE, "--start"),
    ],
)
def test_bad_periods(tmp_path: Path, extra, code, needle) -> None:
    res = runner.invoke(app, [*ARGS, "--out", str(tmp_path / "r"), *extra])
    assert res.exit_code == code and needle in res.stderr


def test_start_end_select_days(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        ["-q", *ARGS, "--out", str(tmp_path / "r"), "--start", "2025-01-10", "--end", "2025-01-11"],
    )
    s = json.loads(res.stdout)
    assert (
        s["start"] == "2025-01-10T00:00:00Z"
        and s["end"] == "2025-01-12T00:00:00Z"
        and s["bars"] == 2 * 288
    )


def test_old_backtest_keys_are_read_with_one_warning_line_each(tmp_path: Path) -> None:
    """``[backtest] leverage`` is read as ``[risk] leverage``; ``[backtest] post_only_window`` no
    longer changes anything (decision 0031) and is ignored. The run equals one with the new key."""
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text('[backtest]\nleverage = 2\npost_only_window = "10m"\n')
    new.write_text("[risk]\nleverage = 2\n")
    week = ["--start", "2025-01-10", "--end", "2025-01-17"]
    res_old = runner.invoke(app, [*ARGS, *week, "--out", str(tmp_path / "a"), "--config", str(old)])
    res_new = runner.invoke(app, [*ARGS, *week, "--out", str(tmp_path / "b"), "--config", str(new)])
    assert res_old.exit_code == res_new.exit_code == 0, res_old.stderr
    warned = [line for line in res_old.stderr.splitlines() if "[backtest]" in line]
    assert len(warned) == 2
    assert any("[backtest] leverage is now [risk] leverage" in line for line in warned)
    assert any("post_only_window is no longer used" in line for line in warned)
    assert "[backtest]" not in res_new.stderr
    assert res_old.stdout == res_new.stdout
    recorded = json.loads((tmp_path / "a" / "run.json").read_text())["settings"]
    assert recorded["risk"]["leverage"] == 2 and "leverage" not in recorded["backtest"]


def test_directional_run_gross_pnl_exceeds_commission(tmp_path: Path) -> None:
    """The seed's own check: a directional book over a month that moved ~9 %."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[strategy]\ntargets = { BTC_SPOT = 0.9, BTC_PERP_LONG = 0.0, BTC_PERP_SHORT = 0.0 }\n"
    )
    res = runner.invoke(app, ["-q", "backtest", "--candles", str(DATA / "spot_5m"), "--out", str(tmp_path / "r"),
                              "--config", str(cfg)])  # fmt: skip
    s = json.loads(res.stdout)
    assert abs(s["gross_pnl_usdt"]) > s["fees_usdt"] > 0
    assert s["gross_pnl_usdt"] > 0.9 * 100_000 * 0.05


def test_without_perp_the_run_says_basis_zero(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["backtest", "--candles", str(DATA / "spot_5m"), "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 0 and "basis 0" in res.stderr
    meta = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta["has_perp"] is False and any("basis 0" in w for w in meta["warnings"])


@pytest.mark.skipif(not REAL_DATA.exists(), reason="shared real data not present")
def test_real_data_quarter_with_mixed_formats(tmp_path: Path) -> None:
    """Integration: Q1 2025 of real Binance data (µs spot archives, ISO March, perp vision, funding)."""
    spot = [str(REAL_DATA / "spot_5m" / "vision" / f"BTCUSDT-5m-2025-0{m}.csv") for m in (1, 2)]
    spot.append(str(REAL_DATA / "spot_5m" / "ohlcv" / "BTCUSDT-5m-2025-03.csv"))
    perp = [str(REAL_DATA / "perp_5m" / "vision" / f"BTCUSDT-5m-2025-0{m}.csv") for m in (1, 2, 3)]
    args = [
        "-q",
        "backtest",
        "--out",
        str(tmp_path / "q1"),
        "--funding",
        str(REAL_DATA / "funding"),
    ]
    for s in spot:
        args += ["--candles", s]
    for p in perp:
        args += ["--perp", p]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.stderr
    s = json.loads(res.stdout)
    assert s["bars"] == (31 + 28 + 31) * 288
    assert s["trades"] > 0 and s["funding_usdt"] != 0
    eq = pq.read_table(tmp_path / "q1" / "equity.parquet").to_pydict()
    assert max(abs(x) for x in eq["net_delta_pct_nav"]) < 10  # the hedge holds


def test_watchdog_stops_a_backtest_over_its_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BTCN_WATCHDOG__MAX_RSS_MB", "1")
    monkeypatch.setenv("BTCN_WATCHDOG__CHECK_INTERVAL", "1ms")
    out = tmp_path / "r"
    res = runner.invoke(app, [*ARGS, "--out", str(out)])
    assert res.exit_code == ExitCode.RESOURCE and "watchdog" in res.stderr
    assert not out.exists() or list(out.iterdir()) == []  # stopped before anything was written


def test_guardrail_refusals_are_reported(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[guardrails]\nmax_order_notional_usdt = 1000\n")
    res = runner.invoke(app, [*ARGS, "--out", str(tmp_path / "r"), "--config", str(cfg)])
    assert res.exit_code == 0
    assert "guardrail order_notional put" in res.stderr
    meta = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta["guardrail_refusals"]["order_notional"] > 0
    assert json.loads(res.stdout)["trades"] == 0
