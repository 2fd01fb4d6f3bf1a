"""btcn's backtester side by side with vectorbt on the same synthetic data and the same orders.

btcn decides and fills the orders (one year of 1 m bars, 3 legs, threshold + cooldown; funding off,
because vectorbt has no funding model). The very same fills (bar, signed size, price, fee rate) are
then replayed through ``vectorbt.Portfolio.from_orders`` with one column per leg and shared cash.
Both equity curves must agree to 1e-6 relative at every bar; the script prints the largest
deviation and the times.

vectorbt is a benchmark-only dependency:
  python3 -m venv .venv-bench && .venv-bench/bin/pip install -e . -r benchmarks/requirements-vectorbt.txt
  .venv-bench/bin/python benchmarks/vs_vectorbt.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import gbm_candles

from btcn.backtest.engine import run_engine
from btcn.backtest.market import build_market
from btcn.data.signals import EMPTY_SIGNALS
from btcn.runtime.settings import load_settings
from btcn.stages.backtest import engine_params

LEGS = ("BTC_SPOT", "BTC_PERP_LONG", "BTC_PERP_SHORT")


def main() -> None:
    import pandas as pd
    import vectorbt as vbt

    n = 525_600
    spot, perp = gbm_candles(n)
    settings = load_settings(None)
    st = settings.strategy
    m = build_market(spot, perp, None, EMPTY_SIGNALS, atr_window_ms=st.atr_window_ms,
                     atr_periods=st.atr_periods, threshold_floor=st.threshold_floor,
                     atr_multiplier=st.atr_multiplier)  # fmt: skip
    params = engine_params(settings)
    btcn_times = []
    for _ in range(4):
        t = time.perf_counter()
        out = run_engine(m, params, 0, n)
        btcn_times.append(time.perf_counter() - t)
    btcn_nav = out.columns["nav_usdt"]

    size = np.zeros((n, 3))
    price = np.full((n, 3), np.nan)
    fees = np.zeros((n, 3))
    for tr in out.ledger.trades:
        col = LEGS.index(tr.leg)
        q = float(tr.qty_btc) * (1 if tr.side == "BUY" else -1)
        if size[tr.bar, col] != 0:
            raise SystemExit("two fills of one leg on one bar: extend the replay")
        size[tr.bar, col] = q
        price[tr.bar, col] = float(tr.price)
        fees[tr.bar, col] = float(tr.fee_usdt) / (abs(q) * float(tr.price))
    close = np.column_stack([m.spot_close, m.perp_close, m.perp_close])
    # A plain integer index: vectorbt 1.x with pandas 3 is ~20x slower on a tz-aware DatetimeIndex.
    idx = pd.RangeIndex(n)
    cols = pd.Index(LEGS, name="leg")
    kw = dict(
        close=pd.DataFrame(close, index=idx, columns=cols),
        size=pd.DataFrame(size, index=idx, columns=cols),
        price=pd.DataFrame(price, index=idx, columns=cols),
        fees=pd.DataFrame(fees, index=idx, columns=cols),
        size_type="amount", direction="both", init_cash=float(params.initial_nav_usdt),
        cash_sharing=True, group_by=True, freq="1min",
    )  # fmt: skip
    pf = vbt.Portfolio.from_orders(**kw)  # compile numba once
    vbt_times = []
    for _ in range(4):
        t = time.perf_counter()
        pf = vbt.Portfolio.from_orders(**kw)
        value = pf.value().to_numpy()
        vbt_times.append(time.perf_counter() - t)
    rel = np.abs(value - btcn_nav) / np.abs(btcn_nav)
    b, v = statistics.median(btcn_times[1:]), statistics.median(vbt_times[1:])
    print(f"bars {n:,}, fills {len(out.ledger.trades)}, rebalances {out.rebalances}")
    print(
        f"equity: max relative deviation {rel.max():.2e} (goal <= 1e-6)  -> {'OK' if rel.max() <= 1e-6 else 'FAIL'}"
    )
    print(f"btcn engine (decides + fills + accounting)   median {b:.3f} s")
    print(f"vectorbt from_orders + value (replay only)   median {v:.3f} s")
    print(f"time ratio vectorbt / btcn = {v / b:.2f}")


if __name__ == "__main__":
    main()
