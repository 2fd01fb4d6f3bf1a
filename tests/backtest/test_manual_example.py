"""The worked example of docs/manual.md ("Simulating position holding and modelling profit"),
computed with the real planner, treasury and ledger. If this test changes, update the manual."""

from __future__ import annotations

import math
from decimal import Decimal

from btcn.backtest.ledger import Ledger
from btcn.contracts import PerpSpec, SpotSpec
from btcn.contracts.enums import Leg
from btcn.core.book import Quotes
from btcn.core.planner import Decision, PlannerParams, decide
from btcn.core.signals import NO_SIGNAL
from btcn.core.threshold import AtrReading
from btcn.core.treasury import TreasuryParams

D = Decimal
PARAMS = PlannerParams(targets=(0.5, 0.0, 0.5), cooldown_ms=0, rebalance="book",
                       treasury=TreasuryParams(k=D("0.0045")))  # fmt: skip
FEES = {Leg.BTC_SPOT: D("0.001"), Leg.BTC_PERP_SHORT: D("0.0002")}


def plan(led: Ledger, price: Decimal) -> Decision:
    return decide(led.book(), Quotes(price, price, price), SpotSpec(), PerpSpec(), PARAMS, now_ms=1,
                  atr=AtrReading(math.nan, 0), signal=NO_SIGNAL, last_rebalance_ms=None,
                  data_as_of_ms=1)  # fmt: skip


def work(led: Ledger, d: Decision) -> list:
    """The plan in execute's order: before-orders transfers, fills (maker), after-orders."""
    for t in d.transfers:
        if t.when == "before_orders":
            led.transfer_to_futures(t.amount_usdt if t.from_wallet == "spot" else -t.amount_usdt)
    fills = [
        led.fill(0, 0, o.leg, o.action, o.qty_btc, o.limit_price_usdt, FEES[o.leg], "maker")
        for o in d.orders
    ]
    for t in d.transfers:
        if t.when == "after_orders":
            led.transfer_to_futures(t.amount_usdt if t.from_wallet == "spot" else -t.amount_usdt)
    return fills


def nav(led: Ledger, price: Decimal) -> Decimal:
    return led.spot_usdt + led.spot.qty_btc * price + led.futures_usdt + led.perp_unrealized(price)


def test_the_manuals_worked_example() -> None:
    led = Ledger(D(100_000), D("0.0001"))
    # 1. first decision at 50,000: the margin goes first, the hedge matches the BTC held
    d = plan(led, D(50_000))
    assert [(o.action.value, o.qty_btc) for o in d.orders] == [("BUY", D("1.000000")),
                                                                ("OPEN_SHORT", D("0.9990"))]  # fmt: skip
    assert [(t.from_wallet, t.amount_usdt, t.reason, t.when) for t in d.transfers] == [
        ("spot", D("24999.97"), "margin", "before_orders")
    ]
    assert d.net_delta_after_btc == 0
    fills = work(led, d)
    assert [(f.fee_usdt, f.fee_btc) for f in fills] == [(D("50.000000"), D("0.001000")),
                                                        (D("9.99000000"), D(0))]  # fmt: skip
    assert led.spot.qty_btc == D("0.999") and led.short.qty_btc == D("0.9990")
    assert led.spot_usdt == D("25000.03") and led.futures_usdt == D("24989.98")
    assert nav(led, D(50_000)) == D("99940.01")
    # 2. the price rises to 55,000: the hedge holds
    assert led.perp_unrealized(D(55_000)) == D(-4_995)
    assert nav(led, D(55_000)) == D("99940.01")
    # 3. funding +0.01 %: the short receives 5.4945
    assert led.pay_funding(D("0.0001"), D(55_000)) == D("5.4945")
    assert nav(led, D(55_000)) == D("99945.5045")
    # 4. the rebalance: spot back to target, the short to the BTC spot will hold
    d = plan(led, D(55_000))
    spot, short = work(led, d)
    assert (spot.action, spot.qty_btc, short.action, short.qty_btc) == (
        "SELL", D("0.090404"), "CLOSE_SHORT", D("0.0904"),
    )  # fmt: skip
    assert d.transfers == ()  # futures equity inside the band: no transfer
    assert spot.realized_pnl_usdt == D("452.020000") and short.realized_pnl_usdt == D("-452.0000")
    assert (round(spot.fee_usdt, 2), round(short.fee_usdt, 2)) == (D("4.97"), D("0.99"))
    assert led.spot.qty_btc - led.short.qty_btc == D("-0.000004")  # one spot step
    assert round(nav(led, D(55_000)), 2) == D("99939.54")
