"""Hedge quality of the rebalance rules ("book" vs "per_leg"), zero and default fees, on the shared
real data (2023-10-01 .. 2025-03-31) and on a synthetic 250 %-volatility path (one year of 5 m bars).

Prints, per case: share of one-leg rebalances, |net delta| (% NAV) p50 / p99 / max after the first
rebalance, price PnL vs funding, carry captured (NAV change + fees, as % of the ideal
sum of funding rate x target short notional), transfers, minimum liquidation distance, and
liquidations over start dates on the 1st and 16th of every month of the real data. The
``nobasis`` rows run the real spot path with the perp priced at spot: what separates their carry
from the real rows' is the basis between the two markets, not the rebalance rule.

Usage: .venv/bin/python benchmarks/hedge_quality.py [--data ../shared/data/real] [--starts]
"""

from __future__ import annotations

import argparse
import glob
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import funding_8h, gbm_candles  # noqa: E402

from btcn.backtest.engine import run_engine  # noqa: E402
from btcn.backtest.market import build_market, restrict  # noqa: E402
from btcn.data.candles import load_candles  # noqa: E402
from btcn.data.funding import load_funding  # noqa: E402
from btcn.data.signals import EMPTY_SIGNALS  # noqa: E402
from btcn.runtime.settings import Settings  # noqa: E402
from btcn.stages.backtest import engine_params  # noqa: E402

FIVE_MIN = 300_000


def real_market(data: Path, *, basis: bool = True):
    """The shared real data; ``basis=False`` prices the perp at the spot candles (and pays funding
    at that price), which isolates what the basis contributes to the price PnL."""
    spot = sorted(glob.glob(str(data / "spot_5m/vision/BTCUSDT-5m-2023-1*.csv")))
    spot += sorted(glob.glob(str(data / "spot_5m/vision/BTCUSDT-5m-2024-*.csv")))
    spot += sorted(glob.glob(str(data / "spot_5m/vision/BTCUSDT-5m-2025-0[12].csv")))
    spot += [str(data / "spot_5m/ohlcv/BTCUSDT-5m-2025-03.csv")]
    perp = sorted(glob.glob(str(data / "perp_5m/ohlcv/BTCUSDT-5m-202[34]-*.csv")))
    perp += sorted(glob.glob(str(data / "perp_5m/vision/BTCUSDT-5m-2025-0[123].csv")))
    s = load_candles(spot, gaps="warn", what="candles")
    p = load_candles(perp, gaps="warn", what="perp")
    f = load_funding([str(data / "funding/BTCUSDT-fundingRate-8h-2023-10_2025-03.csv")])
    if not basis:
        p = replace(s, digest=s.digest + "-as-perp")
        f = replace(f, mark_price=np.full(len(f), np.nan))
    return _market(s, p, f)


def _market(spot, perp, funding):
    st = Settings().strategy
    return build_market(spot, perp, funding, EMPTY_SIGNALS, atr_window_ms=st.atr_window_ms,
                        atr_periods=st.atr_periods, threshold_floor=st.threshold_floor,
                        atr_multiplier=st.atr_multiplier)  # fmt: skip


def synthetic_market():
    spot, perp = gbm_candles(365 * 288, bar_ms=FIVE_MIN, vol_annual=2.5, seed=11)
    return _market(spot, perp, funding_8h(spot, seed=12))


def settings_for(mode: str, zero_fees: bool) -> Settings:
    s = Settings()
    strategy = s.strategy.model_copy(update={"rebalance": mode})
    fees = s.fees
    bt = s.backtest
    if zero_fees:
        fees = fees.model_copy(update=dict(spot_maker=0.0, spot_taker=0.0, perp_maker=0.0,
                                           perp_taker=0.0))  # fmt: skip
        bt = bt.model_copy(update={"slippage": 0.0})
    return s.model_copy(update={"strategy": strategy, "fees": fees, "backtest": bt})


def rebalance_groups(trades) -> list[set[str]]:
    """Fills of one rebalance land on the bar after the decision or the next (cooldown >> 2)."""
    groups: list[tuple[int, set[str]]] = []
    for t in trades:
        if t.liquidity == "liquidation":
            continue
        if groups and t.bar - groups[-1][0] <= 2:
            groups[-1][1].add(t.leg)
        else:
            groups.append((t.bar, {t.leg}))
    return [g for _, g in groups]


