"""Peak memory of the engine on many years of 1 m bars (goal: 10 years < 2 GB).

Usage: .venv/bin/python benchmarks/backtest_memory.py [--years 10]
Generates the bars in memory, runs the engine, builds and writes every report file, prints the
peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import funding_8h, gbm_candles

from btcn.backtest.engine import run_engine
from btcn.backtest.market import build_market
from btcn.backtest.outputs import collect, write_run
from btcn.data.signals import EMPTY_SIGNALS
from btcn.runtime.settings import load_settings
from btcn.stages.backtest import engine_params


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", type=float, default=10.0)
    args = ap.parse_args()
    n = int(525_600 * args.years)
    t = time.perf_counter()
    spot, perp = gbm_candles(n)
    settings = load_settings(None)
    st = settings.strategy
    m = build_market(spot, perp, funding_8h(spot), EMPTY_SIGNALS, atr_window_ms=st.atr_window_ms,
                     atr_periods=st.atr_periods, threshold_floor=st.threshold_floor,
                     atr_multiplier=st.atr_multiplier)  # fmt: skip
    out = run_engine(m, engine_params(settings), 0, len(m))
    res = collect(out, m, {"initial_nav_usdt": 100_000.0, "targets": [0.5, 0.0, 0.5]})
    with tempfile.TemporaryDirectory() as tmp:
        write_run(Path(tmp), res)  # every report file, as `btcn backtest --out` writes them
    elapsed = time.perf_counter() - t
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"{args.years:g} years of 1 m bars ({n:,} bars): peak RSS {rss_gb:.2f} GB, "
          f"{elapsed:.1f} s end to end in memory, {res.summary['rebalances']} rebalances")  # fmt: skip


if __name__ == "__main__":
    main()
