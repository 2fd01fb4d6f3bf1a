"""Thin a long equity series for a chart without hiding what matters in it.

The bars are cut into runs of consecutive bars (a data gap, where the next bar does not follow the
previous one, ends a run) and each run into buckets of ``step`` bars. Every bucket becomes two
rows (one when ``step`` is 1) at its first and last bar time: a level series (NAV, cumulative sums) keeps its values at
those two bars, an extreme series (drawdown, net delta, drift, liquidation distance) keeps the
bucket's minimum and maximum in the order they happened, so no spike is lost (the "M4" idea,
with two of its four points). Between two runs one row of ``None`` makes the chart draw the gap as
a gap. With no more bars than buckets every bar is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Plan:
    """Row layout of a thinned chart. ``first``/``last`` are bar indices per bucket; ``gap_after``
    marks the buckets that end a run (a ``None`` row follows them)."""

    first: I64
    last: I64
    gap_after: npt.NDArray[np.bool_]
    step: int

    @property
    def per_bucket(self) -> int:
        return 1 if self.step == 1 else 2

    @property
    def rows(self) -> int:
        return self.per_bucket * self.first.shape[0] + int(self.gap_after.sum())


def plan(ts_ms: I64, bar_ms: int, max_buckets: int) -> Plan:
    n = ts_ms.shape[0]
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return Plan(z, z, np.zeros(0, dtype=bool), 1)
    if bar_ms > 0:
        breaks = np.flatnonzero(np.diff(ts_ms) != bar_ms) + 1
    else:  # a live history: points at irregular times, no gaps to show
        breaks = np.zeros(0, dtype=np.int64)
    starts = np.concatenate([[0], breaks]).astype(np.int64)
    ends = np.concatenate([breaks, [n]]).astype(np.int64)
    step = max(1, int(np.ceil(n / max_buckets)))
    firsts, lasts, gaps = [], [], []
    for a, b in zip(starts, ends, strict=True):
        f = np.arange(a, b, step, dtype=np.int64)
        firsts.append(f)
        lasts.append(np.minimum(f + step, b) - 1)
        g = np.zeros(f.shape[0], dtype=bool)
        g[-1] = b != n
        gaps.append(g)
    return Plan(np.concatenate(firsts), np.concatenate(lasts), np.concatenate(gaps), step)


def _interleave(p: Plan, a: np.ndarray, b: np.ndarray, gap_value: float,
                gap_values: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    pairs = np.stack([a, b], axis=1) if p.per_bucket == 2 else a[:, None]  # (buckets, rows)
    if not p.gap_after.any():
        return pairs.reshape(-1)
    out = []
    for i, row in enumerate(pairs):
        out.append(row)
        if p.gap_after[i]:
            fill = gap_value if gap_values is None else gap_values[i]
            out.append(np.array([fill], dtype=pairs.dtype))
    return np.concatenate(out)


def times(p: Plan, ts_ms: I64, bar_ms: int) -> I64:
    """Row times (ms); a gap row sits one bar after the run's last bar."""
    gap = ts_ms[p.last] + max(bar_ms, 1)
    return _interleave(p, ts_ms[p.first], ts_ms[p.last], 0, gap)


def level(p: Plan, values: np.ndarray) -> np.ndarray:
    """Values at each bucket's first and last bar (NaN in gap rows)."""
    v = np.asarray(values, dtype=np.float64)
    return _interleave(p, v[p.first], v[p.last], np.nan)


def extreme(p: Plan, values: np.ndarray) -> np.ndarray:
    """Each bucket's minimum and maximum (finite values only; NaN for a bucket without any), the
    earlier of the two first."""
    v = np.asarray(values, dtype=np.float64)
    if p.step == 1:
        return level(p, v)
    # the buckets partition the bars in order: reduce each one at once
    finite = np.isfinite(v)
    lo_v = np.where(finite, v, np.inf)
    hi_v = np.where(finite, v, -np.inf)
    lo = np.minimum.reduceat(lo_v, p.first)
    hi = np.maximum.reduceat(hi_v, p.first)
    bucket = np.repeat(np.arange(p.first.shape[0]), p.last - p.first + 1)
    lo_at = _first_where(lo_v == lo[bucket], bucket)
    hi_at = _first_where(hi_v == hi[bucket], bucket)
    empty = ~np.isfinite(lo)
    lo[empty] = np.nan
    hi[empty] = np.nan
    first_is_lo = lo_at <= hi_at
    a = np.where(first_is_lo, lo, hi)
    b = np.where(first_is_lo, hi, lo)
    return _interleave(p, a, b, np.nan)


def _first_where(mask: npt.NDArray[np.bool_], bucket: I64) -> I64:
    """Per bucket, the first bar where ``mask`` holds (every bucket has one)."""
    idx = np.flatnonzero(mask)
    _, first = np.unique(bucket[idx], return_index=True)
    return idx[first]
