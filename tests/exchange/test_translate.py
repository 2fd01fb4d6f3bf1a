"""Wire models and the translation to contracts: tolerant parsing, hedge-mode sides, round trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from btcn.contracts import Action, Side
from btcn.errors import ExchangeError
from btcn.exchange import gate_wire as w
from btcn.exchange import translate as tr

D = Decimal


def test_numbers_arrive_as_text_whatever_their_json_type() -> None:
    o = w.FuturesOrder.model_validate(
        {
            "id": 900000000000000001,
            "status": "open",
            "contract": "BTC_USDT",
            "size": -10,
            "left": "-4",
            "price": "0",
            "create_time": 1700000000.25,
        }
    )
    assert (o.id, o.size, o.left, o.create_time) == (
        "900000000000000001",
        "-10",
        "-4",
        "1700000000.25",
    )
    vo = tr.futures_order(o)
    assert (vo.qty_venue, vo.filled_venue, vo.side) == (D(10), D(6), Side.SELL)
    assert vo.create_time_ms == 1700000000250


def test_booleans_are_not_numbers() -> None:
    with pytest.raises(ValueError, match="boolean"):
        w.SpotAccount.model_validate({"currency": "BTC", "available": True, "locked": "0"})


def test_empty_optional_numbers_are_none() -> None:
    t = w.SpotTicker.model_validate({"currency_pair": "BTC_USDT", "last": "1", "lowest_ask": ""})
    assert t.lowest_ask is None


def test_dual_mode_positions_by_mode_and_either_sign() -> None:
    rows = [
        w.Position(
            contract="BTC_USDT", size="120", mode="dual_long", entry_price="99000", leverage="5"
        ),
        w.Position(
            contract="BTC_USDT",
            size="-300",
            mode="dual_short",
            entry_price="101000",
            leverage="0",
            cross_leverage_limit="10",
        ),
        w.Position(contract="ETH_USDT", size="7", mode="dual_long"),
    ]
    sides = tr.position_sides(rows, "BTC_USDT")
    assert sides["long"] == tr.SideState(D(120), D(99000), D(5))
    assert sides["short"] == tr.SideState(D(300), D(101000), D(10))
    # a positive short size (the sign is unverified on the live API) is read the same way
    rows[1] = rows[1].model_copy(update={"size": "300"})
    assert tr.position_sides(rows, "BTC_USDT")["short"].contracts == D(300)
    pp = tr.perp_positions(rows, "BTC_USDT")
    assert pp.BTC_PERP_LONG.size_contracts == D(120)
    assert pp.BTC_PERP_SHORT.entry_price_usdt == D(101000)


def test_single_mode_position_sign_gives_the_side() -> None:
    sides = tr.position_sides(
        [w.Position(contract="BTC_USDT", size="-5", entry_price="1")], "BTC_USDT"
    )
    assert sides["short"].contracts == D(5) and sides["long"].contracts == 0
    sides = tr.position_sides([w.Position(contract="BTC_USDT", size="0")], "BTC_USDT")
    assert sides["long"].entry_price_usdt is None


def test_specs_from_venue_rules() -> None:
    pair = w.CurrencyPair(
        id="BTC_USDT",
        base="BTC",
        quote="USDT",
        min_base_amount="0.0001",
        min_quote_amount="3",
        amount_precision=6,
        precision=1,
    )
    spec = tr.spot_spec(pair)
    assert (spec.step_btc, spec.tick_usdt, spec.min_qty_btc, spec.min_notional_usdt) == (
        D("0.000001"),
        D("0.1"),
        D("0.0001"),
        D(3),
    )
    c = w.Contract(
        name="BTC_USDT",
        quanto_multiplier="0.0001",
        order_size_min=1,
        order_size_max="1000000",
        order_price_round="0.1",
    )
    p = tr.perp_spec(c)
    assert (p.multiplier_btc, p.min_size_contracts, p.step_contracts, p.tick_usdt) == (
        D("0.0001"),
        D(1),
        D(1),
        D("0.1"),
    )


def test_fees_are_valued_in_usdt() -> None:
    buy = w.SpotTrade(
        id="1",
        currency_pair="BTC_USDT",
        side="buy",
        role="maker",
        amount="0.5",
        price="100000",
        order_id="9",
        fee="0.0005",
        fee_currency="BTC",
        create_time_ms="1700000000123.5",
    )
    f = tr.spot_fill(buy)
    assert (f.fee_usdt, f.maker, f.time_ms) == (D(50), True, 1700000000123)
    sell = buy.model_copy(update={"side": "sell", "fee": "50", "fee_currency": "USDT"})
    assert tr.spot_fill(sell).fee_usdt == D(50)
    gt = buy.model_copy(update={"fee": "0.1", "fee_currency": "GT"})
    assert tr.spot_fill(gt).fee_usdt == 0
    fut = w.FuturesTrade(
        id=3,
        create_time=1700000000.5,
        contract="BTC_USDT",
        order_id="4",
        size=-20,
        price="100000",
        role="taker",
        fee="0.1",
    )
    ff = tr.futures_fill(fut)
    assert (ff.qty_venue, ff.fee_usdt, ff.maker, ff.time_ms) == (
        D(20),
        D("0.1"),
        False,
        1700000000500,
    )


def test_spot_order_fill_from_totals_when_avg_missing() -> None:
    o = w.SpotOrder(
        id="1",
        status="cancelled",
        currency_pair="BTC_USDT",
        side="buy",
        amount="1",
        left="0.75",
        filled_total="25000",
        avg_deal_price="0",
    )
    v = tr.spot_order(o)
    assert (v.filled_venue, v.avg_price_usdt, v.is_open) == (D("0.25"), D(100000), False)
    with pytest.raises(ExchangeError, match="without an id"):
        tr.spot_order(w.SpotBatchResult(succeeded=False, label="X"))


def test_bad_numbers_are_exchange_errors() -> None:
    with pytest.raises(ExchangeError, match="not a number"):
        tr.to_dec("abc", "price")
    with pytest.raises(ExchangeError, match="not finite"):
        tr.to_dec("NaN", "price")
    with pytest.raises(ExchangeError, match="missing"):
        tr.to_dec(None, "price")


def test_fmt_dec_never_uses_exponents() -> None:
    assert tr.fmt_dec(D("1E-5")) == "0.00001"
    assert tr.fmt_dec(D("100.000")) == "100"
    assert tr.fmt_dec(D("1E+2")) == "100"
    assert tr.fmt_dec(D("-0.0")) == "0"


@given(st.decimals(min_value=D("-1e9"), max_value=D("1e9"), places=8, allow_nan=False))
def test_fmt_dec_round_trips(value: Decimal) -> None:
    text = tr.fmt_dec(value)
    assert "E" not in text and "e" not in text
    assert D(text) == value


PERP_ACTIONS = [Action.OPEN_LONG, Action.CLOSE_LONG, Action.OPEN_SHORT, Action.CLOSE_SHORT]


@given(
    action=st.sampled_from(PERP_ACTIONS),
    contracts=st.integers(min_value=1, max_value=10**7),
    market=st.booleans(),
)
def test_futures_body_round_trips_through_the_wire(
    action: Action, contracts: int, market: bool
) -> None:
    """Property: the body's signed size + reduce_only decode back to the same action and size."""
    body = tr.futures_order_body(
        text="t-x",
        contract="BTC_USDT",
        action=action,
        contracts=D(contracts),
        price=None if market else D("100000.1"),
        tif="poc",
    )
    echoed = w.FuturesOrder.model_validate(
        {**body, "id": 1, "status": "open", "left": body["size"]}
    )
    assert tr.futures_action(D(echoed.size), echoed.reduce_only) is action
    assert abs(D(echoed.size)) == contracts
    assert body["reduce_only"] is action.value.startswith("CLOSE")
    assert (body["price"], body["tif"]) == (("0", "ioc") if market else ("100000.1", "poc"))


