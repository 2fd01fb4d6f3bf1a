"""``btcn fetch snapshot --venue gate`` records what the treasury and the liquidation guard need:
futures ``available`` and ``unrealised_pnl``, each side's ``liq_price``, ``leverage``, ``margin``
and maintenance margin, and the contract's ``maintenance_rate`` (snapshot version 2)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from pydantic import SecretStr

from btcn.contracts import Snapshot, dump_json, parse_artifact
from btcn.exchange.credentials import Credentials
from btcn.exchange.retry import RetryPolicy
from btcn.stages import fetch as stage
from tests.fakes import FakeBinance, FakeGate, FakeServer
from tests.helpers import KEY, SECRET, VirtualClock, gate_settings

D = Decimal
NOW_MS = 1_736_000_000_000


@pytest.fixture
def srv() -> Iterator[FakeServer]:
    gate = FakeGate(KEY, SECRET, clock=lambda: NOW_MS / 1000, mid="95000")
    with FakeServer(gate, FakeBinance(now=lambda: NOW_MS / 1000)) as server:
        yield server


def test_snapshot_carries_the_venue_liquidation_and_margin_figures(srv: FakeServer) -> None:
    g = srv.gate
    g.pos["short"] = [D(5000), D(100000)]  # opened at 100000, mark 95000: 2500 USDT of profit
    g.fut_total = D(20000)
    deps = stage.FetchDeps(clock=VirtualClock(NOW_MS), retry=RetryPolicy(max_attempts=2),
                           credentials=Credentials(SecretStr(KEY), SecretStr(SECRET)))  # fmt: skip
    snap = stage.gate_snapshot(gate_settings(srv.gate_url, srv.binance_url), NOW_MS, deps)
    assert snap.schema_version == 2
    b = snap.balances
    assert b.futures_usdt == D(20000)
    assert b.futures_available_usdt == D(20000) - D(5000) * D("0.0001") * D(100000) / 10
    assert b.futures_unrealised_pnl_usdt == D(2500)
    short = snap.positions.BTC_PERP_SHORT
    assert short.leverage == 10 and short.margin_usdt == D(5000)
    assert short.maintenance_margin_usdt == D(5000) * D("0.0001") * D(95000) * D("0.004")
    assert short.liq_price_usdt == D("109507.21")  # (100000 + 10000) / (1 + 0.004 + 0.0005)
    assert snap.positions.BTC_PERP_LONG.liq_price_usdt is None  # no position
    assert snap.perp_spec.maintenance_rate == D("0.004")
    again = parse_artifact(dump_json(snap), Snapshot)
    assert again == snap
