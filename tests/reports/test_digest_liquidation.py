"""The daily digest's liquidation figures (digest schema version 2): latest and minimum distance of
the day, btcn's price and Gate's own, the run's minimum; version 1 keys unchanged; version 1 run
folders give n/a."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.contracts.tables import EQUITY_V1_MISSING
from btcn.reports.digest import build_digest, to_markdown, to_telegram_html
from btcn.reports.runfolder import RunFolder
from tests.runfolder_fixture import BAR_MS, T0, make_run_folder

DAY = 86_400_000
PER_DAY = DAY // BAR_MS
V1_KEYS = {
    "kind", "schema_version", "run", "day", "day_start_ms", "as_of_ms", "nav_usdt", "roi_day",
    "roi_run", "turnover_day_usdt", "turnover_run_usdt", "fees_day_usdt", "fees_run_usdt",
    "funding_day_usdt", "funding_run_usdt", "trades_day", "trades_run", "blocked_day",
    "net_delta_btc", "net_delta_pct_nav", "margin_used_usdt", "margin_used_pct_nav",
    "margin_used_max_pct_nav_day", "top_costly_trades",
}  # fmt: skip


def set_columns(run: Path, **cols: np.ndarray) -> None:
    path = run / "equity.parquet"
    table = pq.read_table(path)
    for name, values in cols.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pa.array(values, type=pa.float64()))
    pq.write_table(table, path)


@pytest.fixture
def run(tmp_path: Path) -> Path:
    out = make_run_folder(tmp_path / "run", days=3, seed=5)
    n = 3 * PER_DAY
    dist = np.full(n, 0.40)
    dist[PER_DAY + 100] = 0.21  # day 2's low, at bar 100 of the day
    dist[PER_DAY + 101] = np.nan  # a bar without a figure does not hide the minimum
    dist[5] = 0.18  # the run's low, on day 1
    dist[2 * PER_DAY - 1] = 0.33  # day 2's last bar
    perp = pq.read_table(out / "equity.parquet").column("price_perp").to_numpy()
    venue = np.full(n, np.nan)
    venue[2 * PER_DAY - 1] = 131_000.5
    set_columns(
        out, liq_distance=dist, liq_price_usdt=perp * (1 + dist), venue_liq_price_usdt=venue
    )
    return out


def test_digest_shows_latest_and_minimum_distance(run: Path) -> None:
    rf = RunFolder.load(run)
    d = build_digest(rf, day=dt.date(2025, 1, 2))
    last = 2 * PER_DAY - 1  # closes at 2025-01-03 00:00, the last bar of 2025-01-02
    perp = rf.equity["price_perp"].to_numpy()
    assert d.liq_distance == pytest.approx(0.33)
    assert d.liq_price_usdt == pytest.approx(perp[last] * 1.33)
    assert d.venue_liq_price_usdt == 131_000.5
    # the day holds the bars closing in (day start, day end]: bar PER_DAY - 1 .. 2 * PER_DAY - 2
    assert d.liq_distance_min_day == pytest.approx(0.21)
    assert d.liq_distance_min_day_ms == T0 + (PER_DAY + 101) * BAR_MS  # that bar's close
    assert d.liq_distance_min_run == pytest.approx(0.18)

    doc = d.to_json_dict()
    assert doc["schema_version"] == 3
    assert set(doc) >= V1_KEYS  # version 1 keys kept
    assert doc["liq_distance_min_day"] == pytest.approx(0.21)
    md = to_markdown(d)
    row = next(line for line in md.splitlines() if line.startswith("| Liquidation distance"))
    assert "33.0 %" in row and "(Gate 131,000.5)" in row and "day min 21.0 % at 08:25" in row
    assert "min 18.0 %" in row
    assert "Liquidation distance: 33.0 %" in to_telegram_html(d)


def test_past_liquidation_and_missing_gate_price(run: Path) -> None:
    n = 3 * PER_DAY
    set_columns(run, liq_distance=np.full(n, -0.02), venue_liq_price_usdt=np.full(n, np.nan))
    d = build_digest(RunFolder.load(run))
    md = to_markdown(d)
    assert "-2.0 % (past liquidation)" in md and "Gate" not in md.split("Liquidation")[1]


def test_a_version_1_run_folder_gives_n_a(run: Path) -> None:
    path = run / "equity.parquet"
    table = pq.read_table(path).drop_columns(list(EQUITY_V1_MISSING))
    table = table.replace_schema_metadata({"kind": "equity", "schema_version": "1"})
    pq.write_table(table, path)
    d = build_digest(RunFolder.load(run))
    assert math.isnan(d.liq_distance) and math.isnan(d.liq_distance_min_run)
    doc = d.to_json_dict()
    assert doc["liq_distance"] is None and doc["liq_distance_min_day_ms"] is None
    assert "n/a (no perp position or no liquidation data)" in to_markdown(d)


def test_report_command_writes_the_figures(run: Path, tmp_path: Path) -> None:
    digests = tmp_path / "digests"  # a new folder: report refuses to write into a foreign one
    res = CliRunner().invoke(app, ["report", "--run", str(run), "--out-dir", str(digests)])
    assert res.exit_code == 0, res.output
    doc = json.loads((digests / "digest-2025-01-03.json").read_text())
    assert doc["schema_version"] == 3 and doc["liq_distance"] == pytest.approx(0.40)
    assert "Liquidation distance" in res.stderr
