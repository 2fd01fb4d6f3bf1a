"""ATR of 24-hour candles and the rebalance threshold.

Definition (see docs/manual.md, "Threshold"): at bar ``t`` the 24-hour candle is the rolling window
of the last ``bars_per_candle`` bars ending at ``t`` (no look-ahead). Its true range is
``max(high, previous close) - min(low, previous close)``, where the previous close is the close of
the bar just before the window (the close of the previous 24-hour candle); the very first candle
of a series has no previous close and uses ``high - low``. ATR_24h is the simple mean of the last
``periods`` such candles (default 14), spaced one candle apart and ending at ``t``. While fewer than
``periods`` full candles exist, the mean of those that exist is used; with no full candle the ATR
is unavailable (NaN) and the threshold is the floor alone.

``thr = max(floor, multiplier * ATR_24h / P_ref)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _block_extreme(x: FloatArray, window: int, *, use_max: bool) -> FloatArray:
    """Rolling max/min over ``window`` bars ending at each bar (van Herk / Gil-Werman, O(n))."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    if n < window:
        return out
    fill = -np.inf if use_max else np.inf
    acc = np.maximum.accumulate if use_max else np.minimum.accumulate
    pad = (-n) % window
    blocks = np.concatenate([x, np.full(pad, fill)]).reshape(-1, window)
    prefix = acc(blocks, axis=1).ravel()
    suffix = acc(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    ends = np.arange(window - 1, n)
    pick = np.maximum if use_max else np.minimum
    out[window - 1 :] = pick(suffix[ends - window + 1], prefix[ends])
    return out


def true_range_24h(
    high: FloatArray, low: FloatArray, close: FloatArray, bars_per_candle: int
) -> FloatArray:
    """True range of the rolling candle ending at each bar (NaN before the first full candle)."""
    hi = _block_extreme(high, bars_per_candle, use_max=True)
    lo = _block_extreme(low, bars_per_candle, use_max=False)
    tr = hi - lo
    n = close.shape[0]
    if n > bars_per_candle:
        prev = close[: n - bars_per_candle]
        tail = slice(bars_per_candle, n)
        tr[tail] = np.maximum(hi[tail], prev) - np.minimum(lo[tail], prev)
    return tr


def atr_series(
    high: FloatArray, low: FloatArray, close: FloatArray, bars_per_candle: int, periods: int
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """ATR_24h in USDT at every bar of one contiguous series, and how many candles it used.

    The sum runs over exactly ``used`` candles spaced ``bars_per_candle`` apart, so the value at a
    bar depends only on the bars in its window, not on how long the series is.
    """
    n = close.shape[0]
    tr = true_range_24h(high, low, close, bars_per_candle)
    idx = np.arange(n)
    used = np.minimum((idx + 1) // bars_per_candle, periods).astype(np.int64)
    total = np.zeros(n)
    for k in range(periods):
        shift = k * bars_per_candle
        if shift >= n:
            break
        part = np.zeros(n)
        part[shift:] = tr[: n - shift]
        ok = used > k
        total[ok] += part[ok]
    with np.errstate(invalid="ignore", divide="ignore"):
        atr = np.where(used > 0, total / np.maximum(used, 1), np.nan)
    return atr, used


def threshold(atr_usdt: float, p_ref: float, floor: float, multiplier: float) -> float:
    """``max(floor, multiplier * ATR / P_ref)``; an unavailable (NaN) ATR gives the floor."""
    if math.isnan(atr_usdt):
        return floor
    return max(floor, multiplier * atr_usdt / p_ref)


def threshold_array(
    atr_usdt: FloatArray, p_ref: FloatArray, floor: float, multiplier: float
) -> FloatArray:
    """Elementwise :func:`threshold` (same arithmetic, same result bit for bit)."""
    term = multiplier * atr_usdt / p_ref
    return np.where(np.isnan(term), floor, np.maximum(floor, term))


@dataclass(frozen=True, slots=True)
class AtrReading:
    """The ATR at the decision bar and how many 24-hour candles it was computed from."""

    atr_usdt: float  # NaN when unavailable
    candles_used: int
