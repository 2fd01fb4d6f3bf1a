"""``btcn backtest`` on a unified account: equity version 3 with the account's columns, read back
by ``report`` and ``load_run``; a classic run is still version 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from btcn.backtest.outputs import load_run
from btcn.cli.app import app
from btcn.contracts.tables import EQUITY_SCHEMA, EQUITY_UNIFIED_COLUMNS
from tests.conftest import EXAMPLES

DATA = EXAMPLES / "data"
ARGS = ["backtest", "--candles", str(DATA / "spot_5m"), "--perp", str(DATA / "perp_5m"),
        "--funding", str(DATA / "funding")]  # fmt: skip


def test_unified_backtest_writes_the_account_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BTCN_ACCOUNT__MODE", "unified")
    out = tmp_path / "u"
    res = CliRunner().invoke(app, [*ARGS, "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pq.read_table(out / "equity.parquet")
    assert table.schema.metadata[b"schema_version"] == b"3"
    assert table.column_names == [*EQUITY_SCHEMA.names, *EQUITY_UNIFIED_COLUMNS]
    mmr = table.column("mmr").to_numpy()
    traded = ~np.isnan(mmr)
    assert traded.any() and (mmr[traded] > 100).all()  # a hedged book: MMR in the hundreds
    assert (table.column("futures_usdt").to_numpy() == 0).all()
    assert (table.column("transfer_usdt").to_numpy() == 0).all()
    assert table.column("w_short").to_numpy()[-1] > 0.8  # the unified targets hedge most of NAV
    run = json.loads((out / "run.json").read_text())
    assert run["settings"]["account"]["mode"] == "unified"
    assert "negative_usdt_interest_apr" in run["settings"]["backtest"]
    back = load_run(out)
    assert np.array_equal(back.equity["nav_usdt"], table.column("nav_usdt").to_numpy())
    rep = CliRunner().invoke(app, ["report", "--run", str(out)])
    assert rep.exit_code == 0, rep.output


def test_classic_backtest_stays_version_2(tmp_path: Path) -> None:
    out = tmp_path / "c"
    res = CliRunner().invoke(app, [*ARGS, "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pq.read_table(out / "equity.parquet")
    assert table.schema.metadata[b"schema_version"] == b"2"
    assert table.column_names == EQUITY_SCHEMA.names
    run = json.loads((out / "run.json").read_text())
    assert "account" not in run["settings"]
    assert "negative_usdt_interest_apr" not in run["settings"]["backtest"]
