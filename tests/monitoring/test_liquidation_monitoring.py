"""Liquidation distance in monitoring: `monitor push` writes the fields where finite (never NaN),
and the `liquidation_distance` alert fires once, repeats after the cooldown and recovers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from btcn.contracts import Snapshot
from btcn.monitoring import alerts as A
from btcn.monitoring.influx import to_line
from btcn.reports.runfolder import RunFolder
from btcn.runtime.settings import Settings
from btcn.runtime.state import StateStore
from btcn.stages.monitor import (
    evaluate_alerts,
    liquidation_condition_from_run,
    points_from_run,
    points_from_snapshot,
)
from tests.monitoring.test_alerts import Recorder, alert_env, invoke, sent_texts  # noqa: F401
from tests.monitoring.test_influx import new_db
from tests.runfolder_fixture import make_run_folder

H = 3_600_000
FIELDS = ("liq_price_usdt", "liq_distance", "venue_liq_price_usdt")


def set_columns(run: Path, **cols: np.ndarray) -> None:
    path = run / "equity.parquet"
    table = pq.read_table(path)
    for name, values in cols.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pa.array(values, type=pa.float64()))
    pq.write_table(table, path)


def run_with(tmp_path: Path, name: str, last: float, *, days: int = 1) -> Path:
    """A run whose last row's liquidation distance is ``last``; a few NaN rows before it."""
    run = make_run_folder(tmp_path / name, days=days)
    n = days * 288
    dist = np.full(n, 0.5)
    dist[-1] = last
    dist[3:6] = np.nan
    perp = pq.read_table(run / "equity.parquet").column("price_perp").to_numpy()
    venue = np.full(n, np.nan)
    venue[-1] = 125_000.5
    set_columns(
        run, liq_distance=dist, liq_price_usdt=perp * (1 + dist), venue_liq_price_usdt=venue
    )
    return run


# --- push -------------------------------------------------------------------------------------
def test_run_points_carry_finite_liquidation_fields_only(tmp_path: Path) -> None:
    run = run_with(tmp_path, "r", 0.3)
    rf = RunFolder.load(run)
    pts = list(points_from_run(rf, "btcn", {}))
    eq = rf.equity
    assert pts[-1].fields["liq_distance"] == pytest.approx(0.3)
    assert pts[-1].fields["liq_price_usdt"] == pytest.approx(eq["liq_price_usdt"].iloc[-1])
    assert pts[-1].fields["venue_liq_price_usdt"] == 125_000.5
    assert pts[0].fields["liq_distance"] == 0.5 and "venue_liq_price_usdt" not in pts[0].fields
    assert all("liq_distance" not in p.fields and "liq_price_usdt" not in p.fields
               for p in pts[3:6])  # fmt: skip
    for p in pts:
        assert all(math.isfinite(v) for k, v in p.fields.items() if k in FIELDS)


def test_push_dry_run_writes_the_fields_and_no_nan(tmp_path: Path) -> None:
    run = run_with(tmp_path, "r", 0.3)
    r = invoke("monitor", "push", "--run", str(run), "--dry-run")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) == 288
    assert "nan" not in r.stdout.lower() and "inf" not in r.stdout.lower()
    assert "liq_distance=0.3," in lines[-1]
    assert "venue_liq_price_usdt=125000.5" in lines[-1]
    assert sum("liq_distance=" in line for line in lines) == 285  # 3 NaN rows left out


def test_snapshot_point_has_the_books_figures() -> None:
    raw = json.loads((Path(__file__).parents[2] / "examples" / "snapshot.json").read_text())
    raw["schema_version"] = 2
    raw["positions"]["BTC_PERP_SHORT"]["liq_price_usdt"] = "138000"
    snap = Snapshot.model_validate(raw)
    (p,) = points_from_snapshot(snap, Settings(), "btcn", {})
    # cross margin, short only, by hand: (entry + W / (m * n)) / (1 + 0.004 + 0.0005)
    by_hand = (104676.9 + 16664.56 / 0.4776) / 1.0045
    assert p.fields["liq_price_usdt"] == pytest.approx(by_hand, abs=0.1)
    assert p.fields["liq_distance"] == pytest.approx(by_hand / 102379.7 - 1, rel=1e-6)
    assert p.fields["venue_liq_price_usdt"] == 138000.0
    raw["positions"]["BTC_PERP_SHORT"] = {"size_contracts": "0", "entry_price_usdt": None}
    (flat,) = points_from_snapshot(Snapshot.model_validate(raw), Settings(), "btcn", {})
    assert not set(FIELDS) & set(flat.fields)
    assert "nan" not in (to_line(flat) or "")


