"""Liquidation estimates of a snapshot's perp book, as the ``LiquidationInfo`` contract."""

from __future__ import annotations

from btcn.contracts import Leg, LiquidationInfo, Snapshot
from btcn.core.liquidation import estimates
from btcn.core.money import dec
from btcn.runtime.settings import Settings
from btcn.stages.common import book_from_snapshot


def liquidation_infos(snap: Snapshot, settings: Settings) -> list[LiquidationInfo]:
    """btcn's estimate for each perp side (Gate's rule; ``[risk] margin_mode``), with Gate's own
    ``liq_price`` beside it when the snapshot has it."""
    pos = snap.positions
    k = snap.perp_spec.maintenance_rate + dec(settings.fees.perp_taker)
    long_e, short_e = estimates(
        book_from_snapshot(snap),
        snap.prices.perp_mark_usdt,
        snap.perp_spec.multiplier_btc,
        k,
        settings.risk.margin_mode,
        (pos.BTC_PERP_LONG.margin_usdt, pos.BTC_PERP_SHORT.margin_usdt),
        dec(settings.backtest.leverage),
    )
    out = []
    for leg, est, p in (
        (Leg.BTC_PERP_LONG, long_e, pos.BTC_PERP_LONG),
        (Leg.BTC_PERP_SHORT, short_e, pos.BTC_PERP_SHORT),
    ):
        out.append(
            LiquidationInfo(
                leg=leg,
                margin_mode=est.margin_mode,
                size_contracts=est.size_contracts,
                mark_usdt=est.mark_usdt,
                liq_price_usdt=est.liq_price_usdt,
                distance=est.distance,
                venue_liq_price_usdt=p.liq_price_usdt or None,
            )
        )
    return out
