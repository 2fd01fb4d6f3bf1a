"""`btcn report`: the digest's figures, its files, regeneration of missing reports, Telegram."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.errors import InvalidInputError
from btcn.reports.digest import build_digest, to_markdown, trade_costs
from btcn.reports.runfolder import RunFolder
from tests.runfolder_fixture import BAR_MS, T0, make_run_folder


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return make_run_folder(tmp_path / "run", days=5, seed=3)


def test_digest_figures_match_an_independent_computation(run: Path) -> None:
    rf = RunFolder.load(run)
    d = build_digest(rf)
    eq = pq.read_table(run / "equity.parquet").to_pandas()
    tr = pq.read_table(run / "trades.parquet").to_pandas()
    close = np.array([int(t.timestamp() * 1000) for t in eq["ts"]]) + BAR_MS
    day_start = T0 + 4 * 86_400_000
    in_day = (close > day_start) & (close <= day_start + 86_400_000)
    assert d.day == "2025-01-05"
    nav = eq["nav_usdt"].to_numpy()
    prev = nav[close <= day_start][-1]
    assert d.roi_day == pytest.approx(nav[in_day][-1] / prev - 1, rel=1e-12)
    assert d.roi_run == pytest.approx(nav[-1] / 100_000 - 1, rel=1e-12)
    assert d.funding_day_usdt == pytest.approx(eq["funding_usdt"][in_day].sum())
    assert d.fees_run_usdt == pytest.approx(eq["fees_usdt"].sum())
    # the carry rows: net PnL and yields of the day on the previous day's NAV, 365-day years
    assert d.net_pnl_day_usdt == pytest.approx(nav[in_day][-1] - prev, rel=1e-9)
    assert d.net_pnl_run_usdt == pytest.approx(nav[-1] - 100_000, rel=1e-9)
    assert d.funding_apr_day == pytest.approx(eq["funding_usdt"][in_day].sum() / prev * 365)
    assert d.net_apr_day == pytest.approx((nav[in_day][-1] / prev - 1) * 365)
    assert d.fee_drag_run == pytest.approx(eq["fees_usdt"].sum() / eq["funding_usdt"].sum())
    t_day = tr[(tr.ts_ms > day_start) & (tr.ts_ms <= day_start + 86_400_000)]
    assert d.trades_day == len(t_day) and d.trades_run == len(tr)
    assert d.turnover_day_usdt == pytest.approx((t_day.qty_btc * t_day.price).abs().sum())
    assert d.net_delta_btc == eq["net_delta_btc"].iloc[-1]
    assert d.margin_used_pct_nav == pytest.approx(eq["margin_used_usdt"].iloc[-1] / nav[-1])
    # Top 3 by fee + slippage against the decision bar's close, highest first.
    assert len(d.top_costly_trades) == 3
    costs = [t.cost_usdt for t in d.top_costly_trades]
    assert costs == sorted(costs, reverse=True)
    all_day = sorted(
        (c.cost_usdt for c in trade_costs(rf) if day_start < c.ts_ms <= day_start + 86_400_000),
        reverse=True,
    )
    assert costs == all_day[:3]
    t0 = d.top_costly_trades[0]
    bar = np.searchsorted(close - BAR_MS, t0.ts_ms) - 1
    ref = eq["price_spot" if t0.leg == "BTC_SPOT" else "price_perp"].iloc[bar]
    sign = 1 if t0.side == "BUY" else -1
    assert t0.slippage_usdt == pytest.approx((t0.price - ref) * t0.qty_btc * sign)
    assert t0.cost_usdt == pytest.approx(t0.fee_usdt + t0.slippage_usdt)


def test_digest_of_a_given_day_and_out_of_range(run: Path) -> None:
    rf = RunFolder.load(run)
    d = build_digest(rf, dt.date(2025, 1, 1))
    assert d.roi_day == pytest.approx(rf.nav[287] / 100_000 - 1)
    assert d.blocked_day == 0
    assert build_digest(rf, dt.date(2025, 1, 2)).blocked_day == 1
    with pytest.raises(InvalidInputError, match="no bars on 2024-12-31") as err:
        build_digest(rf, dt.date(2024, 12, 31))
    assert "2025-01-01 to 2025-01-05" in (err.value.hint or "")


def test_markdown_and_day_without_trades(tmp_path: Path) -> None:
    run = make_run_folder(tmp_path / "r", days=2, trades_per_day=0)
    d = build_digest(RunFolder.load(run))
    md = to_markdown(d)
    assert "No trades on this day." in md and "| ROI |" in md
    assert d.top_costly_trades == [] and d.turnover_day_usdt == 0


def test_report_command_writes_digest_files(run: Path, tmp_path: Path) -> None:
    r = invoke("report", "--run", str(run))
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["kind"] == "digest" and out["day"] == "2025-01-05"
    assert json.loads((run / "digest-2025-01-05.json").read_text()) == out
    md = (run / "digest-2025-01-05.md").read_text()
    assert md.startswith("# btcn daily digest") and "Top 3 most costly trades" in md
    assert "most costly trades" in r.stderr and "Funding earned" in r.stderr
    # the digest leads with the carry: funding, fees, net yield, liquidation distance
    figures = [line.split("|")[1].strip() for line in md.splitlines()
               if line.startswith("| ") and not line.startswith(("| figure", "| ---"))][:5]  # fmt: skip
    assert figures == ["Funding earned (USDT)", "Fees (USDT)", "Net yield (USDT)",
                       "Liquidation distance", "NAV (USDT)"]  # fmt: skip
    assert out["schema_version"] == 3
    r = invoke("report", "--run", str(run), "--day", "2025-01-02", "--out-dir", str(tmp_path / "d"))
    assert r.exit_code == 0 and (tmp_path / "d" / "digest-2025-01-02.md").is_file()
    assert invoke("report", "--run", str(run), "--day", "Jan 2").exit_code == 2
    assert invoke("-q", "report", "--run", str(run)).stderr == ""


def test_report_regenerates_missing_reports_with_the_backtest_writers(run: Path) -> None:
    for name in ("summary.csv", "blocked_trades_log.csv", "equity.html"):
        (run / name).unlink()
    r = invoke("report", "--run", str(run))
    assert r.exit_code == 0, r.output
    for name in ("summary.csv", "blocked_trades_log.csv", "equity.html"):
        assert (run / name).is_file(), name
    assert "plotly" in (run / "equity.html").read_text()[:100_000].lower()


def test_report_sends_digest_to_telegram(run: Path, monkeypatch) -> None:
    from tests.monitoring.test_alerts import TOKEN, bot_api, sent_texts
    from tests.services import recording_server

    with recording_server(bot_api()) as srv:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("BTCN_TELEGRAM__BASE_URL", srv.url)
        monkeypatch.setenv("BTCN_TELEGRAM__CHAT_ID", "-1")
        monkeypatch.setenv("BTCN_NETWORK__TEST_MODE", "1")
        assert invoke("report", "--run", str(run), "--telegram").exit_code == 0
        (text,) = sent_texts(srv)
    assert text.startswith("<b>btcn digest run 2025-01-05</b>") and "Most costly trades" in text


def test_report_telegram_not_configured(run: Path) -> None:
    r = invoke("report", "--run", str(run), "--telegram")
    assert r.exit_code == 4 and "chat_id is empty" in r.stderr


def test_run_folder_validation(tmp_path: Path) -> None:
    import pyarrow as pa

    run = make_run_folder(tmp_path / "r", days=2, with_run_json=False, with_summary=False)
    rf = RunFolder.load(run)
    assert rf.bar_ms == BAR_MS and rf.nav_start == rf.nav[0] and rf.label == "r"
    assert rf.config_value("strategy", "cooldown") is None
    (run / "run.json").write_text("[1]")
    with pytest.raises(InvalidInputError, match="not a btcn run description"):
        RunFolder.load(run)
    (run / "run.json").write_text("{nope")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        RunFolder.load(run)
    (run / "run.json").unlink()
    t = pq.read_table(run / "equity.parquet")
    pq.write_table(t.drop_columns(["nav_usdt"]), run / "equity.parquet")
    with pytest.raises(InvalidInputError, match=r"missing column.*nav_usdt"):
        RunFolder.load(run)
    pq.write_table(
        t.replace_schema_metadata({"kind": "trades", "schema_version": "1"}), run / "equity.parquet"
    )
    with pytest.raises(InvalidInputError, match="expected kind 'equity'"):
        RunFolder.load(run)
    pq.write_table(
        t.replace_schema_metadata({"kind": "equity", "schema_version": "9"}), run / "equity.parquet"
    )
    with pytest.raises(InvalidInputError, match="schema_version '9'"):
        RunFolder.load(run)
    pq.write_table(t.slice(0, 0), run / "equity.parquet")
    with pytest.raises(InvalidInputError, match="no rows"):
        RunFolder.load(run)
    pq.write_table(t.take(pa.array([1, 0])), run / "equity.parquet")
    with pytest.raises(InvalidInputError, match="not sorted"):
        RunFolder.load(run)
    (run / "equity.parquet").write_bytes(b"garbage")
    with pytest.raises(InvalidInputError, match="not a readable Parquet"):
        RunFolder.load(run)
