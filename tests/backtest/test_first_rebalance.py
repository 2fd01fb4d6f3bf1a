"""Regression: the backtest no longer liquidates its own first rebalance (real data, 2023-10-01,
default settings). The margin transfer is planned before the orders and applied before any fill."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from btcn.backtest.engine import run_engine
from btcn.runtime.settings import Settings
from btcn.stages.backtest import BacktestRequest, engine_params, load_market

DATA = Path(__file__).resolve().parents[1] / "data" / "real-2023-10-01"


def _market():
    req = BacktestRequest(candles=[DATA / "spot_5m.csv"], perp=[DATA / "perp_5m.csv"],
                          funding=[DATA / "funding.csv"], settings=Settings())  # fmt: skip
    return load_market(req)


def test_the_margin_arrives_before_the_first_fill_and_nothing_is_liquidated() -> None:
    m = _market()
    out = run_engine(m, engine_params(Settings()), 0, len(m))
    first_fill = min(t.bar for t in out.ledger.trades)
    first_transfer = int(np.flatnonzero(out.columns["transfer_usdt"])[0])
    assert first_transfer < first_fill  # decided and funded at the decision bar's close
    assert out.columns["transfer_usdt"][first_transfer] > 0  # spot -> futures
    assert not out.liquidations
    liq = out.columns["liq_distance"][first_fill:]
    assert np.nanmin(liq) >= 0.30 - 1e-9  # the guard's distance held on every bar


def test_without_the_treasury_the_same_start_is_liquidated_at_once() -> None:
    """The counterfactual that shows the test above can fail: no transfers, the short sits on an
    empty futures wallet and is liquidated on the bar it fills."""
    m = _market()
    p = engine_params(Settings())
    bare = dataclasses.replace(p, planner=dataclasses.replace(p.planner, treasury=None))
    out = run_engine(m, bare, 0, len(m))
    first_fill = min(t.bar for t in out.ledger.trades)
    assert out.liquidations and out.liquidations[0].bar == first_fill