def test_push_into_influxd(influxd, tmp_path: Path, monkeypatch) -> None:
    db = new_db(influxd)
    monkeypatch.setenv("BTCN_INFLUX__URL", influxd.url)
    monkeypatch.setenv("BTCN_INFLUX__DATABASE", db)
    monkeypatch.setenv("BTCN_NETWORK__TEST_MODE", "1")
    run = run_with(tmp_path, "r", 0.3)
    r = invoke("monitor", "push", "--run", str(run))
    assert r.exit_code == 0, r.output
    rows = influxd.series(db, "SELECT * FROM btcn ORDER BY time")
    assert len(rows) == 288
    assert sum(row["liq_distance"] is not None for row in rows) == 285
    assert rows[-1]["liq_distance"] == pytest.approx(0.3)
    assert rows[-1]["venue_liq_price_usdt"] == 125_000.5


# --- alert ------------------------------------------------------------------------------------
def test_condition_figures_and_edges() -> None:
    c = A.liquidation_condition(0.2, 0.25, liq_price_usdt=120_000, mark_usdt=100_000,
                                venue_liq_price_usdt=119_500)  # fmt: skip
    assert c.key == "liquidation_distance" and c.active
    assert c.detail == ("liquidation distance 20.0 % to 120,000.0 USDT from mark 100,000.0; "
                        "Gate's price 119,500.0 (limit 25 %)")  # fmt: skip
    assert not A.liquidation_condition(0.25, 0.25).active  # "below": the limit itself is fine
    assert A.liquidation_condition(-0.01, 0.25).active  # already past the estimate
    assert not A.liquidation_condition(math.nan, 0.25).active  # flat book: clear
    assert A.TITLES["liquidation_distance"] in A.Notice("liquidation_distance", "firing", "",
                                                        0).text(0)  # fmt: skip


def test_condition_from_run_is_not_evaluated_without_data(tmp_path: Path) -> None:
    run = run_with(tmp_path, "r", math.nan)  # latest row unknown while the short is open
    assert liquidation_condition_from_run(RunFolder.load(run), 0.25) is None
    flat = run_with(tmp_path, "f", math.nan)
    set_columns(flat, short_qty_btc=np.zeros(288))
    cond = liquidation_condition_from_run(RunFolder.load(flat), 0.25)
    assert cond is not None and not cond.active


def test_fires_once_repeats_after_cooldown_and_recovers(tmp_path: Path) -> None:
    hot = liquidation_condition_from_run(RunFolder.load(run_with(tmp_path, "h", 0.2)), 0.25)
    cool = liquidation_condition_from_run(RunFolder.load(run_with(tmp_path, "c", 0.4)), 0.25)
    assert hot is not None and cool is not None
    rec = Recorder()
    sent = []
    with StateStore(tmp_path / "s.db") as store:
        for now, cond in ((0, hot), (1 * H, hot), (5 * H, hot), (6 * H, hot), (7 * H, hot),
                          (8 * H, cool), (9 * H, cool)):  # fmt: skip
            out = evaluate_alerts([cond], store=store, sender=rec, now_ms=now, cooldown_ms=6 * H,
                                  send_recovery=True)  # fmt: skip
            sent.append(out.outcomes[0].sent)
    assert sent == ["firing", None, None, "reminder", None, "resolved", None]
    assert len(rec.texts) == 3
    assert "FIRING: Liquidation distance below limit" in rec.texts[0]
    assert "20.0 %" in rec.texts[0] and "Gate's price 125,000.5" in rec.texts[0]
    assert "STILL FIRING" in rec.texts[1] and "RESOLVED" in rec.texts[2]
    assert "40.0 %" in rec.texts[2]


def test_monitor_alerts_cli_sends_once_then_recovers(alert_env, tmp_path: Path) -> None:  # noqa: F811
    srv = alert_env
    hot, cool = run_with(tmp_path, "hot", 0.2), run_with(tmp_path, "cool", 0.4)
    first = invoke("monitor", "alerts", "--run", str(hot))
    assert first.exit_code == 0, first.output
    texts = [t for t in sent_texts(srv) if "Liquidation" in t]
    assert len(texts) == 1 and texts[0].startswith("<b>🔴 FIRING: Liquidation distance")
    alert = next(
        a for a in json.loads(first.stdout)["alerts"] if a["key"] == "liquidation_distance"
    )
    assert alert["active"] and alert["sent"] == "firing"
    srv.clear()
    invoke("monitor", "alerts", "--run", str(hot))
    assert [t for t in sent_texts(srv) if "Liquidation" in t] == []  # de-duplicated
    srv.clear()
    invoke("monitor", "alerts", "--run", str(cool))
    texts = [t for t in sent_texts(srv) if "Liquidation" in t]
    assert len(texts) == 1 and "RESOLVED" in texts[0]