def test_futures_body_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        tr.futures_order_body(
            text="t", contract="C", action=Action.BUY, contracts=D(1), price=None, tif="ioc"
        )
    with pytest.raises(ValueError):
        tr.futures_order_body(
            text="t", contract="C", action=Action.OPEN_LONG, contracts=D(0), price=None, tif="ioc"
        )
    with pytest.raises(ValueError):
        tr.futures_action(D(0), False)
    body = tr.futures_order_body(
        text="t", contract="C", action=Action.OPEN_LONG, contracts=D("1.5"), price=None, tif="ioc"
    )
    assert body["size"] == "1.5"


def test_spot_body_is_a_limit_in_btc() -> None:
    body = tr.spot_order_body(
        text="t-a",
        pair="BTC_USDT",
        side=Side.SELL,
        amount_btc=D("0.10"),
        price=D("100000.0"),
        tif="ioc",
    )
    assert body == {
        "text": "t-a",
        "currency_pair": "BTC_USDT",
        "type": "limit",
        "account": "spot",
        "side": "sell",
        "amount": "0.1",
        "price": "100000",
        "time_in_force": "ioc",
    }


def test_candle_rows() -> None:
    row, closed = tr.gate_spot_candle(["1700000000", "1000", "3", "4", "1", "2", "0.5", "false"])
    assert row == tr.CandleRow(1700000000000, 2.0, 4.0, 1.0, 3.0, 0.5) and not closed
    row, closed = tr.gate_spot_candle(["1700000000", "1000", "3", "4", "1", "2"])
    assert closed and row.volume == 0.0
    with pytest.raises(ExchangeError):
        tr.gate_spot_candle(["1"])
    fc = w.FuturesCandle(t=1700000000, o="1", h="2", l="0.5", c="1.5", v=10000)
    assert tr.gate_futures_candle(fc, D("0.0001")).volume == 1.0
    assert tr.gate_futures_candle(fc, None).volume == 0.0
    k = tr.binance_kline([1735689600000000, "1", "2", "0.5", "1.5", "3", 0, "0", 0, "0", "0", "0"])
    assert k.open_ms == 1735689600000
    with pytest.raises(ExchangeError):
        tr.binance_kline([1])
    assert (
        tr.binance_funding({"fundingTime": 5, "fundingRate": "0.0001", "markPrice": ""}).mark_price
        is None
    )
    assert tr.gate_funding(w.FundingRateRecord(t=10, r="0.1")) == tr.FundingRow(10000, 0.1, None)


def test_dual_mode_flag() -> None:
    assert tr.is_dual_mode(w.FuturesAccount(total="1", available="1", in_dual_mode=True))
    assert not tr.is_dual_mode(
        w.FuturesAccount(total="1", available="1", position_mode="single", in_dual_mode=True)
    )
    assert tr.is_dual_mode(w.FuturesAccount(total="1", available="1", position_mode="dual_plus"))
