"""Regenerate examples/snapshot.json and examples/signals.csv from the bundled January 2025 data.

Both are deterministic functions of the real candles in examples/data/:

* snapshot.json: a paper account of 100,000 USDT that was balanced (spot 50 %, perp short 50 %,
  futures wallet = short notional / 3) at the close of 2025-01-31 00:00 UTC, valued at the last
  close of the month (2025-02-01 00:00 UTC), so the price move since then shows as drift.
* signals.csv: a simple rule every 8 hours (00, 08, 16 UTC): BUY when the close is above the mean
  close of the previous 3 days, SELL when below. These are illustrative signals, not advice.

Usage: python scripts/make_examples.py
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np

from btcn.contracts import Snapshot, dump_json
from btcn.data.candles import load_candles
from btcn.data.timeparse import iso_utc

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BALANCED_AT_MS = 1738281600000  # 2025-01-31 00:00 UTC: the close of the bar opening 23:55


def main() -> None:
    spot = load_candles(EXAMPLES / "data" / "spot_5m")
    perp = load_candles(EXAMPLES / "data" / "perp_5m")
    i0 = int(np.searchsorted(spot.open_ms + spot.bar_ms, BALANCED_AT_MS))
    p0_spot = Decimal(repr(float(spot.close[i0])))
    p0_perp = Decimal(repr(float(perp.close[i0])))
    nav = Decimal(100_000)
    spot_btc = (nav / 2 / p0_spot).quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
    short_contracts = (nav / 2 / p0_perp / Decimal("0.0001")).to_integral_value(rounding=ROUND_DOWN)
    futures = (short_contracts * Decimal("0.0001") * p0_perp / 3).quantize(Decimal("0.01"))
    spot_usdt = nav - spot_btc * p0_spot - futures
    snap = Snapshot(
        as_of_ms=spot.last_close_ms,
        venue="paper",
        p_ref_usdt=Decimal(repr(float(spot.close[-1]))),
        p_ref_as_of_ms=spot.last_close_ms,
        prices={
            "spot_last_usdt": Decimal(repr(float(spot.close[-1]))),
            "perp_mark_usdt": Decimal(repr(float(perp.close[-1]))),
            "perp_last_usdt": Decimal(repr(float(perp.close[-1]))),
        },
        balances={"spot_usdt": spot_usdt, "spot_btc": spot_btc, "futures_usdt": futures},
        positions={
            "BTC_PERP_SHORT": {"size_contracts": short_contracts, "entry_price_usdt": p0_perp}
        },
    )
    (EXAMPLES / "snapshot.json").write_text(dump_json(snap))

    lines = ["timestamp,signal"]
    closes = spot.close
    for i in range(3 * 288 + 95, len(spot), 96):  # bars closing every 8 hours, after 3 days
        ts = int(spot.open_ms[i]) + spot.bar_ms
        if ts % (8 * 3_600_000):
            continue
        mean = float(np.mean(closes[i - 3 * 288 + 1 : i + 1]))
        lines.append(f"{iso_utc(ts)},{'BUY' if closes[i] > mean else 'SELL'}")
    (EXAMPLES / "signals.csv").write_text("\n".join(lines) + "\n")
    print(f"wrote {EXAMPLES / 'snapshot.json'} and {len(lines) - 1} signals")


if __name__ == "__main__":
    main()
