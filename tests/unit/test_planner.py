from __future__ import annotations

from decimal import Decimal

from btcn.contracts.enums import Action, Leg, Signal
from btcn.core.book import Book, Quotes
from tests.planner_support import LOOSE, PERP, SPOT, params, run, sig

D = Decimal
Q = Quotes(p_ref=D(100_000), spot=D(100_000), perp_mark=D(100_000))


def drifted_book(spot_btc: str = "0.55", short_contracts: str = "5500") -> Book:
    # balanced at 100k with NAV 100k would be 0.5 BTC spot and 5000 contracts short
    return Book(spot_usdt=D(33_000), spot_btc=D(spot_btc), futures_usdt=D(17_000),
                short_contracts=D(short_contracts), short_entry_usdt=D(100_000))  # fmt: skip


def test_legs_beyond_threshold_trade_back_to_target() -> None:
    d = run(drifted_book(), Q, params(**LOOSE))
    assert d.status == "rebalance"
    by_leg = {o.leg: o for o in d.orders}
    assert set(by_leg) == {Leg.BTC_SPOT, Leg.BTC_PERP_SHORT}
    assert by_leg[Leg.BTC_SPOT].action is Action.SELL
    assert by_leg[Leg.BTC_PERP_SHORT].action is Action.CLOSE_SHORT
    nav = d.nav_usdt
    assert nav == D(33_000) + D("0.55") * D(100_000) + D(17_000)
    target_btc = D("0.5") * nav / D(100_000)
    assert by_leg[Leg.BTC_SPOT].qty_btc == (D("0.55") - target_btc).quantize(
        D("0.000001"), rounding="ROUND_DOWN"
    )
    assert by_leg[Leg.BTC_PERP_SHORT].qty_venue == int(
        (D("0.55") - target_btc) / PERP.multiplier_btc
    )
    assert "thr" in by_leg[Leg.BTC_SPOT].reason


def test_within_threshold_no_orders() -> None:
    d = run(drifted_book("0.502", "5020"), Q, params(**LOOSE))
    assert d.status == "no_action" and not d.orders


def test_threshold_uses_atr_when_larger() -> None:
    # 0.2 * 5000 / 100000 = 1 %: a 5 % weight drift trades, a 0.8 % drift does not
    assert run(drifted_book(), Q, params(**LOOSE), atr=5000.0).orders
    d = run(drifted_book("0.515", "5150"), Q, params(**LOOSE), atr=5000.0)
    assert d.threshold.thr == 0.01 and d.threshold.source == "atr" and not d.orders
    d2 = run(drifted_book("0.515", "5150"), Q, params(**LOOSE))
    assert d2.threshold.source == "floor" and d2.orders


def test_cooldown_blocks_everything_until_it_ends() -> None:
    p = params(**LOOSE, cooldown_ms=3_600_000)
    d = run(drifted_book(), Q, p, now=10_000_000, last=10_000_000 - 3_599_999)
    assert d.status == "cooldown" and not d.orders and d.cooldown.active
    d = run(drifted_book(), Q, p, now=10_000_000, last=10_000_000 - 3_600_000)
    assert d.status == "rebalance" and not d.cooldown.active


def test_buy_signal_blocks_sells_and_records_rule() -> None:
    d = run(drifted_book(), Q, params(**LOOSE), signal=sig(Signal.BUY))
    assert [o.leg for o in d.orders] == [Leg.BTC_PERP_SHORT]  # CLOSE_SHORT is a BUY
    assert [(b.leg, b.rule) for b in d.blocked] == [(Leg.BTC_SPOT, "BUY_FORBIDS_SELL")]
    assert d.status == "rebalance"


def test_sell_signal_blocks_close_short() -> None:
    d = run(drifted_book(), Q, params(**LOOSE), signal=sig(Signal.SELL))
    assert [o.leg for o in d.orders] == [Leg.BTC_SPOT]
    assert [b.action for b in d.blocked] == [Action.CLOSE_SHORT]


def test_all_blocked_status() -> None:
    book = Book(spot_usdt=D(33_000), spot_btc=D("0.55"), futures_usdt=D(17_000),
                short_contracts=D(5000), short_entry_usdt=D(100_000))  # fmt: skip
    d = run(book, Q, params(**LOOSE), signal=sig(Signal.BUY))
    assert d.status == "blocked" and not d.orders and d.blocked


def test_signal_logic_off_ignores_signals() -> None:
    d = run(drifted_book(), Q, params(**LOOSE, apply_signal_logic=False), signal=sig(Signal.BUY))
    assert len(d.orders) == 2 and not d.blocked


def test_spot_buy_capped_by_usdt() -> None:
    book = Book(spot_usdt=D(1000), spot_btc=D("0.1"), futures_usdt=D(40_000))
    d = run(book, Q, params(**LOOSE, targets=(0.5, 0.0, 0.0)))
    (o,) = d.orders
    assert o.action is Action.BUY and "capped by spot USDT" in o.reason
    assert o.qty_btc * o.limit_price_usdt * (1 + D("0.001") + D("0.0002")) <= D(1000)


