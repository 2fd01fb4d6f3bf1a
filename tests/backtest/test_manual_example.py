"""The worked example of docs/manual.md ("Simulating position holding and modelling profit"),
computed with the real planner, ledger and treasury. If this test changes, update the manual."""

from __future__ import annotations

import math
from decimal import Decimal

from btcn.backtest.ledger import Ledger
from btcn.contracts import PerpSpec, SpotSpec
from btcn.contracts.enums import Leg
from btcn.core.book import Quotes
from btcn.core.planner import PlannerParams, decide
from btcn.core.signals import NO_SIGNAL
from btcn.core.threshold import AtrReading
from btcn.core.treasury import collateral_transfer

D = Decimal
PARAMS = PlannerParams(targets=(0.5, 0.0, 0.5), cooldown_ms=0)
FEES = {Leg.BTC_SPOT: D("0.001"), Leg.BTC_PERP_SHORT: D("0.0002")}


def plan_and_fill(led: Ledger, price: Decimal) -> list:
    d = decide(led.book(), Quotes(price, price, price), SpotSpec(), PerpSpec(), PARAMS, now_ms=1,
               atr=AtrReading(math.nan, 0), signal=NO_SIGNAL, last_rebalance_ms=None, data_as_of_ms=1)  # fmt: skip
    return [
        led.fill(0, 0, o.leg, o.action, o.qty_btc, o.limit_price_usdt, FEES[o.leg], "maker")
        for o in d.orders
    ]


def nav(led: Ledger, price: Decimal) -> Decimal:
    return led.spot_usdt + led.spot.qty_btc * price + led.futures_usdt + led.perp_unrealized(price)


def test_the_manuals_worked_example() -> None:
    led = Ledger(D(100_000), D("0.0001"))
    # 1. first decision at 50,000
    fills = plan_and_fill(led, D(50_000))
    assert [(f.action, f.qty_btc, f.fee_usdt) for f in fills] == [("BUY", D("1.000000"), D("50.000000")),
                                                                  ("OPEN_SHORT", D("1.0000"), D("10.0000"))]  # fmt: skip
    assert led.spot_usdt == D(49_950) and led.futures_usdt == D(-10)
    move = collateral_transfer(led.spot_usdt, led.futures_usdt, D(0), D(50_000), D(3))
    assert round(move, 2) == D("16676.67")
    led.transfer_to_futures(move)
    assert round(led.spot_usdt, 2) == D("33273.33") and round(led.futures_usdt, 2) == D("16666.67")
    assert round(nav(led, D(50_000)), 2) == D("99940.00")
    # 2. the price rises to 55,000: the hedge holds
    assert led.perp_unrealized(D(55_000)) == D(-5_000)
    assert round(nav(led, D(55_000)), 2) == D("99940.00")
    # 3. funding +0.01 %: the short receives 5.50
    assert led.pay_funding(D("0.0001"), D(55_000)) == D("5.5")
    assert round(nav(led, D(55_000)), 2) == D("99945.50")
    # 4. the rebalance
    fills = plan_and_fill(led, D(55_000))
    spot, short = fills
    assert (spot.action, spot.qty_btc, short.action, short.qty_btc) == (
        "SELL",
        D("0.091404"),
        "CLOSE_SHORT",
        D("0.0914"),
    )
    assert spot.realized_pnl_usdt == D("457.020000") and short.realized_pnl_usdt == D("-457.0000")
    assert (round(spot.fee_usdt, 2), round(short.fee_usdt, 2)) == (D("5.03"), D("1.01"))
    assert round(nav(led, D(55_000)), 2) == D("99939.47")
