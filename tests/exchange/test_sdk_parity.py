"""Gate's official SDK (``gate-api``) pointed at the fake reads what btcn reads.

The SDK is generated from Gate's OpenAPI spec and validates enums and types on every model, so
this keeps the fake's wire format honest: if the fake drifts from Gate's, these tests fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import gate_api
import pytest
from pydantic import SecretStr

from btcn.contracts import Action, Side
from btcn.exchange import translate as tr
from btcn.exchange.credentials import Credentials
from btcn.exchange.gate import GateClient
from tests.fakes import FakeGate, FakeServer
from tests.helpers import KEY, SECRET

D = Decimal


@pytest.fixture
def real_time_server() -> Iterator[tuple[FakeGate, FakeServer]]:
    # The SDK signs with time.time(): the fake must use the real clock here.
    gate = FakeGate(KEY, SECRET, spot_btc="0.75", long_contracts=0, short_contracts=2500)
    with FakeServer(gate) as srv:
        yield gate, srv


@pytest.fixture
def sdk(real_time_server: tuple[FakeGate, FakeServer]) -> gate_api.ApiClient:
    _, srv = real_time_server
    return gate_api.ApiClient(gate_api.Configuration(host=srv.gate_url, key=KEY, secret=SECRET))


@pytest.fixture
def ours(real_time_server: tuple[FakeGate, FakeServer]) -> Iterator[GateClient]:
    _, srv = real_time_server
    with GateClient(srv.gate_url, credentials=Credentials(SecretStr(KEY), SecretStr(SECRET))) as c:
        yield c


def test_balances_match(sdk: gate_api.ApiClient, ours: GateClient) -> None:
    theirs = {
        a.currency: (D(a.available), D(a.locked))
        for a in gate_api.SpotApi(sdk).list_spot_accounts()
    }
    mine = {a.currency: (D(a.available), D(a.locked)) for a in ours.spot_accounts()}
    assert theirs == mine == {"USDT": (D(50000), D(0)), "BTC": (D("0.75"), D(0))}
    f_theirs = gate_api.FuturesApi(sdk).list_futures_accounts("usdt")
    f_mine = ours.futures_account()
    assert (D(f_theirs.total), D(f_theirs.available), f_theirs.in_dual_mode) == (
        D(f_mine.total),
        D(f_mine.available),
        f_mine.in_dual_mode,
    )


def test_dual_positions_match(sdk: gate_api.ApiClient, ours: GateClient) -> None:
    theirs = gate_api.FuturesApi(sdk).get_dual_mode_position("usdt", "BTC_USDT")
    mine = ours.dual_positions("BTC_USDT")
    assert [(p.mode, D(p.size), D(p.entry_price)) for p in theirs] == [
        (p.mode, D(p.size), D(p.entry_price or "0")) for p in mine
    ]
    assert tr.perp_positions(mine, "BTC_USDT").BTC_PERP_SHORT.size_contracts == 2500
    listed = gate_api.FuturesApi(sdk).list_positions("usdt", holding=True)
    assert [p.mode for p in listed] == [p.mode for p in ours.positions()] == ["dual_short"]


def test_orders_placed_by_either_side_read_the_same(
    sdk: gate_api.ApiClient, ours: GateClient
) -> None:
    spot = gate_api.SpotApi(sdk)
    fut = gate_api.FuturesApi(sdk)
    # SDK places (its own body serialisation: strings, json.dumps spacing), btcn reads.
    placed = spot.create_order(
        gate_api.Order(
            text="t-sdk-1",
            currency_pair="BTC_USDT",
            type="limit",
            side="buy",
            amount="0.02",
            price="99000",
            time_in_force="gtc",
        )
    )
    f_placed = fut.create_futures_order(
        "usdt",
        gate_api.FuturesOrder(
            contract="BTC_USDT", size="-20", price="100100", tif="gtc", text="t-sdk-2"
        ),
    )
    # btcn places, SDK reads.
    body = tr.futures_order_body(
        text="t-btcn-x-ps-p",
        contract="BTC_USDT",
        action=Action.CLOSE_SHORT,
        contracts=D(10),
        price=D("99900"),
        tif="poc",
    )
    mine = tr.futures_order(ours.create_futures_order(body, exptime_ms=ours.venue_now_ms() + 5000))
    sbody = tr.spot_order_body(
        text="t-btcn-x-sp-p",
        pair="BTC_USDT",
        side=Side.SELL,
        amount_btc=D("0.1"),
        price=D("100100"),
        tif="poc",
    )
    smine = tr.spot_order(ours.create_spot_order(sbody, exptime_ms=None))

    sdk_spot = {o.text: o for o in spot.list_orders("BTC_USDT", "open")}
    our_spot = {o.text: o for o in ours.list_spot_orders("BTC_USDT", "open")}
    assert set(sdk_spot) == set(our_spot) == {"t-sdk-1", "t-btcn-x-sp-p"}
    for text, o in sdk_spot.items():
        mine_o = our_spot[text]
        assert (o.id, D(o.amount), D(o.left), D(o.filled_amount), o.side) == (
            mine_o.id,
            D(mine_o.amount),
            D(mine_o.left),
            D(mine_o.filled_amount or "0"),
            mine_o.side,
        )
    assert sdk_spot["t-sdk-1"].id == placed.id
    assert D(sdk_spot["t-btcn-x-sp-p"].left) == smine.qty_venue - smine.filled_venue

    sdk_fut = {o.text: o for o in fut.list_futures_orders("usdt", "open", contract="BTC_USDT")}
    our_fut = {o.text: o for o in ours.list_futures_orders("BTC_USDT", "open")}
    assert set(sdk_fut) == set(our_fut) == {"t-sdk-2", "t-btcn-x-ps-p"}
    for text, o in sdk_fut.items():
        assert (str(o.id), D(o.size), D(o.left), o.is_reduce_only) == (
            our_fut[text].id,
            D(our_fut[text].size),
            D(our_fut[text].left),
            our_fut[text].is_reduce_only,
        )
    assert sdk_fut["t-btcn-x-ps-p"].is_reduce_only and D(sdk_fut["t-btcn-x-ps-p"].size) == 10
    assert str(f_placed.id) == our_fut["t-sdk-2"].id
    assert str(fut.get_futures_order("usdt", "t-btcn-x-ps-p").id) == mine.order_id

    # Fills and cancels agree too.
    cancelled = spot.cancel_order(placed.id, "BTC_USDT")
    assert cancelled.status == "cancelled" and D(cancelled.filled_amount) == D("0.01")
    sdk_trades = spot.list_my_trades(currency_pair="BTC_USDT", order_id=placed.id)
    our_trades = ours.spot_trades("BTC_USDT", order_id=placed.id)
    assert [(t.id, D(t.amount), D(t.fee), t.fee_currency, t.role) for t in sdk_trades] == [
        (t.id, D(t.amount), D(t.fee), t.fee_currency, t.role) for t in our_trades
    ]
    f_trades = fut.get_my_trades("usdt", contract="BTC_USDT")
    assert sorted(str(t.id) for t in f_trades) == sorted(
        t.id for t in ours.futures_trades("BTC_USDT")
    )


def test_batch_answers_parse_in_the_sdk(sdk: gate_api.ApiClient) -> None:
    res = gate_api.SpotApi(sdk).create_batch_orders(
        [
            gate_api.Order(
                text="t-b1",
                currency_pair="BTC_USDT",
                side="buy",
                amount="0.01",
                price="99000",
                time_in_force="poc",
            ),
            gate_api.Order(
                text="t-b2",
                currency_pair="BTC_USDT",
                side="buy",
                amount="0.01",
                price="100500",
                time_in_force="poc",
            ),
        ]
    )
    assert [r.succeeded for r in res] == [True, False] and res[1].label == "POC_FILL_IMMEDIATELY"
    fres = gate_api.FuturesApi(sdk).create_batch_futures_order(
        "usdt",
        [
            gate_api.FuturesOrder(contract="BTC_USDT", size="5", price="0", tif="ioc", text="t-b3"),
            gate_api.FuturesOrder(
                contract="BTC_USDT",
                size="5",
                price="99000",
                tif="poc",
                text="t-b4",
                reduce_only=True,
            ),
        ],
    )
    assert fres[0].succeeded and fres[0].status == "finished" and fres[0].finish_as == "filled"
    assert fres[1].succeeded  # a reduce-only buy closes part of the short


def test_public_endpoints_parse_in_the_sdk(sdk: gate_api.ApiClient, ours: GateClient) -> None:
    spot = gate_api.SpotApi(sdk)
    fut = gate_api.FuturesApi(sdk)
    pair = spot.get_currency_pair("BTC_USDT")
    assert tr.spot_spec(ours.currency_pair("BTC_USDT")).step_btc == D(1).scaleb(
        -pair.amount_precision
    )
    contract = fut.get_futures_contract("usdt", "BTC_USDT")
    assert D(contract.quanto_multiplier) == tr.perp_spec(ours.contract("BTC_USDT")).multiplier_btc
    assert spot.list_tickers(currency_pair="BTC_USDT")[0].last == ours.spot_ticker("BTC_USDT").last
    assert fut.list_futures_tickers("usdt", contract="BTC_USDT")[0].mark_price == "100000"
    assert (
        spot.list_order_book("BTC_USDT").asks[0][0] == ours.spot_order_book("BTC_USDT").asks[0][0]
    )
    assert fut.list_futures_order_book("usdt", "BTC_USDT").bids[0].p == "99999.95"
    assert (
        len(spot.list_candlesticks("BTC_USDT", interval="1h", _from=1735689600, to=1735693200)) == 2
    )
    assert (
        len(
            fut.list_futures_candlesticks(
                "usdt", "mark_BTC_USDT", interval="1h", _from=1735689600, to=1735693200
            )
        )
        == 2
    )
    hist = fut.list_futures_funding_rate_history("usdt", "BTC_USDT", limit=5)
    assert [h.r for h in hist] == [r.r for r in ours.funding_rate_history("BTC_USDT", limit=5)]
    assert abs(spot.get_system_time().server_time - ours.server_time_ms()) < 5_000
    book = fut.list_futures_account_book("usdt", type="fund")
    assert book == []
