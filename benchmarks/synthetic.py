"""Synthetic market data for benchmarks: geometric Brownian motion at 60 % annual volatility."""

from __future__ import annotations

import numpy as np

from btcn.data.candles import Candles
from btcn.data.funding import Funding

MINUTE_MS = 60_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def gbm_candles(n: int, *, bar_ms: int = MINUTE_MS, seed: int = 7, vol_annual: float = 0.6,
                p0: float = 50_000.0, basis_bp: float = 3.0) -> tuple[Candles, Candles]:  # fmt: skip
    rng = np.random.default_rng(seed)
    bars_per_year = 365 * 86_400_000 / bar_ms
    sigma = vol_annual / np.sqrt(bars_per_year)
    close = p0 * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
    open_ = np.concatenate([[p0], close[:-1]])
    wick = np.abs(rng.normal(0.0, sigma, n))
    high = np.maximum(open_, close) * (1 + wick)
    low = np.minimum(open_, close) * (1 - wick)
    ts = T0 + np.arange(n, dtype=np.int64) * bar_ms
    vol = np.ones(n)
    spot = Candles(ts, open_, high, low, close, vol, bar_ms, "gbm", ("gbm",))
    basis = 1 + rng.normal(0, basis_bp / 10_000, n)
    perp = Candles(ts, open_ * basis, high * basis * (1 + 1e-5), low * basis * (1 - 1e-5), close * basis,
                   vol, bar_ms, "gbm-perp", ("gbm",))  # fmt: skip
    return spot, perp


def funding_8h(candles: Candles, *, seed: int = 8) -> Funding:
    rng = np.random.default_rng(seed)
    start = int(candles.open_ms[0]) + candles.bar_ms
    end = int(candles.open_ms[-1]) + candles.bar_ms
    slot = 8 * 3_600_000
    t = np.arange((start + slot - 1) // slot * slot, end + 1, slot, dtype=np.int64)
    rate = rng.normal(0.0001, 0.0001, t.shape[0]).round(8)
    return Funding(t, rate, np.full(t.shape[0], np.nan), "synthetic", ("synthetic",))
