"""The daily digest of a run folder: one UTC day, with run-to-date figures beside it.

* ROI of the day: NAV at the day's last bar over NAV at the previous day's last bar (or the
  starting NAV), minus 1. Run-to-date ROI: last NAV over the starting NAV, minus 1.
* Turnover: sum of ``|qty_btc * price|`` of the fills.
* Cost of a fill = fee + slippage. Slippage is measured against the **decision price**: the close
  of the last bar that opened before the fill (the bar on which the order was decided), on the
  fill's leg (spot close for spot, perp close for perps); positive when the fill was worse
  (bought higher / sold lower). It can be negative: a PostOnly fill at a better price.
* Funding: ``funding_usdt`` booked in the period (+ received, - paid).
* Current delta and margin usage: the last bar's ``net_delta_btc``, ``net_delta_pct_nav`` and
  ``margin_used_usdt / nav_usdt`` (with the day's maximum of the latter).
* Liquidation (schema version 2): the day's last bar's ``liq_distance`` and ``liq_price_usdt``
  (btcn's estimate, Gate's rule) and ``venue_liq_price_usdt`` (Gate's own price, live histories
  only), the day's minimum distance and when it was reached, and the run's minimum. NaN (``null``
  in JSON, "n/a" in text) when the run has no such figure: flat book, a version 1 run folder,
  Gate's price outside a live history.

* Carry (schema version 3), the digest's first rows: funding earned, fees and net PnL of the day
  and of the run; ``funding_apr_day`` = the day's funding / the previous day's NAV × 365,
  ``net_apr_day`` = ROI of the day × 365 (simple, not compounded); the run's
  ``funding_apr_run``, ``net_apr_run``, ``fee_drag_run`` and the market's ``funding_rate_apr_run``
  are :meth:`RunFolder.carry` (the summary's formulas). A live history books funding into its
  wallets, not apart: its funding figures are NaN ("in NAV").

The JSON is ``kind: digest``, ``schema_version: 3``; versions 2 and 3 only add keys to version 1
(all of its keys keep their names and meanings), so a reader of version 1 that ignores unknown
keys reads version 3 unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from btcn.core.kpis import DAY_MS
from btcn.reports.runfolder import BLOCKED, RunFolder

SPOT_LEGS = frozenset({"BTC_SPOT"})
# 2: liquidation figures; 3: carry figures (keys added each time; version 1 keys unchanged)
DIGEST_SCHEMA_VERSION = 3


@dataclass(frozen=True, slots=True)
class CostlyTrade:
    ts_ms: int
    leg: str
    action: str
    side: str
    qty_btc: float
    price: float
    decision_price: float
    fee_usdt: float
    slippage_usdt: float
    cost_usdt: float
    liquidity: str


@dataclass(frozen=True, slots=True)
class Digest:
    run: str
    day: str
    day_start_ms: int
    as_of_ms: int
    nav_usdt: float
    roi_day: float
    roi_run: float
    turnover_day_usdt: float
    turnover_run_usdt: float
    fees_day_usdt: float
    fees_run_usdt: float
    funding_day_usdt: float
    funding_run_usdt: float
    trades_day: int
    trades_run: int
    blocked_day: int
    net_delta_btc: float
    net_delta_pct_nav: float
    margin_used_usdt: float
    margin_used_pct_nav: float
    margin_used_max_pct_nav_day: float
    top_costly_trades: list[CostlyTrade]
    # version 2: liquidation distance (fraction of the mark) and prices, NaN when unknown
    liq_distance: float = math.nan
    liq_price_usdt: float = math.nan
    venue_liq_price_usdt: float = math.nan
    liq_distance_min_day: float = math.nan
    liq_distance_min_day_ms: int | None = None
    liq_distance_min_run: float = math.nan
    # version 3: the carry, NaN when unknown (a live history's funding is inside its NAV)
    net_pnl_day_usdt: float = math.nan
    net_pnl_run_usdt: float = math.nan
    funding_apr_day: float = math.nan
    funding_apr_run: float = math.nan
    net_apr_day: float = math.nan
    net_apr_run: float = math.nan
    fee_drag_run: float = math.nan
    funding_rate_apr_run: float = math.nan
    funding_recorded: bool = True

    def to_json_dict(self) -> dict[str, Any]:
        d = {"kind": "digest", "schema_version": DIGEST_SCHEMA_VERSION, **asdict(self)}

        def clean(x: Any) -> Any:
            if isinstance(x, float) and not math.isfinite(x):
                return None
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, list):
                return [clean(v) for v in x]
            return x

        return clean(d)


def _day_of(ms: int) -> int:
    return ms // DAY_MS * DAY_MS


def trade_costs(rf: RunFolder) -> list[CostlyTrade]:
    """Every fill with its fee, slippage against the decision price, and total cost."""
    tr = rf.trades
    if tr.empty:
        return []
    bar_ts = rf.ts_ms
    spot = rf.equity["price_spot"].to_numpy(dtype=np.float64)
    perp = rf.equity["price_perp"].to_numpy(dtype=np.float64)
    fill_ts = tr["ts_ms"].to_numpy(dtype=np.int64)
    # The decision bar: the last bar that opened strictly before the fill.
    idx = np.searchsorted(bar_ts, fill_ts, side="left") - 1
    out = []
    for i, row in enumerate(tr.itertuples(index=False)):
        j = int(idx[i])
        ref = (spot[j] if row.leg in SPOT_LEGS else perp[j]) if j >= 0 else math.nan
        sign = 1.0 if row.side == "BUY" else -1.0
        slip = (row.price - ref) * row.qty_btc * sign if math.isfinite(ref) else 0.0
        out.append(
            CostlyTrade(
                int(row.ts_ms),
                row.leg,
                row.action,
                row.side,
                float(row.qty_btc),
                float(row.price),
                float(ref),
                float(row.fee_usdt),
                float(slip),
                float(row.fee_usdt + slip),
                row.liquidity,
            )
        )
    return out


def _blocked_on_day(rf: RunFolder, start_ms: int, end_ms: int) -> int:
    path = rf.path / BLOCKED
    if not path.is_file():
        return 0
    n = 0
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            t = row.get("time") or ""
            try:
                ms = (
                    int(t)
                    if t.isdigit()
                    else int(dt.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
                )
            except ValueError:
                continue
            n += start_ms <= ms < end_ms
    return n


def _nanmax(values: np.ndarray) -> float:
    """The largest finite value, NaN when there is none (a live history has no margin figure)."""
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else math.nan


def _nanmin_at(values: np.ndarray) -> tuple[float, int | None]:
    """The smallest finite value and its index, ``(NaN, None)`` when there is none."""
    finite = np.flatnonzero(np.isfinite(values))
    if not finite.size:
        return math.nan, None
    j = int(finite[np.argmin(values[finite])])
    return float(values[j]), j


def build_digest(rf: RunFolder, day: dt.date | None = None, top: int = 3) -> Digest:
    ts, nav = rf.ts_ms, rf.nav
    eq = rf.equity
    close_ms = ts + rf.bar_ms
    last_day_start = _day_of(int(close_ms[-1]) - 1)
    if day is None:
        start = last_day_start
    else:
        start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
    end = start + DAY_MS
    # A bar belongs to the day in which it closes (as in the KPI daily returns).
    in_day = (close_ms > start) & (close_ms <= end)
    if not in_day.any():
        from btcn.errors import InvalidInputError

        first = dt.datetime.fromtimestamp(_day_of(int(close_ms[0]) - 1) / 1000, tz=dt.UTC).date()
        last = dt.datetime.fromtimestamp(last_day_start / 1000, tz=dt.UTC).date()
        raise InvalidInputError(
            f"the run has no bars on {dt.datetime.fromtimestamp(start / 1000, tz=dt.UTC).date()}",
            hint=f"the run covers {first} to {last}",
        )
    last_i = int(np.flatnonzero(in_day)[-1])
    before = np.flatnonzero(close_ms <= start)
    nav_prev = float(nav[before[-1]]) if before.shape[0] else rf.nav_start
    nav_now = float(nav[last_i])
    costs = trade_costs(rf)
    day_costs = [c for c in costs if start < c.ts_ms <= end]
    turnover = [abs(c.qty_btc * c.price) for c in costs]
    margin = eq["margin_used_usdt"].to_numpy(dtype=np.float64)
    margin_frac = np.where(nav > 0, margin / nav, math.nan)
    liq = eq["liq_distance"].to_numpy(dtype=np.float64)
    day_idx = np.flatnonzero(in_day)
    min_day, at = _nanmin_at(liq[day_idx])
    return Digest(
        run=rf.label,
        day=dt.datetime.fromtimestamp(start / 1000, tz=dt.UTC).date().isoformat(),
        day_start_ms=start,
        as_of_ms=int(close_ms[last_i]),
        nav_usdt=nav_now,
        roi_day=nav_now / nav_prev - 1.0,
        roi_run=float(nav[-1]) / rf.nav_start - 1.0,
        turnover_day_usdt=float(sum(abs(c.qty_btc * c.price) for c in day_costs)),
        turnover_run_usdt=float(sum(turnover)),
        fees_day_usdt=float(eq["fees_usdt"].to_numpy()[in_day].sum()),
        fees_run_usdt=float(eq["fees_usdt"].sum()),
        funding_day_usdt=float(eq["funding_usdt"].to_numpy()[in_day].sum()),
        funding_run_usdt=float(eq["funding_usdt"].sum()),
        trades_day=len(day_costs),
        trades_run=len(costs),
        blocked_day=_blocked_on_day(rf, start, end),
        net_delta_btc=float(eq["net_delta_btc"].iloc[last_i]),
        net_delta_pct_nav=float(eq["net_delta_pct_nav"].iloc[last_i]),
        margin_used_usdt=float(margin[last_i]),
        margin_used_pct_nav=float(margin_frac[last_i]),
        margin_used_max_pct_nav_day=_nanmax(margin_frac[in_day]),
        top_costly_trades=sorted(day_costs, key=lambda c: c.cost_usdt, reverse=True)[:top],
        liq_distance=float(liq[last_i]),
        liq_price_usdt=float(eq["liq_price_usdt"].iloc[last_i]),
        venue_liq_price_usdt=float(eq["venue_liq_price_usdt"].iloc[last_i]),
        liq_distance_min_day=min_day,
        liq_distance_min_day_ms=None if at is None else int(close_ms[day_idx[at]]),
        liq_distance_min_run=_nanmin_at(liq)[0],
        **_carry_fields(rf, in_day, nav_prev, nav_now),
    )


def _carry_fields(rf: RunFolder, in_day: np.ndarray, nav_prev: float,
                  nav_now: float) -> dict[str, Any]:  # fmt: skip
    c = rf.carry()
    live = rf.is_live_history
    funding_day = float(rf.equity["funding_usdt"].to_numpy()[in_day].sum())
    return {
        "net_pnl_day_usdt": nav_now - nav_prev,
        "net_pnl_run_usdt": float(rf.nav[-1]) - rf.nav_start,
        "funding_apr_day": math.nan if live else funding_day / nav_prev * 365,
        "funding_apr_run": c.funding_apr_on_nav,
        "net_apr_day": (nav_now / nav_prev - 1.0) * 365,
        "net_apr_run": c.net_apr_on_nav,
        "fee_drag_run": c.fee_drag,
        "funding_rate_apr_run": c.funding_rate_apr,
        "funding_recorded": not live,
    }


def _utc(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _pct(x: float, digits: int = 3) -> str:
    return "n/a" if not math.isfinite(x) else f"{x * 100:+.{digits}f} %"


def _frac(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x * 100:.1f} %"


def _usdt(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:,.2f}"


def _liq_distance(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x * 100:.1f} % (past liquidation)" if x < 0 else f"{x * 100:.1f} %"


def liquidation_text(d: Digest) -> tuple[str, str]:
    """(day, run-to-date) text of the liquidation row: latest distance with btcn's and Gate's
    prices, the day's minimum; the run's minimum."""
    if not math.isfinite(d.liq_distance) and not math.isfinite(d.liq_distance_min_day):
        day = "n/a (no perp position or no liquidation data)"
    else:
        day = _liq_distance(d.liq_distance)
        if math.isfinite(d.liq_price_usdt):
            day += f" to {d.liq_price_usdt:,.1f} USDT"
        if math.isfinite(d.venue_liq_price_usdt):
            day += f" (Gate {d.venue_liq_price_usdt:,.1f})"
        day += f"; day min {_liq_distance(d.liq_distance_min_day)}"
        if d.liq_distance_min_day_ms is not None:
            day += f" at {_utc(d.liq_distance_min_day_ms)[11:16]}"
    run = (
        ""
        if not math.isfinite(d.liq_distance_min_run)
        else (f"min {_liq_distance(d.liq_distance_min_run)}")
    )
    return day, run


def _apr(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x * 100:+.2f} % a year"


def carry_rows(d: Digest) -> list[tuple[str, str, str]]:
    """The digest's first rows: what the book earned, what it cost, the yield on NAV and how far
    liquidation is."""
    if d.funding_recorded:
        funding = (f"{d.funding_day_usdt:+,.2f} ({_apr(d.funding_apr_day)} on NAV)",
                   f"{d.funding_run_usdt:+,.2f} ({_apr(d.funding_apr_run)} on NAV; market "
                   f"{_apr(d.funding_rate_apr_run)})")  # fmt: skip
    else:
        funding = ("in NAV (a live history books funding into the wallets)", "in NAV")
    drag = f" ({_frac(d.fee_drag_run)} of funding)" if math.isfinite(d.fee_drag_run) else ""
    net = (f"{d.net_pnl_day_usdt:+,.2f} ({_apr(d.net_apr_day)} on NAV)",
           f"{d.net_pnl_run_usdt:+,.2f} ({_apr(d.net_apr_run)} on NAV)")  # fmt: skip
    return [
        ("Funding earned (USDT)", *funding),
        ("Fees (USDT)", f"{-d.fees_day_usdt:+,.2f}", f"{-d.fees_run_usdt:+,.2f}{drag}"),
        ("Net yield (USDT)", *net),
        ("Liquidation distance", *liquidation_text(d)),
    ]


def rows(d: Digest) -> list[tuple[str, str, str]]:
    """(figure, day, run-to-date) rows shared by the Markdown, the table and the message: the
    carry first (:func:`carry_rows`), then the rest."""
    return [
        *carry_rows(d),
        ("NAV (USDT)", f"{d.nav_usdt:,.2f}", ""),
        ("ROI", _pct(d.roi_day), _pct(d.roi_run)),
        ("Turnover (USDT)", f"{d.turnover_day_usdt:,.2f}", f"{d.turnover_run_usdt:,.2f}"),
        ("Trades", str(d.trades_day), str(d.trades_run)),
        ("Blocked orders", str(d.blocked_day), ""),
        ("Net delta", f"{d.net_delta_btc:+.6f} BTC ({d.net_delta_pct_nav:+.3f} % of NAV)", ""),
        (
            "Margin used",
            f"{_usdt(d.margin_used_usdt)} USDT = {_frac(d.margin_used_pct_nav)} of NAV "
            f"(day max {_frac(d.margin_used_max_pct_nav_day)})",
            "",
        ),
    ]


def trade_rows(d: Digest) -> list[tuple[str, ...]]:
    return [
        (_utc(t.ts_ms), t.leg, t.action, f"{t.qty_btc:.6f}", f"{t.price:,.2f}",
         f"{t.fee_usdt:,.4f}", f"{t.slippage_usdt:+,.4f}", f"{t.cost_usdt:,.4f}", t.liquidity)
        for t in d.top_costly_trades
    ]  # fmt: skip


TRADE_HEADERS = ("time (UTC)", "leg", "action", "qty BTC", "price", "fee", "slippage", "cost",
                 "liquidity")  # fmt: skip


def to_markdown(d: Digest) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    out = [
        f"# btcn daily digest: {esc(d.run)}, {d.day} (UTC)",
        "",
        f"As of {_utc(d.as_of_ms)} UTC.",
        "",
        "| figure | day | run to date |",
        "| --- | ---: | ---: |",
    ]
    out += [f"| {esc(a)} | {esc(b)} | {esc(c)} |" for a, b, c in rows(d)]
    out += [
        "",
        f"## Top {len(d.top_costly_trades)} most costly trades of the day (fee + slippage)",
        "",
    ]
    if d.top_costly_trades:
        out.append("| " + " | ".join(TRADE_HEADERS) + " |")
        out.append("|" + " --- |" * len(TRADE_HEADERS))
        out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in trade_rows(d)]
    else:
        out.append("No trades on this day.")
    out += [
        "",
        "Slippage is measured against the close of the bar on which the order was decided; "
        "positive means the fill was worse.",
        "",
    ]
    return "\n".join(out)


def to_telegram_html(d: Digest) -> str:
    from btcn.monitoring.telegram import esc

    lines = [f"<b>btcn digest {esc(d.run)} {d.day}</b>"]
    for a, b, c in rows(d):
        lines.append(f"{esc(a)}: {esc(b)}" + (f" (run {esc(c)})" if c else ""))
    if d.top_costly_trades:
        lines.append("<b>Most costly trades</b>")
        for t in d.top_costly_trades:
            lines.append(
                esc(
                    f"{_utc(t.ts_ms)[11:16]} {t.leg} {t.action} {t.qty_btc:.4f} BTC: "
                    f"cost {t.cost_usdt:,.2f} USDT"
                )
            )
    return "\n".join(lines)
