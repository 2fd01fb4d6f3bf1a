"""The Gate client against the fake venue over real HTTP on 127.0.0.1."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import SecretStr

from btcn.contracts import Action, Side
from btcn.exchange import translate as tr
from btcn.exchange.credentials import Credentials
from btcn.exchange.errors import AuthError, RejectedError, ServerError, TransportError
from btcn.exchange.gate import GateClient
from btcn.exchange.retry import RetryPolicy
from tests.fakes import FakeGate, FakeServer
from tests.helpers import KEY, SECRET, VirtualClock

D = Decimal


def client(server: FakeServer, clock: VirtualClock, secret: str = SECRET, **kw) -> GateClient:  # type: ignore[no-untyped-def]
    return GateClient(
        server.gate_url,
        credentials=Credentials(SecretStr(KEY), SecretStr(secret)),
        clock=clock,
        retry=RetryPolicy(max_attempts=3, clock=clock),
        **kw,
    )


def test_public_market_data(server: FakeServer, vclock: VirtualClock) -> None:
    with GateClient(server.gate_url, clock=vclock) as c:
        assert c.server_time_ms() == vclock.now_ms()
        assert tr.spot_spec(c.currency_pair("BTC_USDT")).step_btc == D("0.000001")
        assert tr.perp_spec(c.contract("BTC_USDT")).multiplier_btc == D("0.0001")
        t = c.spot_ticker("BTC_USDT")
        assert (t.highest_bid, t.lowest_ask) == ("99999.95", "100000.05")
        book = c.spot_order_book("BTC_USDT", limit=5)
        assert D(book.asks[0][0]) > D(book.bids[0][0])
        fbook = c.futures_order_book("BTC_USDT")
        assert fbook.asks[0].s == "100000"
        assert c.futures_ticker("BTC_USDT").mark_price == "100000"
        now_s = vclock.now_ms() // 1000
        rows = c.spot_candles("BTC_USDT", "5m", now_s - 3000, now_s)
        assert len(rows) == 11 and rows[-1][7] in ("true", "false")
        marks = c.futures_candles("mark_BTC_USDT", "1h", now_s - 36000, now_s)
        assert marks and all(m.v is None for m in marks)
        perps = c.futures_candles("BTC_USDT", "1h", now_s - 36000, now_s)
        assert perps[0].v == "12000"
        funding = c.funding_rate_history("BTC_USDT", 1735689600, 1735689600 + 86400 * 3)
        assert len(funding) == 10 and funding[0].t > funding[-1].t


def test_clock_offset_is_measured(gate: FakeGate, server: FakeServer, vclock: VirtualClock) -> None:
    gate.skew_s = 90
    with client(server, vclock) as c:
        assert c.sync_clock() == 90_000
        assert c.venue_now_ms() == vclock.now_ms() + 90_000


def test_accounts_positions_and_ledger(
    gate: FakeGate, server: FakeServer, vclock: VirtualClock
) -> None:
    gate.pos["short"] = [D(4000), D(101000)]
    gate.apply_funding(D("0.0001"))
    with client(server, vclock) as c:
        totals = tr.spot_totals(c.spot_accounts())
        assert totals == {"USDT": D(50000), "BTC": D(0)}
        assert [a.currency for a in c.spot_accounts("BTC")] == ["BTC"]
        acct = c.futures_account()
        assert tr.is_dual_mode(acct) and acct.total == "50004"
        sides = tr.position_sides(c.dual_positions("BTC_USDT"), "BTC_USDT")
        assert sides["short"] == tr.SideState(D(4000), D(101000), D(10))
        assert [p.mode for p in c.positions()] == ["dual_short"]
        book = c.account_book("BTC_USDT", type_="fund")
        assert [(b.type, b.change) for b in book] == [("fund", "4")]


def test_orders_lifecycle_spot_and_futures(
    gate: FakeGate, server: FakeServer, vclock: VirtualClock
) -> None:
    with client(server, vclock) as c:
        body = tr.spot_order_body(
            text="t-test-1",
            pair="BTC_USDT",
            side=Side.BUY,
            amount_btc=D("0.01"),
            price=D("99000"),
            tif="gtc",
        )
        o = tr.spot_order(c.create_spot_order(body, exptime_ms=c.venue_now_ms() + 5000))
        assert o.is_open and o.filled_venue == D("0.005")
        assert c.get_spot_order("t-test-1", "BTC_USDT").id == o.order_id  # by text while open
        assert [x.text for x in c.list_spot_orders("BTC_USDT", "open")] == ["t-test-1"]
        done = tr.spot_order(c.cancel_spot_order(o.order_id, "BTC_USDT"))
        assert not done.is_open and done.filled_venue == D("0.005")
        with pytest.raises(RejectedError) as info:
            c.get_spot_order("t-test-1", "BTC_USDT")  # finished: the text no longer resolves
        assert info.value.label == "ORDER_NOT_FOUND"
        assert c.get_spot_order(o.order_id, "BTC_USDT").status == "cancelled"
        finished = c.list_spot_orders("BTC_USDT", "finished", from_s=0)
        assert [x.text for x in finished] == ["t-test-1"]
        assert sum(D(t.amount) for t in c.spot_trades("BTC_USDT", order_id=o.order_id)) == D(
            "0.005"
        )

        fbody = tr.futures_order_body(
            text="t-test-2",
            contract="BTC_USDT",
            action=Action.OPEN_LONG,
            contracts=D(30),
            price=None,
            tif="ioc",
        )
        fo = tr.futures_order(c.create_futures_order(fbody, exptime_ms=None))
        assert not fo.is_open and fo.filled_venue == 30
        assert c.get_futures_order("t-test-2").id == fo.order_id
        assert len(c.futures_trades("BTC_USDT", order_id=fo.order_id)) == 1
        assert c.list_futures_orders("BTC_USDT", "finished")[0].text == "t-test-2"
        with pytest.raises(RejectedError, match="ORDER_FINISHED"):
            c.cancel_futures_order(fo.order_id)


def test_batches_report_each_order(
    gate: FakeGate, server: FakeServer, vclock: VirtualClock
) -> None:
    with client(server, vclock) as c:
        good = tr.spot_order_body(
            text="t-b-1",
            pair="BTC_USDT",
            side=Side.BUY,
            amount_btc=D("0.01"),
            price=D("99000"),
            tif="poc",
        )
        crossing = tr.spot_order_body(
            text="t-b-2",
            pair="BTC_USDT",
            side=Side.BUY,
            amount_btc=D("0.01"),
            price=D("100001"),
            tif="poc",
        )
        res = c.create_spot_batch([good, crossing], exptime_ms=None)
        assert [r.succeeded for r in res] == [True, False]
        assert res[1].label == "POC_FILL_IMMEDIATELY"
        cancels = c.cancel_spot_batch("BTC_USDT", [res[0].id or "", "123"])
        assert [x.succeeded for x in cancels] == [True, False]
        fb = [
            tr.futures_order_body(
                text=f"t-f-{i}",
                contract="BTC_USDT",
                action=a,
                contracts=D(10),
                price=D("99990"),
                tif="poc",
            )
            for i, a in enumerate([Action.OPEN_LONG, Action.CLOSE_SHORT])
        ]
        fres = c.create_futures_batch(fb, exptime_ms=None)
        assert [r.succeeded for r in fres] == [True, False]
        assert fres[1].label == "REDUCE_EXCEEDED" and fres[1].detail
        fc = c.cancel_futures_batch([fres[0].id or ""])
        assert fc[0].succeeded


def test_wrong_secret_is_an_invalid_signature(
    gate: FakeGate, server: FakeServer, vclock: VirtualClock
) -> None:
    with client(server, vclock, secret="not-the-secret") as c, pytest.raises(AuthError) as info:
        c.spot_accounts()
    assert info.value.label == "INVALID_SIGNATURE"
    assert gate.auth_failures == ["INVALID_SIGNATURE"]
    assert "not-the-secret" not in str(info.value) and SECRET not in str(info.value)


def test_clock_skew_is_recovered(gate: FakeGate, server: FakeServer, vclock: VirtualClock) -> None:
    gate.skew_s = -300  # the venue is five minutes behind us
    with client(server, vclock) as c:
        assert c.spot_accounts()
    assert gate.auth_failures == ["REQUEST_EXPIRED"]


def test_expired_request_deadline_is_refused(
    gate: FakeGate, server: FakeServer, vclock: VirtualClock
) -> None:
    with client(server, vclock) as c:
        body = tr.spot_order_body(
            text="t-late",
            pair="BTC_USDT",
            side=Side.BUY,
            amount_btc=D("0.01"),
            price=D("99000"),
            tif="poc",
        )
        with pytest.raises(RejectedError, match="REQUEST_EXPIRED"):
            c.create_spot_order(body, exptime_ms=c.venue_now_ms() - 1)
    assert gate.creations == []


def test_faults_reach_the_client_as_typed_errors(
    gate: FakeGate, server: FakeServer, vclock: VirtualClock
) -> None:
    gate.add_fault(method="GET", path="/spot/accounts", kind="status", status=502, times=2)
    with client(server, vclock) as c:
        assert c.spot_accounts()  # two 502s, then success
        gate.add_fault(method="GET", path="/spot/accounts", kind="reset", times=5)
        with pytest.raises(TransportError) as info:
            c.spot_accounts()
        assert info.value.maybe_processed
        gate.add_fault(method="POST", path="/spot/orders", kind="status", status=500, when="after")
        body = tr.spot_order_body(
            text="t-lost",
            pair="BTC_USDT",
            side=Side.BUY,
            amount_btc=D("0.01"),
            price=D("99000"),
            tif="gtc",
        )
        with pytest.raises(ServerError):
            c.create_spot_order(body, exptime_ms=None)
    assert [t for _, t, _ in gate.creations] == ["t-lost"]  # accepted although the answer was lost


def test_timeout_fault(gate: FakeGate, server: FakeServer, vclock: VirtualClock) -> None:
    gate.add_fault(method="GET", path="/spot/time", kind="timeout", delay_s=0.6, times=1)
    with GateClient(
        server.gate_url,
        clock=vclock,
        timeout_s=0.2,
        retry=RetryPolicy(max_attempts=2, clock=vclock),
    ) as c:
        assert c.server_time_ms() == vclock.now_ms()
    assert len(vclock.sleeps) == 1


def test_query_windows_and_missing_entries(
    gate: FakeGate, server: FakeServer, vclock: VirtualClock
) -> None:
    from btcn.errors import ExchangeError

    gate.apply_funding(D("0.0001"))
    with client(server, vclock) as c:
        now_s = vclock.now_ms() // 1000
        assert c.list_spot_orders("BTC_USDT", "finished", from_s=0, to_s=now_s) == []
        assert c.spot_trades("BTC_USDT", from_s=0, to_s=now_s) == []
        assert len(c.account_book(None, from_s=now_s - 10, to_s=now_s + 10)) == 1
        assert c.account_book("BTC_USDT", from_s=now_s + 100) == []
        assert [p.mode for p in c.positions(holding=False)] == ["dual_long", "dual_short"]
        with pytest.raises(ExchangeError, match="has no entry for ETH_USDT"):
            c.spot_ticker("ETH_USDT")
