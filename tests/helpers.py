"""Builders for test data."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np

from btcn.contracts import Snapshot

BAR_MS = 300_000
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC


def write_binance_csv(path: Path, closes: list[float] | np.ndarray, *, t0: int = T0, bar_ms: int = BAR_MS,
                      header: bool = False, micro: bool = False, spread: float = 0.001) -> Path:  # fmt: skip
    """A Binance kline CSV whose bars open at the previous close and close at ``closes``."""
    lines = []
    if header:
        lines.append(
            "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
            "taker_buy_volume,taker_buy_quote_volume,ignore"
        )
    prev = closes[0]
    for i, c in enumerate(closes):
        o = prev
        hi = max(o, c) * (1 + spread)
        lo = min(o, c) * (1 - spread)
        ts = t0 + i * bar_ms
        close_t = ts + bar_ms - 1
        if micro:
            ts, close_t = ts * 1000, ts * 1000 + bar_ms * 1000 - 1
        lines.append(f"{ts},{o:.2f},{hi:.2f},{lo:.2f},{c:.2f},1.5,{close_t},0,10,0,0,0")
        prev = c
    path.write_text("\n".join(lines) + "\n")
    return path


def snapshot(
    *,
    as_of_ms: int = T0 + 300_000,
    p: str = "100000",
    perp: str | None = None,
    spot_usdt: str = "33000",
    spot_btc: str = "0.5",
    futures_usdt: str = "17000",
    long_contracts: str = "0",
    long_entry: str | None = None,
    short_contracts: str = "5000",
    short_entry: str | None = "100000",
    venue: str = "paper",
) -> Snapshot:
    return Snapshot(
        as_of_ms=as_of_ms,
        venue=venue,
        p_ref_usdt=Decimal(p),
        prices={"spot_last_usdt": Decimal(p), "perp_mark_usdt": Decimal(perp or p)},
        balances={"spot_usdt": Decimal(spot_usdt), "spot_btc": Decimal(spot_btc),
                  "futures_usdt": Decimal(futures_usdt)},
        positions={
            "BTC_PERP_LONG": {"size_contracts": Decimal(long_contracts),
                              "entry_price_usdt": None if long_entry is None else Decimal(long_entry)},
            "BTC_PERP_SHORT": {"size_contracts": Decimal(short_contracts),
                               "entry_price_usdt": None if short_entry is None else Decimal(short_entry)},
        },
    )  # fmt: skip
