"""The live history's liquidation and transfer columns: btcn's estimate and Gate's own price per
snapshot row, performed transfers from (version 2) execution reports, and the summary fields."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pydantic import Field

from btcn.contracts import ExecutionReport, Snapshot
from btcn.reports.history import done_transfers, record
from btcn.runtime.settings import Settings
from tests.conftest import EXAMPLES

MMR_FEE = Decimal("0.0045")  # default maintenance rate 0.004 + perp taker 0.0005


def snapshot(hours: int, mark: str, *, short: str = "4776", liq: str | None = "139000.5",
             futures: str = "16664.56") -> Snapshot:  # fmt: skip
    raw = json.loads((EXAMPLES / "snapshot.json").read_text())
    raw["as_of_ms"] += hours * 3_600_000
    raw["prices"]["perp_mark_usdt"] = mark
    raw["balances"]["futures_usdt"] = futures
    raw["positions"]["BTC_PERP_SHORT"]["size_contracts"] = short
    if short == "0":
        raw["positions"]["BTC_PERP_SHORT"]["entry_price_usdt"] = None
    raw["positions"]["BTC_PERP_SHORT"]["liq_price_usdt"] = liq
    raw["schema_version"] = 2
    return Snapshot.model_validate(raw)


def by_hand_short_liq(snap: Snapshot) -> float:
    """Cross margin, short only: (entry + W / (m * n)) / (1 + k), from Gate's rule."""
    pos = snap.positions.BTC_PERP_SHORT
    qty = pos.size_contracts * snap.perp_spec.multiplier_btc
    return float((pos.entry_price_usdt + snap.balances.futures_usdt / qty) / (1 + MMR_FEE))


def equity(hist: Path) -> dict[str, list[Any]]:
    return pq.read_table(hist / "equity.parquet").to_pydict()


def summary(hist: Path) -> dict[str, str]:
    with open(hist / "summary.csv", newline="") as fh:
        return next(csv.DictReader(fh))


def test_rows_carry_btcns_estimate_and_gates_price(tmp_path: Path) -> None:
    hist, cfg = tmp_path / "live", Settings()
    a, b = snapshot(0, "102379.7"), snapshot(1, "120000", liq=None)
    record(hist, cfg, snapshot=a)
    record(hist, cfg, snapshot=b)
    eq = equity(hist)
    for i, s in enumerate((a, b)):
        liq = by_hand_short_liq(s)
        assert eq["liq_price_usdt"][i] == pytest.approx(liq, abs=0.1)
        assert eq["liq_price_usdt"][i] <= liq  # rounded toward the mark
        mark = float(s.prices.perp_mark_usdt)
        assert eq["liq_distance"][i] == pytest.approx(liq / mark - 1, rel=1e-9)
    assert eq["venue_liq_price_usdt"][0] == 139000.5
    assert math.isnan(eq["venue_liq_price_usdt"][1])  # Gate's figure unknown in that snapshot
    assert eq["transfer_usdt"] == [0.0, 0.0]
    s = summary(hist)
    assert float(s["min_liq_distance"]) == pytest.approx(min(eq["liq_distance"]))
    assert min(eq["liq_distance"]) == eq["liq_distance"][1]  # the rally brought it closer
    assert int(s["transfers"]) == 0


def test_a_flat_book_has_no_liquidation(tmp_path: Path) -> None:
    hist = tmp_path / "live"
    record(hist, Settings(), snapshot=snapshot(0, "100000", short="0", liq=None))
    eq = equity(hist)
    assert all(math.isnan(eq[c][0]) for c in ("liq_price_usdt", "liq_distance",
                                              "venue_liq_price_usdt"))  # fmt: skip
    assert summary(hist)["min_liq_distance"] == ""


class ReportV2(ExecutionReport):
    """Stand-in for the version 2 execution report another change brings (a ``transfers``
    list); the history reads it with getattr, so the exact model does not matter."""

    transfers: list[Any] = Field(default_factory=list)


@dataclass
class TransferObj:  # a model-like entry: ``from_`` attribute (JSON name ``from``)
    from_: str
    to: str
    amount_usdt: Decimal
    status: str


def report(digest: str, hours: int, transfers: list[Any]) -> ReportV2:
    base = {
        "as_of_ms": 1738368000000 + hours * 3_600_000 + 60_000, "venue": "paper",
        "plan_digest": digest, "plan_as_of_ms": 1, "dry_run": False, "live": False,
        "status": "completed", "rebalance_recorded": True, "orders": [], "note": "",
    }  # fmt: skip
    return ReportV2(**base, transfers=transfers)


TRANSFERS = [
    {"from": "spot", "to": "futures", "amount_usdt": "1000", "status": "done"},
    {"from": "spot", "to": "futures", "amount_usdt": "500", "status": "failed"},
    {"from": "spot", "to": "futures", "amount_usdt": "70", "status": "pending"},
    {"from": "spot", "to": "futures", "amount_usdt": "90"},  # no status: not known to be done
    TransferObj("futures", "spot", Decimal("200"), "DONE"),
]


def test_done_transfers_are_read_defensively() -> None:
    assert done_transfers(report("d", 0, TRANSFERS)) == [1000.0, -200.0]
    plain = ExecutionReport.model_validate(report("d", 0, []).model_dump(exclude={"transfers"}))
    assert done_transfers(plain) == []  # version 1: no transfers attribute


def test_transfers_of_an_execution_are_booked_once(tmp_path: Path) -> None:
    hist, cfg = tmp_path / "live", Settings()
    record(hist, cfg, snapshot=snapshot(0, "102379.7"))
    record(hist, cfg, snapshot=snapshot(2, "102379.7"))
    rec = record(hist, cfg, execution=report("a" * 64, 0, TRANSFERS))  # transfer-only execution
    assert rec.execution_recorded and "2 transfer(s)" in rec.note
    record(hist, cfg, execution=report("a" * 64, 0, TRANSFERS))  # the same report again
    eq = equity(hist)
    assert eq["transfer_usdt"] == [800.0, 0.0]  # on the latest row at or before the execution
    s = summary(hist)
    assert int(s["transfers"]) == 2 and int(s["rebalances"]) == 0  # no fill: not a rebalance
    # re-recording the same snapshot keeps the transfer booked on its row
    record(hist, cfg, snapshot=snapshot(0, "102379.7"))
    assert equity(hist)["transfer_usdt"] == [800.0, 0.0]
    # a report without any done transfer and without fills is not recorded
    rec = record(hist, cfg, execution=report("b" * 64, 2, TRANSFERS[1:4]))
    assert not rec.execution_recorded
