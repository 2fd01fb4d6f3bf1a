"""Carry captured by the classic and the unified account on the first real block
(2023-10-01 .. 2025-03-31), default settings and fees of each mode.

Prints per mode: net CAGR, the market's funding APR (mean 8 h rate x 3 x 365) and their ratio,
hedged fraction (mean short notional / NAV), fee drag (fees / funding, as summary.csv's
`fee_drag`) and fee cost (fees per year, % of the starting NAV),
minimum liquidation distance (classic: the futures wallet's; unified: the account's), liquidations,
|net delta| p99 (% of NAV, after the first rebalance), transfers, and borrowing (bars with a
negative USDT balance, interest paid). ``--starts`` adds every start on the 1st and 16th of a month.

Usage: .venv/bin/python benchmarks/carry.py [--data ../shared/data/real] [--starts]
       [--set strategy.threshold_floor=0.02 ...] [--start 2023-10-01] [--end 2025-03-31]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from hedge_quality import real_market  # noqa: E402

from btcn.backtest.engine import run_engine  # noqa: E402
from btcn.backtest.market import restrict, rethreshold  # noqa: E402
from btcn.runtime.settings import Settings  # noqa: E402
from btcn.stages.backtest import engine_params  # noqa: E402

YEAR_MS = 365 * 86_400_000


def settings_for(mode: str, overrides: dict[str, dict[str, object]]) -> Settings:
    data: dict[str, dict[str, object]] = {k: dict(v) for k, v in overrides.items()}
    data.setdefault("account", {})["mode"] = mode
    return Settings(**data)  # type: ignore[arg-type]


def market_for(m, s: Settings):  # type: ignore[no-untyped-def]
    st = s.strategy
    return rethreshold(m, atr_window_ms=st.atr_window_ms, atr_periods=st.atr_periods,
                       threshold_floor=st.threshold_floor, atr_multiplier=st.atr_multiplier)  # fmt: skip


def measure(m, s: Settings, first: int = 0, stop: int | None = None) -> dict:  # type: ignore[no-untyped-def]
    stop = len(m) if stop is None else stop
    m = market_for(m, s)
    params = engine_params(s)
    out = run_engine(m, params, first, stop)
    c = out.columns
    nav = c["nav_usdt"]
    nav0 = float(params.initial_nav_usdt)
    years = (int(m.open_ms[stop - 1]) + m.bar_ms - int(m.open_ms[first])) / YEAR_MS
    sel = (m.funding_bar >= first) & (m.funding_bar < stop)
    apr = float(np.mean(m.funding_rate[sel])) * 3 * 365
    cagr = (float(nav[-1]) / nav0) ** (1 / years) - 1
    ps, pp = m.spot_close[first:stop], m.perp_close[first:stop]
    trades = out.ledger.trades
    start = trades[0].bar - first + 2 if trades else len(nav)
    with np.errstate(divide="ignore", invalid="ignore"):
        nd = np.abs(c["net_delta_btc"] * ps / nav)[start:] * 100.0
        hedged = (c["short_qty_btc"] * pp / nav)[start:]
    liq = c["liq_distance"]
    fees = float(out.ledger.fees_usdt)
    return {
        "net_cagr_pct": 100 * cagr,
        "funding_apr_pct": 100 * apr,
        "ratio_pct": 100 * cagr / apr if apr else float("nan"),
        "hedged_fraction": float(np.mean(hedged)) if hedged.size else float("nan"),
        "fee_cost_pct_yr": 100 * fees / nav0 / years,
        "fees_usdt": fees,
        "funding_usdt": float(out.ledger.funding_usdt),
        "min_liq_distance": float(np.nanmin(liq)) if np.isfinite(liq).any() else float("nan"),
        "liquidations": len(out.liquidations),
        "nd_p99_pct": float(np.percentile(nd, 99)) if nd.size else float("nan"),
        "rebalances": out.rebalances,
        "transfers": out.transfers,
        "negative_usdt_bars": int(np.sum(c["spot_usdt"] < 0)),
        "interest_usdt": float(out.ledger.interest_usdt),
    }


def parse_sets(items: list[str]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for item in items:
        key, _, raw = item.partition("=")
        section, _, name = key.partition(".")
        try:
            value: object = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(section, {})[name] = value
    return out


def start_dates(m) -> list[int]:  # type: ignore[no-untyped-def]
    days = (m.open_ms - m.open_ms[0]) // 86_400_000
    firsts = m.open_ms[np.flatnonzero(np.diff(np.concatenate([[-1], days])) > 0)]
    return [int(ms) for ms in firsts
            if dt.datetime.fromtimestamp(int(ms) / 1000, dt.UTC).day in (1, 16)]  # fmt: skip


def bound(text: str | None) -> int | None:
    if text is None:
        return None
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1000)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    ap.add_argument("--starts", action="store_true", help="also every 1st/16th start (slower)")
    ap.add_argument("--modes", default="classic,unified")
    ap.add_argument("--set", action="append", default=[], help="section.key=value (JSON)")
    ap.add_argument("--start", default=None)
    ap.add_argument("--end", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    m = real_market(args.data)
    first, stop = restrict(m, bound(args.start), bound(args.end))
    overrides = parse_sets(args.set)
    for mode in args.modes.split(","):
        s = settings_for(mode, overrides)
        r = measure(m, s, first, stop)
        if args.json:
            print(json.dumps({"mode": mode, **r}), flush=True)
            continue
        t = s.strategy
        print(f"{mode}: targets spot {t.targets['BTC_SPOT']} short {t.targets['BTC_PERP_SHORT']}, "
              f"floor {t.threshold_floor}, cooldown {t.cooldown}, max_delta_drift "
              f"{t.max_delta_drift}")  # fmt: skip
        print(f"  net CAGR {r['net_cagr_pct']:.2f} %, funding APR {r['funding_apr_pct']:.2f} %, "
              f"ratio {r['ratio_pct']:.1f} %; hedged fraction {r['hedged_fraction']:.3f}; "
              f"fee drag {100 * r['fees_usdt'] / r['funding_usdt']:.1f} % of funding, fee cost "
              f"{r['fee_cost_pct_yr']:.2f} %/yr of NAV ({r['fees_usdt']:.0f} USDT; funding "
              f"{r['funding_usdt']:.0f}); rebalances {r['rebalances']}")  # fmt: skip
        print(f"  min liquidation distance {r['min_liq_distance']:.3f}; liquidations "
              f"{r['liquidations']}; |net delta| p99 {r['nd_p99_pct']:.4f} % NAV; transfers "
              f"{r['transfers']}; bars with negative USDT {r['negative_usdt_bars']}, interest "
              f"{r['interest_usdt']:.2f} USDT", flush=True)  # fmt: skip
        if args.starts:
            liqs, min_liq, n = 0, float("inf"), 0
            for s0 in start_dates(m):
                if s0 >= int(m.open_ms[stop - 1]):
                    continue
                f0, _ = restrict(m, s0, None)
                rs = measure(m, s, f0, stop)
                liqs += rs["liquidations"]
                n += 1
                if np.isfinite(rs["min_liq_distance"]):
                    min_liq = min(min_liq, rs["min_liq_distance"])
            print(f"  starts on the 1st and 16th ({n}): {liqs} liquidations, min liquidation "
                  f"distance {min_liq:.3f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
