"""Engine speed and memory on one year of 1 m bars (525,600 bars, 3 legs, threshold + cooldown +
funding), the workload the issue compares with vectorbt (0.66-0.77 s, 1.4 GB) and a careful NumPy
loop (0.14-0.18 s). Goal: <= 0.25 s warm, peak RSS <= 500 MB.

Usage: .venv/bin/python benchmarks/backtest_engine.py [--runs 7] [--years 1]
Prints the median warm wall time of the engine alone (data already in memory), the time of the
collect step (equity table, KPIs), the peak RSS of the process, and the number of rebalances.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import funding_8h, gbm_candles

from btcn.backtest.engine import run_engine
from btcn.backtest.market import build_market
from btcn.backtest.outputs import collect
from btcn.runtime.settings import load_settings
from btcn.stages.backtest import engine_params


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--years", type=float, default=1.0)
    args = ap.parse_args()
    n = int(525_600 * args.years)
    spot, perp = gbm_candles(n)
    settings = load_settings(None)
    st = settings.strategy
    t = time.perf_counter()
    m = build_market(spot, perp, funding_8h(spot), __import__("btcn.data.signals", fromlist=["x"]).EMPTY_SIGNALS,
                     atr_window_ms=st.atr_window_ms, atr_periods=st.atr_periods,
                     threshold_floor=st.threshold_floor, atr_multiplier=st.atr_multiplier)  # fmt: skip
    prep = time.perf_counter() - t
    params = engine_params(settings)
    times = []
    out = None
    for _ in range(args.runs + 1):  # the first run warms caches and is discarded
        t = time.perf_counter()
        out = run_engine(m, params, 0, len(m))
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    collect(out, m, {"initial_nav_usdt": 100_000.0, "targets": [0.5, 0.0, 0.5]})
    coll = time.perf_counter() - t
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    warm = times[1:]
    print(f"bars                    {n:,}")
    print(f"market prep (ATR, thr)  {prep:.3f} s")
    print(
        f"engine median (warm)    {statistics.median(warm):.3f} s   (min {min(warm):.3f}, max {max(warm):.3f}, runs {len(warm)})"
    )
    print(f"collect (equity, KPIs)  {coll:.3f} s")
    print(f"peak RSS                {rss_mb:.0f} MB")
    print(
        f"rebalances {out.rebalances}, fills {len(out.ledger.trades)}, planner calls {out.decisions}"
    )


if __name__ == "__main__":
    main()
