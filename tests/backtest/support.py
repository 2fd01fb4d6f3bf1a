"""Synthetic markets and settings for backtest tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

from btcn.backtest.engine import run_engine
from btcn.backtest.market import Market, build_market
from btcn.backtest.records import EngineParams
from btcn.contracts import PerpSpec, SpotSpec
from btcn.core.planner import PlannerParams
from btcn.core.treasury import TreasuryParams
from btcn.data.candles import Candles
from btcn.data.funding import Funding
from btcn.data.signals import EMPTY_SIGNALS, Signals
from btcn.exchange.paper import FeeRates

BAR = 300_000
T0 = 1_735_689_600_000
ZERO_FEES = FeeRates(Decimal(0), Decimal(0), Decimal(0), Decimal(0))
GATE_FEES = FeeRates(Decimal("0.001"), Decimal("0.001"), Decimal("0.0002"), Decimal("0.0005"))


def candles(close: np.ndarray, *, wick: float = 0.002, t0: int = T0, bar: int = BAR,
            open_: np.ndarray | None = None) -> Candles:  # fmt: skip
    close = np.asarray(close, dtype=np.float64)
    o = (
        np.concatenate([[close[0]], close[:-1]])
        if open_ is None
        else np.asarray(open_, dtype=np.float64)
    )
    hi = np.maximum(o, close) * (1 + wick)
    lo = np.minimum(o, close) * (1 - wick)
    ts = t0 + np.arange(close.shape[0], dtype=np.int64) * bar
    return Candles(ts, o, hi, lo, close, np.ones_like(close), bar, "synthetic", ("synthetic",))


def funding_at(bars: list[int], rates: list[float], *, t0: int = T0, bar: int = BAR) -> Funding:
    t = np.array([t0 + (b + 1) * bar for b in bars], dtype=np.int64)
    return Funding(
        t,
        np.array(rates, dtype=np.float64),
        np.full(len(bars), np.nan),
        "synthetic",
        ("synthetic",),
    )


def market(spot: Candles, perp: Candles | None = None, funding: Funding | None = None,
           signals: Signals = EMPTY_SIGNALS, *, floor: float = 0.005, atr_window_ms: int = 86_400_000,
           periods: int = 14, mult: float = 0.2) -> Market:  # fmt: skip
    return build_market(spot, perp, funding, signals, atr_window_ms=atr_window_ms, atr_periods=periods,
                        threshold_floor=floor, atr_multiplier=mult)  # fmt: skip


def engine_params(targets=(0.5, 0.0, 0.5), *, fees: FeeRates = GATE_FEES, slippage: str = "0.0002",
                  leverage: str = "3", nav: str = "100000", spot_spec: SpotSpec | None = None,
                  perp_spec: PerpSpec | None = None, **planner: Any) -> EngineParams:  # fmt: skip
    # rebalance: these engine tests were written for btcn 0.1's per-leg rule, which the core's
    # default was until the defaults came from one source (now "book"); a test sets it to change it
    base: dict[str, Any] = dict(targets=targets, rebalance="per_leg", max_net_delta=1e9, max_price_deviation=1.0,
                                max_order_notional_usdt=Decimal(10) ** 15, slippage=Decimal(slippage),
                                spot_maker_fee=fees.spot_maker, spot_taker_fee=fees.spot_taker,
                                perp_maker_fee=fees.perp_maker, perp_taker_fee=fees.perp_taker,
                                treasury=TreasuryParams(leverage=Decimal(leverage),
                                                        k=Decimal("0.004") + fees.perp_taker))  # fmt: skip
    base.update(planner)
    return EngineParams(
        planner=PlannerParams(**base), fees=fees, slippage=Decimal(slippage), leverage=Decimal(leverage),
        maintenance_margin_rate=Decimal("0.004"), initial_nav_usdt=Decimal(nav),
        spot_spec=spot_spec or SpotSpec(), perp_spec=perp_spec or PerpSpec(),
    )  # fmt: skip


def run(
    m: Market, params: EngineParams, *, naive: bool = False, first: int = 0, stop: int | None = None
):
    return run_engine(m, params, first, len(m) if stop is None else stop, naive=naive)


def random_walk(n: int, seed: int, *, p0: float = 50_000.0, vol: float = 0.003) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return p0 * np.exp(np.cumsum(rng.normal(0, vol, n)))