def measure(m, settings: Settings, first: int = 0, stop: int | None = None) -> dict:
    stop = len(m) if stop is None else stop
    params = engine_params(settings)
    out = run_engine(m, params, first, stop)
    c = out.columns
    nav = c["nav_usdt"]
    ps = m.spot_close[first:stop]
    with np.errstate(divide="ignore", invalid="ignore"):
        nd = np.abs(c["net_delta_btc"] * ps / nav) * 100.0
    trades = out.ledger.trades
    start = trades[0].bar - first + 2 if trades else len(nav)
    nd = nd[start:]
    groups = rebalance_groups(trades)
    one_leg = sum(1 for g in groups if len(g) == 1)
    fees = float(out.ledger.fees_usdt)
    funding = float(out.ledger.funding_usdt)
    nav0 = float(params.initial_nav_usdt)
    price_pnl = float(nav[-1]) - nav0 - funding + fees
    sel = (m.funding_bar >= first) & (m.funding_bar < stop)
    fbar = m.funding_bar[sel] - first
    mark = np.where(
        np.isnan(m.funding_mark[sel]), m.perp_close[first:stop][fbar], m.funding_mark[sel]
    )
    t_short = settings.strategy.targets["BTC_PERP_SHORT"]
    ideal = float(np.sum(m.funding_rate[sel] * t_short * nav[np.maximum(fbar - 1, 0)]))
    liq = c["liq_distance"]
    del mark
    return {
        "rebalances": len(groups),
        "one_leg_pct": 100.0 * one_leg / max(len(groups), 1),
        "nd_p50": float(np.percentile(nd, 50)) if nd.size else float("nan"),
        "nd_p99": float(np.percentile(nd, 99)) if nd.size else float("nan"),
        "nd_max": float(np.max(nd)) if nd.size else float("nan"),
        "price_pnl": price_pnl,
        "funding": funding,
        "fees": fees,
        "carry_pct": 100.0 * (float(nav[-1]) - nav0 + fees) / ideal if ideal else float("nan"),
        "transfers": out.transfers,
        "min_liq": float(np.nanmin(liq)) if np.isfinite(liq).any() else float("nan"),
        "liquidations": len(out.liquidations),
        "spot_usdt_below_1": int(np.sum(c["spot_usdt"] < 1.0)),
    }


def row(name: str, r: dict) -> str:
    return (f"{name:<28} {r['rebalances']:>6} {r['one_leg_pct']:>6.1f}% {r['nd_p50']:>8.4f} "
            f"{r['nd_p99']:>8.4f} {r['nd_max']:>8.4f} {r['price_pnl']:>10.1f} {r['funding']:>10.1f} "
            f"{r['carry_pct']:>7.2f}% {r['transfers']:>5} {r['min_liq']:>7.3f} "
            f"{r['liquidations']:>4} {r['spot_usdt_below_1']:>6}")  # fmt: skip


HEADER = (f"{'case':<28} {'rebal':>6} {'1-leg':>7} {'|nd|p50':>8} {'|nd|p99':>8} {'|nd|max':>8} "
          f"{'pricePnL':>10} {'funding':>10} {'carry':>8} {'xfers':>5} {'minliq':>7} {'liq':>4} "
          f"{'usdt<1':>6}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    ap.add_argument("--starts", action="store_true", help="also run every start date (slower)")
    args = ap.parse_args()
    markets = {
        "real 2023-10..2025-03": real_market(args.data),
        "nobasis real data, perp priced at spot": real_market(args.data, basis=False),
        "synthetic 250% vol": synthetic_market(),
    }
    print(
        "|nd| = |net delta| as % of NAV after the first rebalance; carry = (NAV change + fees) "
        "/ sum(funding rate x target short notional)"
    )
    print(HEADER)
    for label, m in markets.items():
        for mode in ("book", "per_leg"):
            for zero in (True, False) if not label.startswith("nobasis") else (True,):
                r = measure(m, settings_for(mode, zero))
                print(row(f"{label.split()[0]} {mode} {'0fee' if zero else 'fees'}", r), flush=True)
    if args.starts:
        m = markets["real 2023-10..2025-03"]
        days = (m.open_ms - m.open_ms[0]) // 86_400_000
        import datetime as dt

        starts = []
        for ms in m.open_ms[np.flatnonzero(np.diff(np.concatenate([[-1], days])) > 0)]:
            d = dt.datetime.fromtimestamp(int(ms) / 1000, dt.UTC)
            if d.day in (1, 16):
                starts.append(int(ms))
        for mode in ("book", "per_leg"):
            liqs, absorbed, min_liq = 0, 0.0, float("inf")
            for s0 in starts:
                first, stop = restrict(m, s0, None)
                out = run_engine(m, engine_params(settings_for(mode, False)), first, stop)
                liqs += len(out.liquidations)
                absorbed += sum(float(e.absorbed_usdt) for e in out.liquidations)
                liq = out.columns["liq_distance"]
                if np.isfinite(liq).any():
                    min_liq = min(min_liq, float(np.nanmin(liq)))
            print(
                f"start dates ({len(starts)}, 1st and 16th of each month), {mode}: "
                f"{liqs} liquidations, {absorbed:.1f} USDT absorbed, min liquidation distance "
                f"{min_liq:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