def test_below_minimum_is_dropped_with_reason() -> None:
    from btcn.contracts import PerpSpec

    big_min = PerpSpec(min_size_contracts=D(100_000))
    d = run(drifted_book(), Q, params(**LOOSE), perp=big_min)
    assert [o.leg for o in d.orders] == [Leg.BTC_SPOT]
    assert d.dropped and "below venue minimum" in d.dropped[0].reason


def test_zero_quantity_is_dropped() -> None:
    from btcn.contracts import SpotSpec

    coarse = SpotSpec(step_btc=D(1))
    d = run(drifted_book(), Q, params(**LOOSE), spot=coarse)
    assert any("rounds to zero" in x.reason for x in d.dropped)


def test_stale_data_trips_safe_mode() -> None:
    d = run(
        drifted_book(),
        Q,
        params(**LOOSE, max_data_age_ms=900_000),
        now=10_000_000,
        data_as_of=10_000_000 - 900_001,
    )
    assert d.status == "safe_mode" and d.safe_mode and not d.orders
    assert any(g.name == "data_age" and not g.ok for g in d.guardrails)


def test_future_data_and_unknown_age_trip_safe_mode() -> None:
    d = run(drifted_book(), Q, params(**LOOSE), now=10_000_000, data_as_of=10_000_001)
    assert d.safe_mode and "newer" in next(g.detail for g in d.guardrails if g.name == "data_age")
    from btcn.core.planner import decide
    from btcn.core.signals import NO_SIGNAL
    from btcn.core.threshold import AtrReading

    d = decide(drifted_book(), Q, SPOT, PERP, params(**LOOSE), now_ms=1, atr=AtrReading(float("nan"), 0),
               signal=NO_SIGNAL, last_rebalance_ms=None, data_as_of_ms=None)  # fmt: skip
    assert d.safe_mode and any(g.value == "unknown" for g in d.guardrails)


def test_price_deviation_trips_safe_mode() -> None:
    q = Quotes(p_ref=D(100_000), spot=D(100_000), perp_mark=D(101_500))
    d = run(drifted_book(), q, params(max_price_deviation=0.01))
    assert d.status == "safe_mode" and not d.orders


def test_order_notional_limit_empties_the_plan() -> None:
    d = run(drifted_book(), Q, params(max_order_notional_usdt=D(1000), max_net_delta=10.0))
    assert d.status == "safe_mode" and not d.orders
    g = next(g for g in d.guardrails if g.name == "order_notional")
    assert not g.ok and g.effect == "empty_plan"


def test_net_delta_guardrail_keeps_risk_reducing_orders_only() -> None:
    # Long 0.2 BTC net: spot 0.7, short 0.5. Spot sell reduces delta; a short increase also would.
    book = Book(spot_usdt=D(13_000), spot_btc=D("0.7"), futures_usdt=D(17_000),
                short_contracts=D(5000), short_entry_usdt=D(100_000))  # fmt: skip
    p = params(max_net_delta=0.1, targets=(0.5, 0.0, 0.3), max_order_notional_usdt=D(10**9))
    d = run(book, Q, p)
    assert d.safe_mode and d.status == "safe_mode"
    assert {o.action for o in d.orders} == {Action.SELL}
    assert any("risk-reducing" in x.reason for x in d.dropped)  # CLOSE_SHORT adds delta: dropped


def test_non_positive_nav_is_refused() -> None:
    book = Book(spot_usdt=D(0), spot_btc=D(0), futures_usdt=D(-10))
    d = run(book, Q, params(**LOOSE))
    assert d.safe_mode and not d.orders
    assert d.net_delta_pct_nav != d.net_delta_pct_nav  # NaN


def test_limit_prices_use_book_and_round_away_from_market() -> None:
    q = Quotes(p_ref=D(100_000), spot=D(100_000), perp_mark=D(100_000),
               spot_bid=D("99999.97"), spot_ask=D("100000.03"), perp_bid=D("99999.95"), perp_ask=D("100000.05"))  # fmt: skip
    d = run(drifted_book(), q, params(**LOOSE))
    by_leg = {o.leg: o for o in d.orders}
    assert by_leg[Leg.BTC_SPOT].limit_price_usdt == D("100000.1")  # sell at the ask, rounded up
    assert by_leg[Leg.BTC_PERP_SHORT].limit_price_usdt == D("99999.9")  # buy at the bid, down


def test_perp_long_leg_opens_and_closes() -> None:
    book = Book(spot_usdt=D(50_000), spot_btc=D(0), futures_usdt=D(50_000))
    d = run(book, Q, params(**LOOSE, targets=(0.0, 0.3, 0.0)))
    (o,) = d.orders
    assert o.action is Action.OPEN_LONG and o.venue_unit == "contracts" and o.qty_venue == 3000
    book = Book(spot_usdt=D(50_000), spot_btc=D(0), futures_usdt=D(50_000),
                long_contracts=D(5000), long_entry_usdt=D(100_000))  # fmt: skip
    d = run(book, Q, params(**LOOSE, targets=(0.0, 0.3, 0.0)))
    (o,) = d.orders
    assert o.action is Action.CLOSE_LONG and o.qty_venue == 2000
