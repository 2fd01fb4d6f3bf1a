"""Market data for a backtest: spot candles (P_ref and the spot leg), optional perp candles,
funding and signals, aligned on one bar timeline, with the ATR threshold precomputed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from btcn.core.threshold import atr_series, threshold_array
from btcn.data.candles import Candles
from btcn.data.funding import Funding
from btcn.data.signals import EMPTY_SIGNALS, Signals
from btcn.data.timeparse import iso_utc
from btcn.errors import InvalidInputError

F64 = npt.NDArray[np.float64]


@dataclass
class Market:
    open_ms: npt.NDArray[np.int64]
    bar_ms: int
    spot_open: F64
    spot_high: F64
    spot_low: F64
    spot_close: F64
    perp_open: F64
    perp_high: F64
    perp_low: F64
    perp_close: F64
    atr: F64
    atr_used: npt.NDArray[np.int64]
    thr: F64
    contiguous_next: npt.NDArray[np.bool_]  # bar i+1 directly follows bar i
    funding_bar: npt.NDArray[np.int64]  # bar index whose close is the funding time
    funding_rate: F64
    funding_mark: F64  # NaN: use the perp close of that bar
    signals: Signals = EMPTY_SIGNALS
    has_perp: bool = True
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.open_ms.shape[0])


# What to do with a bar that spot has and perp lacks: refuse the run, or leave the bar out of
# both sides (a walk-forward, where each window is judged by its own coverage).
MissingPerp = Literal["error", "drop"]


def _align_perp(spot: Candles, perp: Candles, warnings: list[str],
                missing: MissingPerp = "error") -> tuple[Candles, Candles]:  # fmt: skip
    """Spot and perp on one timeline. A bar one side lacks is an error, or with
    ``missing="drop"`` (a walk-forward: each window is judged by its own coverage) it is left out
    of both sides, which makes it a gap like any other."""
    if perp.bar_ms != spot.bar_ms:
        raise InvalidInputError(
            f"perp candles are {perp.bar_ms // 1000}s bars but spot candles are {spot.bar_ms // 1000}s bars"
        )
    lo = int(np.searchsorted(perp.open_ms, spot.open_ms[0]))
    hi = int(np.searchsorted(perp.open_ms, spot.open_ms[-1], side="right"))
    if lo or hi < len(perp):
        warnings.append(f"perp: {lo + len(perp) - hi} bar(s) outside the spot span were trimmed")
        perp = perp.slice(lo, hi)
    if len(perp) == len(spot) and np.array_equal(perp.open_ms, spot.open_ms):
        return spot, perp
    lacking = np.setdiff1d(spot.open_ms, perp.open_ms)
    extra = np.setdiff1d(perp.open_ms, spot.open_ms)
    where = lacking[0] if lacking.size else extra[0]
    what = "has no perp bar" if lacking.size else "has a perp bar but no spot bar"
    counts = f"{lacking.size} spot bar(s) without perp, {extra.size} perp bar(s) without spot"
    if missing == "error":
        raise InvalidInputError(
            f"spot/perp misalignment: {iso_utc(int(where))} {what} ({counts})",
            hint="use spot and perp candles of the same interval and span",
        )
    both = np.intersect1d(spot.open_ms, perp.open_ms, assume_unique=True)
    if both.shape[0] < 2:
        raise InvalidInputError(f"spot and perp candles share fewer than two bars ({counts})")
    warnings.append(
        f"spot/perp: {counts} (first {iso_utc(int(where))}) left out; they count as missing "
        "bars of the windows that hold them"
    )
    keep_s = np.isin(spot.open_ms, both, assume_unique=True)
    keep_p = np.isin(perp.open_ms, both, assume_unique=True)
    return _keep(spot, keep_s), _keep(perp, keep_p)


def _keep(c: Candles, mask: npt.NDArray[np.bool_]) -> Candles:
    return replace(c, open_ms=c.open_ms[mask], open=c.open[mask], high=c.high[mask],
                   low=c.low[mask], close=c.close[mask], volume=c.volume[mask])  # fmt: skip


def _segment_atr(segments: list[tuple[int, int]], high: F64, low: F64, close: F64, bars: int,
                 periods: int) -> tuple[F64, npt.NDArray[np.int64]]:  # fmt: skip
    n = close.shape[0]
    atr = np.full(n, np.nan)
    used = np.zeros(n, dtype=np.int64)
    for start, stop in segments:  # the ATR history restarts after a gap
        a, u = atr_series(high[start:stop], low[start:stop], close[start:stop], bars, periods)
        atr[start:stop] = a
        used[start:stop] = u
    return atr, used


def build_market(
    spot: Candles,
    perp: Candles | None,
    funding: Funding | None,
    signals: Signals,
    *,
    atr_window_ms: int,
    atr_periods: int,
    threshold_floor: float,
    atr_multiplier: float,
    missing_perp: MissingPerp = "error",
) -> Market:
    warnings = list(spot.warnings)
    if atr_window_ms % spot.bar_ms:
        raise InvalidInputError(
            f"strategy.atr_window is not a multiple of the {spot.bar_ms // 1000}s candle interval"
        )
    if perp is None:
        warnings.append("no --perp candles: the perp legs trade at the spot price (basis 0)")
        p_o, p_h, p_l, p_c = spot.open, spot.high, spot.low, spot.close
    else:
        warnings.extend(perp.warnings)
        spot, perp = _align_perp(spot, perp, warnings, missing_perp)
        p_o, p_h, p_l, p_c = perp.open, perp.high, perp.low, perp.close

    n = len(spot)
    atr, used = _segment_atr(spot.segments(), spot.high, spot.low, spot.close,
                             atr_window_ms // spot.bar_ms, atr_periods)  # fmt: skip
    thr = threshold_array(atr, spot.close, threshold_floor, atr_multiplier)
    contiguous = np.zeros(n, dtype=bool)
    contiguous[:-1] = np.diff(spot.open_ms) == spot.bar_ms

    f_bar = np.zeros(0, dtype=np.int64)
    f_rate = np.zeros(0)
    f_mark = np.zeros(0)
    if funding is None:
        warnings.append("no --funding: funding payments are not modelled")
    else:
        warnings.extend(funding.warnings)
        closes = spot.open_ms + spot.bar_ms
        inside = (funding.time_ms >= closes[0]) & (funding.time_ms <= closes[-1])
        t = funding.time_ms[inside]
        idx = np.searchsorted(closes, t)
        ok = (idx < n) & (closes[np.minimum(idx, n - 1)] == t)
        skipped = int((~ok).sum())
        if skipped:
            warnings.append(
                f"funding: {skipped} funding time(s) fall in data gaps and were not applied"
            )
        f_bar = idx[ok].astype(np.int64)
        f_rate = funding.rate[inside][ok]
        f_mark = funding.mark_price[inside][ok]
    return Market(
        open_ms=spot.open_ms, bar_ms=spot.bar_ms,
        spot_open=spot.open, spot_high=spot.high, spot_low=spot.low, spot_close=spot.close,
        perp_open=p_o, perp_high=p_h, perp_low=p_l, perp_close=p_c,
        atr=atr, atr_used=used, thr=thr, contiguous_next=contiguous,
        funding_bar=f_bar, funding_rate=f_rate, funding_mark=f_mark,
        signals=signals, has_perp=perp is not None, warnings=warnings,
    )  # fmt: skip


def restrict(market: Market, start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
    """``[first, stop)`` bar indices to trade between ``start_ms`` (inclusive) and ``end_ms``
    (exclusive); bars before ``first`` still warm up the ATR."""
    first = 0 if start_ms is None else int(np.searchsorted(market.open_ms, start_ms))
    stop = len(market) if end_ms is None else int(np.searchsorted(market.open_ms, end_ms))
    if stop - first < 2:
        raise InvalidInputError(
            "the selected period holds fewer than two bars",
            hint="check --start/--end against the span of the candles",
        )
    return first, stop


def market_atr(market: Market, *, atr_window_ms: int, atr_periods: int) -> tuple[F64, npt.NDArray[np.int64]]:  # fmt: skip
    """ATR_24h and candles used at every bar for other ATR settings, exactly as
    :func:`build_market` computes them (the history restarts after each gap)."""
    if atr_window_ms <= 0 or atr_window_ms % market.bar_ms:
        raise InvalidInputError(
            f"strategy.atr_window is not a multiple of the {market.bar_ms // 1000}s candle interval"
        )
    n = len(market)
    breaks = (np.flatnonzero(~market.contiguous_next[:-1]) + 1).tolist() if n else []
    bounds = [0, *breaks, n] if n else []
    segments = list(itertools.pairwise(bounds))
    return _segment_atr(segments, market.spot_high, market.spot_low, market.spot_close,
                        atr_window_ms // market.bar_ms, atr_periods)  # fmt: skip


def rethreshold(
    market: Market,
    *,
    atr_window_ms: int,
    atr_periods: int,
    threshold_floor: float,
    atr_multiplier: float,
    atr: tuple[F64, npt.NDArray[np.int64]] | None = None,
) -> Market:
    """The same market with the ATR and threshold of other ``[strategy]`` settings: equal, bit for
    bit, to :func:`build_market` called with those settings (a parameter sweep shares the candle
    arrays instead of reading the files again). ``atr`` reuses a :func:`market_atr` result."""
    a, used = (
        atr
        if atr is not None
        else market_atr(market, atr_window_ms=atr_window_ms, atr_periods=atr_periods)
    )
    thr = threshold_array(a, market.spot_close, threshold_floor, atr_multiplier)
    return replace(market, atr=a, atr_used=used, thr=thr)
