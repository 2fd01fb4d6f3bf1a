from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from btcn.core.positions import PositionTracker

D = Decimal


def test_accumulates_with_weighted_entry() -> None:
    t = PositionTracker("BTC_SPOT")
    t.apply(D(1), D(100), 0)
    e = t.apply(D(3), D(200), 1000)
    assert t.qty_btc == 4 and t.entry_price == D(175) and t.side == "long"
    assert e.realized_pnl_usdt == 0 and e.opened_qty_btc == 3 and t.entry_ts_ms == 0


def test_long_reduction_realises_pnl_with_direction() -> None:
    t = PositionTracker("BTC_PERP_LONG")
    t.apply(D(2), D(100), 0)
    e = t.apply(D(-1), D(130), 60_000)
    assert e.realized_pnl_usdt == D(30)  # (130 - 100) * 1 * +1
    assert e.duration_s == 60.0 and e.closed_qty_btc == 1
    assert t.qty_btc == 1 and t.entry_price == 100


def test_short_reduction_realises_pnl_with_direction() -> None:
    t = PositionTracker("BTC_PERP_SHORT")
    t.apply(D(-2), D(100), 0)
    assert t.side == "short" and t.signed_qty_btc == -2
    e = t.apply(D(1), D(130), 1000)
    assert e.realized_pnl_usdt == D(-30)  # (130 - 100) * 1 * -1: a short loses when price rises
    e = t.apply(D(1), D(70), 2000)
    assert e.realized_pnl_usdt == D(30)
    assert t.side == "flat" and t.qty_btc == 0


def test_flip_closes_and_opens_remainder_with_new_id() -> None:
    t = PositionTracker("X")
    t.apply(D(1), D(100), 0)
    first = t.position_id
    e = t.apply(D(-3), D(110), 5000)
    assert e.flipped and e.realized_pnl_usdt == D(10) and e.position_id == first
    assert t.side == "short" and t.qty_btc == 2 and t.entry_price == 110
    assert t.position_id == first + 1 and t.entry_ts_ms == 5000


def test_unrealized_and_seed() -> None:
    t = PositionTracker("BTC_PERP_SHORT")
    t.seed(D("0.5"), D(100), 0, direction=-1)
    assert t.unrealized_pnl(D(90)) == D(5)
    t.seed(D(0), D(1), 0)  # no-op
    with pytest.raises(ValueError, match="seed"):
        t.seed(D(-1), D(1), 0)
    with pytest.raises(ValueError, match="non-zero"):
        t.apply(D(0), D(1), 0)
    with pytest.raises(ValueError, match="positive price"):
        t.apply(D(1), D(0), 0)
    assert "BTC_PERP_SHORT" in repr(t)


fills = st.lists(
    st.tuples(
        st.integers(min_value=-50, max_value=50).filter(lambda q: q != 0),
        st.integers(min_value=1, max_value=1000),
    ),
    min_size=1,
    max_size=30,
)


@given(fills, st.integers(min_value=1, max_value=1000))
def test_realised_plus_unrealised_equals_cash_pnl(seq, final_price) -> None:
    """Accounting identity: PnL from the tracker equals the cash PnL of the same fills."""
    t = PositionTracker("X")
    cash = D(0)
    for q, p in seq:
        t.apply(D(q), D(p), 0)
        cash -= D(q) * D(p)
    net_qty = sum(D(q) for q, _ in seq)
    assert t.signed_qty_btc == net_qty
    mark_to_market = cash + net_qty * D(final_price)
    # Exact up to Decimal's 28 significant digits (the weighted entry price is a rational number).
    assert abs(t.realized_pnl_usdt + t.unrealized_pnl(D(final_price)) - mark_to_market) < D("1e-18")
