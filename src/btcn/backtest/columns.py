"""The backtest's per-bar equity table.

Event columns (fees, funding, transfers) are added to as the events happen; the book columns
(balances, positions, NAV, weights, net delta, margin, liquidation price and distance) are built
once at the end from the ledger's segments: runs of bars over which the book did not change.
``materialise`` applies the planner's float functions elementwise over each segment's bars, so every
value equals what a per-bar loop computes.
"""

from __future__ import annotations

import numpy as np

from btcn.backtest.market import Market
from btcn.core import valuation
from btcn.core.liquidation import cross_liq_price_f, distance_f, linear_terms

COLUMNS = (
    "nav_usdt", "spot_usdt", "spot_qty_btc", "futures_usdt", "long_qty_btc", "short_qty_btc",
    "unrealized_pnl_usdt", "w_spot", "w_long", "w_short", "net_delta_btc", "margin_used_usdt",
    "margin_ratio", "funding_usdt", "fees_usdt", "liq_price_usdt", "liq_distance", "transfer_usdt",
)  # fmt: skip


class EquityColumns:
    """The columns of bars ``[first, stop)`` and the segments their book columns come from."""

    def __init__(self, first: int, stop: int) -> None:
        self.first = first
        self.stop = stop
        self.cols = {c: np.zeros(stop - first) for c in COLUMNS}
        self._seg_starts: list[int] = []
        self._seg_ends: list[int] = []
        self._seg_books: list[valuation.FloatBook] = []

    def record(self, lo: int, hi: int, fb: valuation.FloatBook) -> None:
        """Bars [lo, hi) close with the book ``fb`` (one segment while the book stays the same)."""
        if self._seg_books and self._seg_books[-1] is fb and self._seg_ends[-1] == lo:
            self._seg_ends[-1] = hi
            return
        self._seg_starts.append(lo)
        self._seg_ends.append(hi)
        self._seg_books.append(fb)

    def rerecord(self, j: int, fb: valuation.FloatBook) -> None:
        """Bar ``j`` (the last one recorded) closes with ``fb`` after all: a decision's
        before-orders transfers happen at the bar's close, and the row that records them shows
        the wallets after them."""
        assert self._seg_ends and self._seg_ends[-1] == j + 1, "only the last bar is re-recorded"
        if self._seg_starts[-1] == j:
            self._seg_starts.pop()
            self._seg_ends.pop()
            self._seg_books.pop()
        else:
            self._seg_ends[-1] = j
        self.record(j, j + 1, fb)

    def materialise(self, m: Market, leverage: float, liq_k: float, chunk: int = 1 << 20) -> None:
        """All equity columns from the ledger segments, a chunk of bars at a time (bounded memory).

        The arithmetic is the planner's float functions applied elementwise, so every value is
        bit-identical to a per-bar loop. ``liq_k`` is Gate's maintenance rate + taker fee."""
        c = self.cols
        if not self._seg_books:
            return
        starts = np.asarray(self._seg_starts, dtype=np.int64) - self.first
        ends = np.asarray(self._seg_ends, dtype=np.int64) - self.first
        names = valuation.FloatBook.__slots__
        table = np.array([[getattr(b, f) for f in names] for b in self._seg_books])
        # the liquidation price and the slope depend on the book alone: once per segment (the
        # same elementwise arithmetic, so the repeated values equal a per-bar computation)
        col = {f: table[:, k] for k, f in enumerate(names)}
        seg_args = (col["futures_usdt"], col["long_btc"], col["long_entry_usdt"], col["short_btc"],
                    col["short_entry_usdt"], liq_k)  # fmt: skip
        seg_liq = cross_liq_price_f(*seg_args)
        _, seg_slope = linear_terms(*seg_args)
        n = self.stop - self.first
        for a in range(0, n, chunk):
            b = min(a + chunk, n)
            i0 = int(np.searchsorted(ends, a, side="right"))
            i1 = int(np.searchsorted(starts, b, side="left"))
            lengths = np.minimum(ends[i0:i1], b) - np.maximum(starts[i0:i1], a)
            fb = valuation.FloatBook(
                **{f: np.repeat(table[i0:i1, k], lengths) for k, f in enumerate(names)}
            )
            sl = slice(self.first + a, self.first + b)
            ps, pp = m.spot_close[sl], m.perp_close[sl]
            nav, ws, wl, wsh, upnl = valuation.weights_and_upnl(fb, ps, pp)
            c["nav_usdt"][a:b] = nav
            c["w_spot"][a:b] = ws
            c["w_long"][a:b] = wl
            c["w_short"][a:b] = wsh
            c["unrealized_pnl_usdt"][a:b] = upnl
            c["spot_usdt"][a:b] = fb.spot_usdt
            c["spot_qty_btc"][a:b] = fb.spot_btc
            c["futures_usdt"][a:b] = fb.futures_usdt
            c["long_qty_btc"][a:b] = fb.long_btc
            c["short_qty_btc"][a:b] = fb.short_btc
            c["net_delta_btc"][a:b] = valuation.net_delta_btc(fb)
            exposure = fb.long_btc + fb.short_btc
            used = exposure * pp / leverage
            c["margin_used_usdt"][a:b] = used
            with np.errstate(divide="ignore", invalid="ignore"):
                c["margin_ratio"][a:b] = np.where(
                    exposure > 0, (fb.futures_usdt + upnl) / used, np.nan
                )
            liq = np.repeat(seg_liq[i0:i1], lengths)
            slope = np.repeat(seg_slope[i0:i1], lengths)
            c["liq_price_usdt"][a:b] = liq
            c["liq_distance"][a:b] = distance_f(liq, pp, slope)
