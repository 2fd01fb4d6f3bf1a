"""`btcn monitor push`: the series of a run folder and a snapshot, into a real influxd."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.core import kpis as K
from btcn.reports.runfolder import RunFolder
from btcn.stages.monitor import funding_rates_from_run, points_from_run
from tests.monitoring.test_influx import new_db
from tests.runfolder_fixture import BAR_MS, T0, make_run_folder


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return make_run_folder(tmp_path / "run", days=3, funding_rate=0.0003)


def test_series_of_a_run(run: Path) -> None:
    rf = RunFolder.load(run)
    pts = list(points_from_run(rf, "btcn", {"source": "x"}))
    assert len(pts) == 3 * 288
    assert pts[0].ts == T0 + BAR_MS  # bar close time
    eq = rf.equity
    p = pts[10]
    assert p.fields["basis_gate"] == pytest.approx(eq.price_perp[10] / eq.price_spot[10] - 1)
    assert p.fields["margin_used_pct_nav"] == pytest.approx(
        eq.margin_used_usdt[10] / eq.nav_usdt[10]
    )
    funding = [q for q in pts if "funding_rate" in q.fields]
    assert len(funding) == 9 and all(
        q.fields["funding_rate"] == pytest.approx(0.0003) for q in funding
    )
    sharpe = [(q.ts, q.fields["sharpe_30d"]) for q in pts if "sharpe_30d" in q.fields]
    assert [t for t, _ in sharpe] == [T0 + d * 86_400_000 for d in (1, 2, 3)]
    assert np.isnan(sharpe[0][1])  # one daily return: no Sharpe yet
    expected = K.trailing_sharpe(rf.ts_ms, rf.nav, bar_ms=BAR_MS, nav_start=1e5)
    assert sharpe[-1][1] == pytest.approx(expected)
    idx, rates = funding_rates_from_run(rf)
    assert idx.shape == rates.shape == (9,)
    later = list(points_from_run(rf, "btcn", {}, since_ms=T0 + 2 * 86_400_000 + 1))
    assert len(later) == 288


def test_push_run_and_snapshot_into_influxd(
    influxd, run: Path, tmp_path: Path, monkeypatch
) -> None:
    db = new_db(influxd)
    monkeypatch.setenv("BTCN_INFLUX__URL", influxd.url)
    monkeypatch.setenv("BTCN_INFLUX__DATABASE", db)
    monkeypatch.setenv("BTCN_INFLUX__BATCH_SIZE", "300")
    monkeypatch.setenv("BTCN_NETWORK__TEST_MODE", "1")
    r = invoke("monitor", "push", "--run", str(run), "--tag", "desk=alpha")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) | {"bytes": 0} == {
        "kind": "influx_push", "api": "v1", "points": 864, "skipped": 0, "requests": 3, "bytes": 0
    }  # fmt: skip
    rows = influxd.series(db, "SELECT * FROM btcn WHERE desk = 'alpha' ORDER BY time")
    assert len(rows) == 864
    rf = RunFolder.load(run)
    assert [r["nav_usdt"] for r in rows] == rf.nav.tolist()
    assert rows[0]["source"] == "run" and rows[0]["time"] == T0 + BAR_MS
    assert sum(r["funding_rate"] is not None for r in rows) == 9
    days = influxd.series(db, "SELECT sharpe_30d FROM btcn WHERE sharpe_30d > -1000")
    assert len(days) == 2  # day 1 has no Sharpe (NaN is left out, a gap in Grafana)

    from btcn.contracts import dump_json
    from tests.helpers import snapshot

    snap = tmp_path / "snap.json"
    snap.write_text(dump_json(snapshot(p="100000", perp="100100", venue="gate")))
    r = invoke("monitor", "push", "--snapshot", str(snap))
    assert r.exit_code == 0, r.output
    (row,) = influxd.series(db, "SELECT * FROM btcn WHERE source = 'gate'")
    assert row["basis_gate"] == pytest.approx(0.001)
    assert row["nav_usdt"] > 0 and row["net_delta_btc"] == pytest.approx(0.0)


def test_push_dry_run_and_options(run: Path) -> None:
    r = invoke("monitor", "push", "--run", str(run), "--since", "1h", "--dry-run")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 12 and lines[0].startswith("btcn,source=run ")
    assert invoke("monitor", "push").exit_code == 2
    assert invoke("monitor", "push", "--run", str(run), "--tag", "oops").exit_code == 2
    assert invoke("monitor", "push", "--run", str(run), "--since", "soon").exit_code == 2
    bad = invoke("monitor", "push", "--run", str(run), "--tag", "k=a\\", "--dry-run")
    assert bad.exit_code == 3 and "backslash" in bad.stderr


def test_push_v2_needs_a_token(run: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BTCN_INFLUX__API", "v2")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("INFLUX_TOKEN", raising=False)
    r = invoke("monitor", "push", "--run", str(run))
    assert r.exit_code == 4 and "INFLUX_TOKEN" in r.stderr


def test_push_to_a_host_outside_the_allowlist_is_refused(run: Path, monkeypatch) -> None:
    monkeypatch.setenv("BTCN_NETWORK__TEST_MODE", "1")
    monkeypatch.setenv("BTCN_INFLUX__URL", "https://influx.example.com:8086")
    r = invoke("monitor", "push", "--run", str(run))
    assert r.exit_code == 4 and "influx.example.com refused" in r.stderr


def test_grafana_dashboard_queries_run_against_pushed_series(
    influxd, run: Path, monkeypatch
) -> None:
    """Every panel of examples/grafana/dashboards/btcn.json returns data from what push wrote."""
    root = Path(__file__).resolve().parents[2] / "examples" / "grafana"
    dash = json.loads((root / "dashboards" / "btcn.json").read_text())
    ds_yaml = (root / "provisioning" / "datasources" / "btcn-influxdb.yaml").read_text()
    assert "uid: btcn-influxdb" in ds_yaml and "type: influxdb" in ds_yaml
    db = new_db(influxd)
    monkeypatch.setenv("BTCN_INFLUX__URL", influxd.url)
    monkeypatch.setenv("BTCN_INFLUX__DATABASE", db)
    assert invoke("monitor", "push", "--run", str(run)).exit_code == 0
    titles = set()
    for panel in dash["panels"]:
        assert panel["datasource"]["uid"] == "btcn-influxdb"
        for target in panel["targets"]:
            q = (target["query"].replace("$source", ".*").replace("$timeFilter", "time > 0")
                 .replace("$__interval", "1h"))  # fmt: skip
            res = influxd.query(q, db)["results"][0]
            assert "error" not in res, (panel["title"], res)
            values = [v for s in res["series"] for v in s["values"] if v[1] is not None]
            assert values, panel["title"]
        titles.add(panel["title"])
    assert {
        "NAV (USDT)",
        "Sharpe (30 days)",
        "Basis_Gate (bps)",
        "Used margin (% of NAV)",
    } <= titles
    tpl = dash["templating"]["list"][0]["query"]
    assert influxd.query(tpl, db)["results"][0]["series"][0]["values"] == [["source", "run"]]
