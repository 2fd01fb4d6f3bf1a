"""``btcn weights``: NAV, leg weights, net delta and liquidation estimates of a snapshot."""

from __future__ import annotations

from btcn.contracts import LegWeight, Snapshot, Weights
from btcn.core.planner import LegState, value_book
from btcn.errors import InvalidInputError
from btcn.runtime.settings import Settings
from btcn.stages.common import book_from_snapshot, quotes_from_snapshot, targets_tuple
from btcn.stages.liquidation import liquidation_infos


def leg_weight(state: LegState) -> LegWeight:
    return LegWeight(
        leg=state.leg, qty_btc=state.qty_btc, price_usdt=state.price_usdt,
        notional_usdt=state.notional_usdt, weight=state.weight, target=state.target,
        drift=state.drift,
    )  # fmt: skip


def run(snap: Snapshot, settings: Settings) -> Weights:
    val = value_book(
        book_from_snapshot(snap), quotes_from_snapshot(snap), snap.perp_spec.multiplier_btc,
        targets_tuple(settings),
    )  # fmt: skip
    if val.nav_usdt <= 0:
        raise InvalidInputError(
            f"snapshot: NAV is {val.nav_usdt} USDT; weights need a positive NAV"
        )
    return Weights(
        as_of_ms=snap.as_of_ms,
        venue=snap.venue,
        nav_usdt=val.nav_usdt,
        legs=[leg_weight(s) for s in val.legs],
        net_delta_btc=val.net_delta_btc,
        net_delta_pct_nav=val.net_delta_frac * 100.0,
        liquidation=liquidation_infos(snap, settings),
    )
