"""`btcn weights` liquidation estimates: Gate's formula worked by hand (not through the module),
Gate's own figure beside it, and the side that stands for the book."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.contracts import Leg, LiquidationInfo, Snapshot, dump_json
from btcn.core.book import Book
from btcn.runtime.settings import Settings
from btcn.stages.liquidation import book_figures, book_liquidation, liquidation_infos
from btcn.stages.weights import run as weights_run

MMR, FEE = Decimal("0.004"), Decimal("0.0005")  # the defaults: perp_spec and [fees] perp_taker


def snap(
    *,
    mark: str = "100000",
    futures: str = "20000",
    short: dict[str, Any] | None = None,
    long: dict[str, Any] | None = None,
    tick: str = "0.1",
) -> Snapshot:
    return Snapshot(
        as_of_ms=1_738_368_000_000,
        venue="gate",
        p_ref_usdt=Decimal(mark),
        prices={"spot_last_usdt": Decimal(mark), "perp_mark_usdt": Decimal(mark)},
        balances={"spot_usdt": Decimal(30000), "spot_btc": Decimal("0.5"),
                  "futures_usdt": Decimal(futures)},
        positions={
            "BTC_PERP_LONG": long or {"size_contracts": Decimal(0)},
            "BTC_PERP_SHORT": short or {"size_contracts": Decimal(0)},
        },
        perp_spec={"maintenance_rate": MMR, "tick_usdt": Decimal(tick)},
    )  # fmt: skip


def settings(mode: str = "isolated", leverage: float = 3, **extra: Any) -> Settings:
    return Settings(risk={"margin_mode": mode, "leverage": leverage}, **extra)


ISOLATED_SHORT = {
    "size_contracts": Decimal(1000),  # 1000 x 0.0001 BTC = 0.1 BTC
    "entry_price_usdt": Decimal(100000),
    "margin_usdt": Decimal("3333.33"),
    "liq_price_usdt": Decimal("132600.5"),
    "leverage": Decimal(3),
}


def short_of(infos: list[LiquidationInfo]) -> LiquidationInfo:
    (s,) = [i for i in infos if i.leg == Leg.BTC_PERP_SHORT]
    return s


def test_isolated_short_matches_gates_formula_by_hand(tmp_path, monkeypatch) -> None:
    # Gate: short liq = (entry + margin / (m * n)) / (1 + mmr + fee)
    by_hand = (Decimal(100000) + Decimal("3333.33") / Decimal("0.1")) / (1 + MMR + FEE)
    assert Decimal("132735.9") < by_hand < Decimal("132736.0")  # 133333.3 / 1.0045
    path = tmp_path / "snap.json"
    path.write_text(dump_json(snap(short=ISOLATED_SHORT)))
    monkeypatch.setenv("BTCN_RISK__MARGIN_MODE", "isolated")
    res = CliRunner().invoke(app, ["weights", "--snapshot", str(path)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["schema_version"] == 2
    s = next(i for i in out["liquidation"] if i["leg"] == "BTC_PERP_SHORT")
    assert s["margin_mode"] == "isolated"
    # rounded to the 0.1 tick toward the mark: never shown further away than Gate's rule says
    assert Decimal(s["liq_price_usdt"]) == Decimal("132735.9")
    assert s["distance"] == pytest.approx(float(by_hand / Decimal(100000) - 1), rel=1e-12)
    assert Decimal(s["venue_liq_price_usdt"]) == Decimal("132600.5")  # Gate's own, beside it
    long_ = next(i for i in out["liquidation"] if i["leg"] == "BTC_PERP_LONG")
    assert long_["liq_price_usdt"] is None and long_["distance"] is None
    assert "liq price (Gate)" in res.stderr and "132,735.9" in res.stderr


def test_isolated_long_by_hand_and_margin_from_leverage_when_unknown() -> None:
    long_pos = {"size_contracts": Decimal(2000), "entry_price_usdt": Decimal(90000),
                "leverage": Decimal(5)}  # fmt: skip
    infos = liquidation_infos(snap(long=long_pos), settings("isolated"))
    (lg,) = [i for i in infos if i.leg == Leg.BTC_PERP_LONG]
    qty = Decimal("0.2")
    margin = qty * Decimal(90000) / 5  # no margin_usdt: initial margin at the position's leverage
    by_hand = (Decimal(90000) - margin / qty) / (1 - MMR - FEE)
    assert abs(lg.liq_price_usdt - by_hand) < Decimal("0.1") and lg.liq_price_usdt >= by_hand
    assert lg.distance == pytest.approx(float(1 - by_hand / Decimal(100000)), rel=1e-12)
    assert lg.venue_liq_price_usdt is None


def test_isolated_without_position_leverage_uses_risk_leverage() -> None:
    pos = {"size_contracts": Decimal(1000), "entry_price_usdt": Decimal(100000)}
    s = short_of(liquidation_infos(snap(short=pos), settings("isolated", leverage=2)))
    by_hand = (Decimal(100000) + Decimal(100000) / 2) / (1 + MMR + FEE)
    assert abs(s.liq_price_usdt - by_hand) < Decimal("0.1")


def test_cross_margin_uses_the_futures_wallet() -> None:
    # one side only: the isolated formula with margin = futures wallet W
    s = short_of(liquidation_infos(snap(futures="20000", short=ISOLATED_SHORT), settings("cross")))
    by_hand = (Decimal(100000) + Decimal(20000) / Decimal("0.1")) / (1 + MMR + FEE)
    assert s.margin_mode == "cross"
    assert abs(s.liq_price_usdt - by_hand) < Decimal("0.1") and s.liq_price_usdt <= by_hand
    assert s.distance == pytest.approx(float(by_hand / Decimal(100000) - 1), rel=1e-12)


def test_a_different_fee_changes_k() -> None:
    cfg = settings("isolated", fees={"perp_taker": 0.001})
    s = short_of(liquidation_infos(snap(short=ISOLATED_SHORT), cfg))
    by_hand = Decimal("133333.3") / (1 + MMR + Decimal("0.001"))
    assert abs(s.liq_price_usdt - by_hand) < Decimal("0.1")


def test_gate_zero_means_no_price_and_flat_book_has_none() -> None:
    pos = {**ISOLATED_SHORT, "liq_price_usdt": Decimal(0)}
    assert short_of(liquidation_infos(snap(short=pos), settings())).venue_liq_price_usdt is None
    infos = liquidation_infos(snap(), settings("cross"))
    assert [i.liq_price_usdt for i in infos] == [None, None]
    assert book_liquidation(infos) is None
    figures = book_figures(infos)
    assert all(math.isnan(x) for x in figures)


def test_weights_stage_fills_both_sides_and_a_planned_book_drops_gates_figure() -> None:
    s = snap(short=ISOLATED_SHORT)
    w = weights_run(s, settings("isolated"))
    assert [i.leg for i in w.liquidation] == [Leg.BTC_PERP_LONG, Leg.BTC_PERP_SHORT]
    planned = Book(Decimal(0), Decimal("0.5"), Decimal(20000), Decimal(0), Decimal(0),
                   Decimal(2000), Decimal(100000))  # fmt: skip
    p = short_of(liquidation_infos(s, settings("cross"), book=planned))
    assert p.size_contracts == 2000 and p.venue_liq_price_usdt is None
    by_hand = (Decimal(100000) + Decimal(20000) / Decimal("0.2")) / (1 + MMR + FEE)
    assert abs(p.liq_price_usdt - by_hand) < Decimal("0.1")


def test_book_side_is_the_nearest_open_side() -> None:
    long_pos = {"size_contracts": Decimal(500), "entry_price_usdt": Decimal(100000),
                "margin_usdt": Decimal(500), "liq_price_usdt": Decimal(95500)}  # fmt: skip
    infos = liquidation_infos(snap(short=ISOLATED_SHORT, long=long_pos), settings("isolated"))
    side = book_liquidation(infos)
    assert side is not None and side.leg == Leg.BTC_PERP_LONG  # 10x long: about 5.5 % away
    price, dist, venue = book_figures(infos)
    assert dist == pytest.approx(side.distance) and venue == 95500.0
    assert price == float(side.liq_price_usdt)
    # cross margin: both sides carry the book's price; the larger side (the short) stands for it
    cross = liquidation_infos(snap(short=ISOLATED_SHORT, long=long_pos), settings("cross"))
    assert book_liquidation(cross).leg == Leg.BTC_PERP_SHORT  # type: ignore[union-attr]
    assert book_figures(cross)[2] == 132600.5


def test_plan_table_shows_the_plans_liquidation_when_it_has_one(capsys) -> None:
    from btcn.cli.render import plan_table
    from btcn.contracts import Plan, parse_artifact
    from tests.conftest import EXAMPLES

    res = CliRunner().invoke(app, ["plan", "--snapshot", str(EXAMPLES / "snapshot.json"),
                                   "--candles", str(EXAMPLES / "data" / "spot_5m")])  # fmt: skip
    plan = parse_artifact(res.stdout, Plan)
    capsys.readouterr()
    plan_table(plan.model_copy(update={"liquidation": []}))
    assert "liq price" not in capsys.readouterr().err
    infos = liquidation_infos(snap(short=ISOLATED_SHORT), settings("isolated"))
    plan_table(plan.model_copy(update={"liquidation": infos}))
    err = capsys.readouterr().err
    assert "liq price (btcn)" in err and "132,735.9" in err and "132,600.5" in err
