"""The backtester and the planner on a unified account: the same invariants as the classic
account (event skipping equals the bar-by-bar loop, NAV from trades, prices, funding and interest)
plus the unified ones (no transfer, no borrowing, account liquidation by the rule)."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from btcn.backtest.records import EngineParams
from btcn.backtest.unified import UnifiedSpec
from btcn.contracts import PerpSpec, SpotSpec
from btcn.contracts.enums import Side
from btcn.core.book import Book, Quotes
from btcn.core.planner import PlannerParams, decide
from btcn.core.projection import project
from btcn.core.signals import NO_SIGNAL
from btcn.core.threshold import AtrReading
from btcn.core.unified import MarginGuard, MarginRules, account_margin
from btcn.core.unified_guard import spendable_usdt, unified_book
from btcn.data.signals import Signals
from tests.backtest.support import BAR, GATE_FEES, ZERO_FEES, candles, funding_at, market, run
from tests.backtest.test_properties import trades_key

D = Decimal
RULES = MarginRules(maintenance_rate=D("0.004"), leverage=D(3))


def guard(reserve: str = "0.01", min_imr: str = "1.5", dist: float = 0.5,
          loan: bool = False) -> MarginGuard:  # fmt: skip
    return MarginGuard(RULES, D(min_imr), dist, D(reserve), loan)


def unified_params(targets, *, fees=GATE_FEES, leverage="3", cooldown_ms=0, apr=0.2,
                   reserve="0.01") -> EngineParams:  # type: ignore[no-untyped-def]  # fmt: skip
    rules = MarginRules(maintenance_rate=D("0.004"), leverage=D(leverage))
    planner = PlannerParams(
        targets=targets, max_net_delta=1e9, max_price_deviation=1.0,
        max_order_notional_usdt=D(10) ** 15, slippage=D("0.0002"), spot_maker_fee=fees.spot_maker,
        spot_taker_fee=fees.spot_taker, perp_maker_fee=fees.perp_maker,
        perp_taker_fee=fees.perp_taker, rebalance="book", cooldown_ms=cooldown_ms,
        treasury=None, margin_guard=MarginGuard(rules, D("1.0"), 0.0, D(reserve)),
    )  # fmt: skip
    return EngineParams(planner=planner, fees=fees, slippage=D("0.0002"), leverage=D(leverage),
                        maintenance_margin_rate=D("0.004"), initial_nav_usdt=D(100_000),
                        unified=UnifiedSpec(rules, apr))  # fmt: skip


@st.composite
def scenarios(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(min_value=30, max_value=300))
    seed = draw(st.integers(min_value=0, max_value=10_000))
    vol = draw(st.sampled_from([0.002, 0.01, 0.04]))
    rng = np.random.default_rng(seed)
    spot = 30_000 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    perp = spot * (1 + rng.normal(0, 0.0004, n))
    f_bars = sorted(set(rng.integers(0, n, draw(st.integers(0, n // 10))).tolist()))
    f_rates = rng.normal(0.0001, 0.002, len(f_bars)).round(8).tolist()
    m = market(candles(spot), candles(perp), funding_at(f_bars, f_rates), Signals((), (), "e", "e"),
               atr_window_ms=12 * BAR, periods=3)  # fmt: skip
    targets = draw(st.sampled_from([(0.96, 0.0, 0.96), (0.5, 0.0, 0.5), (0.0, 0.8, 0.9),
                                    (0.2, 0.9, 0.0), (0.9, 0.0, 0.98)]))  # fmt: skip
    p = unified_params(targets, fees=draw(st.sampled_from([ZERO_FEES, GATE_FEES])),
                       leverage=draw(st.sampled_from(["3", "20", "80"])),
                       cooldown_ms=draw(st.sampled_from([0, 12 * BAR])),
                       reserve=draw(st.sampled_from(["0", "0.01"])))  # fmt: skip
    return m, p


@settings(max_examples=40)
@given(scenarios())
def test_unified_event_skipping_equals_the_bar_by_bar_loop(case) -> None:  # type: ignore[no-untyped-def]
    m, p = case
    fast, slow = run(m, p), run(m, p, naive=True)
    assert trades_key(fast) == trades_key(slow)
    for name, col in fast.columns.items():
        assert np.array_equal(col, slow.columns[name], equal_nan=True), name
    assert len(fast.liquidations) == len(slow.liquidations)
    assert fast.ledger.interest_usdt == slow.ledger.interest_usdt


@settings(max_examples=40)
@given(scenarios())
def test_unified_run_never_transfers_or_borrows_and_nav_adds_up(case) -> None:  # type: ignore[no-untyped-def]
    m, p = case
    out = run(m, p)  # a spot buy beyond the USDT balance would raise LedgerError
    c = out.columns
    assert out.transfers == 0 and not c["transfer_usdt"].any() and not c["futures_usdt"].any()
    # NAV = USDT + spot BTC x spot price + unrealised perp PnL (one USDT balance)
    upnl = c["unrealized_pnl_usdt"]
    expect = c["spot_usdt"] + c["spot_qty_btc"] * m.spot_close + upnl
    assert np.allclose(expect, c["nav_usdt"], rtol=1e-12, atol=1e-6)
    assert math.isclose(float(c["interest_usdt"].sum()), float(out.ledger.interest_usdt),
                        rel_tol=1e-9, abs_tol=1e-9)  # fmt: skip
    for e in out.liquidations:  # the account rule: MB <= MM at the liquidation price
        assert e.equity_usdt <= e.maintenance_usdt + 1e-6
        j = e.bar - out.first
        assert c["spot_qty_btc"][j] == 0 and c["long_qty_btc"][j] == 0 == c["short_qty_btc"][j]


def test_a_leveraged_long_is_liquidated_by_the_account_rule() -> None:
    n = 80
    spot = np.concatenate([np.full(20, 30_000.0), np.linspace(30_000, 12_000, n - 20)])
    m = market(candles(spot), candles(spot), None, Signals((), (), "e", "e"),
               atr_window_ms=12 * BAR, periods=3)  # fmt: skip
    # a long of 3 x NAV (10 BTC at 30,000) on 100,000 USDT, never rebalanced: MB - MM =
    # 100,000 + (P - 30,000) * 10 - 0.004 * 10 * P = 9.96 * P - 200,000 -> liquidated below 20,080
    p = unified_params((0.0, 3.0, 0.0), fees=ZERO_FEES, leverage="80", cooldown_ms=10**12)
    out = run(m, p)
    assert len(out.liquidations) == 1
    e = out.liquidations[0]
    assert e.equity_usdt <= e.maintenance_usdt and e.price < 200_000 / 9.96 + 1e-6
    assert m.perp_low[e.bar] <= e.price  # at the bar's worst price
    assert out.columns["liq_price_usdt"][e.bar - 1] > 20_000


def test_interest_is_charged_on_a_negative_balance() -> None:
    from btcn.backtest.unified import UnifiedModel

    model = UnifiedModel(UnifiedSpec(RULES, 0.2))
    assert model.interest_due(D(-1000), 0) == 0  # starts the clock
    year = 365 * 86_400_000
    assert model.interest_due(D(-1000), year // 2) == D(100)
    assert model.interest_due(D(500), year) == 0


# --- the plan -------------------------------------------------------------------------------------
PARAMS = PlannerParams(targets=(0.96, 0.0, 0.96), rebalance="book", max_net_delta=1e9,
                       treasury=None, margin_guard=guard())  # fmt: skip


@st.composite
def unified_books(draw):  # type: ignore[no-untyped-def]
    price = D(draw(st.integers(10_000, 150_000)))
    book = Book(
        spot_usdt=D(draw(st.integers(0, 200_000))),
        spot_btc=D(draw(st.integers(0, 3_000_000))) / 1_000_000,
        futures_usdt=D(0),
        long_contracts=D(draw(st.sampled_from([0, draw(st.integers(0, 20_000))]))),
        long_entry_usdt=price * D(draw(st.integers(80, 120))) / 100,
        short_contracts=D(draw(st.integers(0, 40_000))),
        short_entry_usdt=price * D(draw(st.integers(50, 150))) / 100,
    )
    return book, price, draw(st.sampled_from(["0", "0.01", "0.05"]))


@settings(max_examples=150)
@given(unified_books())
def test_a_unified_plan_never_borrows_or_transfers_and_keeps_its_margin(case) -> None:  # type: ignore[no-untyped-def]
    book, price, reserve = case
    g = guard(reserve=reserve)
    params = _with_guard(g)
    quotes = Quotes(p_ref=price, spot=price, perp_mark=price)
    d = decide(book, quotes, SpotSpec(), PerpSpec(), params, now_ms=0,
               atr=AtrReading(math.nan, 0), signal=NO_SIGNAL, last_rebalance_ms=None,
               data_as_of_ms=0)  # fmt: skip
    assert d.transfers == ()
    spend = spendable_usdt(book, d.nav_usdt, g)
    buys = sum((o.qty_btc * o.limit_price_usdt for o in d.orders if o.side is Side.BUY
                and o.leg.value == "BTC_SPOT"), D(0))  # fmt: skip
    assert buys <= spend  # never a loan: spot buys within the USDT balance less the reserve
    if d.orders:
        after = project(book, d.orders, D("0.0001"), spot_fee=params.spot_maker_fee,
                        perp_fee=params.perp_taker_fee)  # fmt: skip
        m_after = account_margin(unified_book(after, D("0.0001")), price, RULES)
        m_before = account_margin(unified_book(book, D("0.0001")), price, RULES)
        ok = (m_after.imr is None or m_after.imr >= g.min_imr) and (
            m_after.distance is None or m_after.distance >= g.min_distance)  # fmt: skip
        if not ok:  # only a plan that leaves the account safer than it found it
            assert m_before.distance is not None and (
                m_after.distance is None or m_after.distance >= m_before.distance)  # fmt: skip
        if m_before.mmr is None or m_before.mmr > 1:
            assert m_after.mmr is None or m_after.mmr > 1


def _with_guard(g: MarginGuard) -> PlannerParams:
    from dataclasses import replace

    return replace(PARAMS, margin_guard=g)


def test_a_loan_on_the_snapshot_puts_the_plan_in_safe_mode() -> None:
    book = Book(spot_usdt=D(100_000), spot_btc=D(0), futures_usdt=D(0))
    quotes = Quotes(p_ref=D(60_000), spot=D(60_000), perp_mark=D(60_000))
    d = decide(book, quotes, SpotSpec(), PerpSpec(), _with_guard(guard(loan=True)), now_ms=0,
               atr=AtrReading(math.nan, 0), signal=NO_SIGNAL, last_rebalance_ms=None,
               data_as_of_ms=0)  # fmt: skip
    assert d.safe_mode and d.orders == ()
    assert any(g.name == "unified_loan" and not g.ok for g in d.guardrails)
    ok = decide(book, quotes, SpotSpec(), PerpSpec(), _with_guard(guard()), now_ms=0,
                atr=AtrReading(math.nan, 0), signal=NO_SIGNAL, last_rebalance_ms=None,
                data_as_of_ms=0)  # fmt: skip
    assert not ok.safe_mode and ok.orders
    spot = next(o for o in ok.orders if o.leg.value == "BTC_SPOT")
    assert spot.qty_btc * spot.limit_price_usdt <= D(99_000)  # the 1 % reserve stays in USDT


def test_interest_on_a_negative_balance_is_the_same_with_and_without_event_skipping() -> None:
    # a hedged book with no USDT reserve paying heavy funding: the USDT balance goes negative
    n = 400
    rng = np.random.default_rng(3)
    spot = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    f_bars = list(range(20, n, 24))
    m = market(candles(spot), candles(spot), funding_at(f_bars, [-0.01] * len(f_bars)),
               Signals((), (), "e", "e"), atr_window_ms=12 * BAR, periods=3)  # fmt: skip
    p = unified_params((0.99, 0.0, 0.99), reserve="0", cooldown_ms=10**12)
    fast, slow = run(m, p), run(m, p, naive=True)
    assert (fast.columns["spot_usdt"] < 0).any()
    assert fast.ledger.interest_usdt > 0
    assert fast.ledger.interest_usdt == slow.ledger.interest_usdt
    for name, col in fast.columns.items():
        assert np.array_equal(col, slow.columns[name], equal_nan=True), name
