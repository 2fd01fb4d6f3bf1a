"""One test per defect the audit found in the previous backtester; each fails on the old behaviour."""

from __future__ import annotations

import numpy as np

from tests.backtest.support import ZERO_FEES, candles, engine_params, market, run


def rising(n: int = 2000, total: float = 0.2) -> np.ndarray:
    return 50_000.0 * np.exp(np.linspace(0, np.log(1 + total), n))


def test_defect1_positions_are_held_between_candles() -> None:
    out = run(market(candles(rising())), engine_params(targets=(0.5, 0.0, 0.0)))
    qty = out.columns["spot_qty_btc"]
    first_buy = int(np.argmax(qty > 0))
    held = qty[first_buy:]
    assert (held > 0).all(), "the position must persist on every bar after it was opened"
    # a held position accumulates/reduces through rebalances instead of round-tripping each bar
    assert len(out.ledger.trades) < 0.05 * qty.shape[0]
    assert out.ledger.spot.position_id == 1  # one position, never closed and reopened


def test_defect2_gross_pnl_is_not_zero_when_the_market_moves() -> None:
    close = rising(total=0.2)
    out = run(
        market(candles(close)), engine_params(targets=(0.5, 0.0, 0.0), fees=ZERO_FEES, slippage="0")
    )
    nav = out.columns["nav_usdt"]
    gross = nav[-1] - 100_000 + float(out.ledger.fees_usdt) - float(out.ledger.funding_usdt)
    assert gross > 0.5 * 100_000 * 0.2 * 0.8, gross  # about half the book rode a 20 % rise
    sells = [t for t in out.ledger.trades if t.action == "SELL"]
    assert sells and all(t.realized_pnl_usdt > 0 for t in sells)  # exit price above entry price
    assert all(t.price != out.ledger.trades[0].price for t in sells)


def test_defect3_spot_is_never_traded_on_margin() -> None:
    # target 100 % spot, all cash in spot: buys can never exceed the USDT held, even as price falls
    close = 50_000.0 * np.exp(np.linspace(0, np.log(0.6), 3000))
    out = run(market(candles(close)), engine_params(targets=(1.0, 0.0, 0.0)))
    c = out.columns
    assert (c["spot_usdt"] >= 0).all() and (c["spot_qty_btc"] >= 0).all()
    # a leveraged simulation would hold more BTC than NAV / price
    assert (c["spot_qty_btc"] * close <= c["nav_usdt"] * (1 + 1e-9)).all()
    assert c["futures_usdt"].max() == 0.0  # nothing borrowed or posted as margin for spot


def test_defect4_position_direction_sets_the_sign_of_pnl() -> None:
    falling = 50_000.0 * np.exp(np.linspace(0, np.log(0.8), 2000))
    p = engine_params(targets=(0.0, 0.0, 0.5), fees=ZERO_FEES, slippage="0")
    out = run(market(candles(falling)), p)
    assert out.columns["nav_usdt"][-1] > 100_000 * 1.05  # a short gains when the price falls
    from decimal import Decimal

    assert out.ledger.short.unrealized_pnl(Decimal(repr(float(falling[-1])))) > 0
    out_up = run(market(candles(rising())), p)
    assert out_up.columns["nav_usdt"][-1] < 100_000 * 0.95  # and loses when it rises
    closes = [t for t in out_up.ledger.trades if t.action == "CLOSE_SHORT"]
    assert closes and all(t.realized_pnl_usdt < 0 for t in closes)  # buying back above entry


def test_defect5_signal_logic_off_carries_positions() -> None:
    close = rising(total=0.05)
    out = run(market(candles(close)), engine_params(apply_signal_logic=False))
    c = out.columns
    start = int(np.argmax(c["spot_qty_btc"] > 0))
    assert (c["spot_qty_btc"][start:] > 0).all() and (c["short_qty_btc"][start + 1 :] > 0).all()
    # later rebalances adjust the held book; they never rebuild it from an empty portfolio
    opens = [t for t in out.ledger.trades if t.action in ("BUY", "OPEN_SHORT")]
    first_size = opens[0].qty_btc
    assert all(t.qty_btc < first_size / 4 for t in opens[2:])
    assert out.ledger.spot.position_id == 1 and out.ledger.short.position_id == 1
