"""``equity.html``: one self-contained interactive page (plotly.js inlined, works offline).

Panels, top to bottom, each titled with what it answers:

1. NAV, with the line a perfect hedge would have drawn (start + funding − fees);
2. where the NAV change came from: cumulative funding, − fees, price PnL and basis PnL stacked
   (:func:`btcn.core.carry.attribution`; their sum is the net PnL line);
3. drawdown (tick labels with as many decimals as the range needs, so no two repeat);
4. net delta in % of NAV with the ``max_delta_drift`` band (and in BTC on the right axis);
5. liquidation distance with the guard (``min_liquidation_distance``), margin ratio on the right
   with the treasury's target (1 + ``margin_buffer``);
6. each leg's drift from its target with the threshold band;
7. one marker per rebalance (fills within two bars of each other): triangle up when the book
   bought spot, down when it sold, filled when every fill was maker, open when one was taker, the
   traded notional on a log axis and the orders in the hover; blocked orders as grey crosses, one
   per episode (the same order blocked decision after decision).

Long runs are thinned by :mod:`btcn.backtest.decimate` to at most ``MAX_BUCKETS`` buckets (two
rows each; spikes kept), data gaps are drawn as gaps. Every series is stored once in ``cols`` and
the traces point to it, so a column shared by several traces (the time axis) is written once.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from btcn.backtest import decimate
from btcn.core.carry import attribution

# A 1,280-2,560 px wide chart shows at most one bucket per pixel column; two rows per bucket
# (min and max) keep its envelope exact at that width.
MAX_BUCKETS = 1500
REBALANCE_GAP_BARS = 1  # fills at most this many bars after a group's first fill join it
HOVER_ORDERS = 6  # orders listed in a rebalance's hover text
BLOCKED_GAP_BARS = 12  # a blocked order seen again within an hour of 5 m bars: the same episode


@dataclass(frozen=True)
class Context:
    """What the page needs beyond the equity columns: the run's settings that draw bands."""

    targets: tuple[float, float, float]
    nav_start: float
    bar_ms: int = 0
    max_delta_drift: float | None = None
    min_liq_distance: float | None = None
    margin_target: float | None = None


def _plotly_js() -> str:
    return (
        resources.files("plotly").joinpath("package_data/plotly.min.js").read_text(encoding="utf-8")
    )


def _rounded(values: np.ndarray, sig: int = 6) -> list[float | None]:
    """Values with ``sig`` significant digits for the column's largest magnitude; NaN as null."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if not finite.any():
        return [None] * v.shape[0]
    top = float(np.max(np.abs(v[finite])))
    decimals = sig - 1 - (math.floor(math.log10(top)) if top > 0 else 0)
    r = np.round(np.where(finite, v, 0.0), max(0, min(decimals, 12)))
    return [float(x) if ok else None for x, ok in zip(r.tolist(), finite.tolist(), strict=True)]


def pct_tickformat(span: float, nticks: int) -> str:
    """A d3 percent format whose labels differ for ticks at least ``span / nticks`` apart."""
    if not math.isfinite(span) or span <= 0:
        return ".1%"
    min_step_pct = span / nticks * 100
    decimals = max(0, math.ceil(-math.log10(min_step_pct) + 1e-9))
    return f".{min(decimals, 8)}%"


def _group_rebalances(trades: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: list[list[dict[str, Any]]] = []
    for t in sorted(trades, key=lambda t: (t["ts_ms"], t["leg"])):
        if groups and t["bar_index"] - groups[-1][0]["bar_index"] <= REBALANCE_GAP_BARS:
            groups[-1].append(t)
        else:
            groups.append([t])
    return groups


def _rebalance_traces(trades: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds: dict[tuple[str, str], dict[str, list[Any]]] = {}
    for g in _group_rebalances(trades):
        spot = [t for t in g if t["leg"] == "BTC_SPOT"]
        if spot:
            buy = sum(t["qty_btc"] * (1 if t["side"] == "BUY" else -1) for t in spot) >= 0
        else:  # perp-only: opening the short adds to the carry book like a spot buy does
            buy = any(t["action"] == "OPEN_SHORT" for t in g)
        liquidity = {t["liquidity"] for t in g}
        how = "liquidation" if "liquidation" in liquidity else (
            "maker" if liquidity == {"maker"} else "taker")  # fmt: skip
        notional = sum(abs(t["qty_btc"] * t["price"]) for t in g)
        fees = sum(t["fee_usdt"] for t in g)
        lines = [f"<b>{'buy' if buy else 'sell'} spot, {how}</b>: {notional:,.0f} USDT, "
                 f"fees {fees:,.2f}"]  # fmt: skip
        for t in g[:HOVER_ORDERS]:
            lines.append(f"{t['leg']} {t['action']} {t['qty_btc']:.6f} @ {t['price']:,.2f} "
                         f"{t['liquidity']}")  # fmt: skip
        if len(g) > HOVER_ORDERS:
            lines.append(f"… and {len(g) - HOVER_ORDERS} more")
        k = kinds.setdefault(("buy" if buy else "sell", how), {"x": [], "y": [], "text": []})
        k["x"].append(int(g[0]["ts_ms"]))
        k["y"].append(round(max(notional, 1e-9), 2))
        k["text"].append("<br>".join(lines))
    out = []
    for (side, how), k in sorted(kinds.items()):
        symbol = "x" if how == "liquidation" else (
            "triangle-up" if side == "buy" else "triangle-down")  # fmt: skip
        if how == "taker":
            symbol += "-open"
        out.append({"type": "scatter", "mode": "markers", "name": f"rebalance: {side} spot, {how}",
                    "x": k["x"], "y": k["y"], "text": k["text"], "hoverinfo": "text+x",
                    "xaxis": "x", "yaxis": "y7", "legendgroup": "rebalance",
                    "marker": {"symbol": symbol, "size": 7, "line": {"width": 1.2}, "opacity": 0.8,
                               "color": "#2ca02c" if side == "buy" else "#d62728"}})  # fmt: skip
    return out


def _blocked_episodes(blocked: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A blocked order recurs at every decision while the signal holds: one episode per run of
    the same (leg, action, rule, signal) with at most ``BLOCKED_GAP_BARS`` bars between two."""
    open_: dict[tuple, list[dict[str, Any]]] = {}
    episodes: list[list[dict[str, Any]]] = []
    for b in sorted(blocked, key=lambda b: b["ts_ms"]):
        key = (b["leg"], b["action"], b["rule"], b["signal"])
        ep = open_.get(key)
        if ep is not None and b["bar_index"] - ep[-1]["bar_index"] <= BLOCKED_GAP_BARS:
            ep.append(b)
            continue
        open_[key] = [b]
        episodes.append(open_[key])
    return episodes


def _blocked_trace(blocked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not blocked:
        return []
    x, y, text = [], [], []
    for ep in _blocked_episodes(blocked):
        first, last = ep[0], ep[-1]
        hours = (last["ts_ms"] - first["ts_ms"]) / 3_600_000
        x.append(int(first["ts_ms"]))
        y.append(round(max([float(b.get("notional_usdt") or 0.0) for b in ep] + [1e-9]), 2))
        text.append(f"blocked {first['leg']} {first['action']} ({first['rule']}, signal "
                    f"{first['signal']}): {len(ep)} time(s) over {hours:.1f} h")  # fmt: skip
    return [{"type": "scatter", "mode": "markers", "name": "blocked by a signal (one per episode)",
             "x": x, "y": y, "text": text, "hoverinfo": "text+x", "xaxis": "x", "yaxis": "y7",
             "marker": {"symbol": "x-thin-open", "size": 8, "color": "#7f7f7f",
                        "line": {"width": 1.5}}}]  # fmt: skip


def _line(name: str, col: str, axis: str, color: str, **extra: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "name": name, "x": "@x", "y": f"@{col}",
            "xaxis": "x", "yaxis": axis, "line": {"color": color, "width": 1.5}, **extra}  # fmt: skip


def _hline(axis: str, y: float, color: str, dash: str = "dash") -> dict[str, Any]:
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": axis, "y0": y, "y1": y,
            "line": {"color": color, "width": 1, "dash": dash}}  # fmt: skip


PANELS = (  # axis, domain, panel title (what the reader sees first)
    ("y", (0.85, 1.0), "NAV (USDT) and what a perfect hedge would hold: start + funding − fees"),
    ("y2", (0.69, 0.81), "Where the NAV change came from (USDT, cumulative): funding, − fees, "
                         "price PnL, basis PnL"),
    ("y3", (0.575, 0.65), "Drawdown from the running peak"),
    ("y4", (0.435, 0.535), "Net delta, % of NAV (band: max_delta_drift; BTC in the hover)"),
    ("y5", (0.295, 0.395), "Liquidation distance (guard dashed); margin ratio on the right"),
    ("y6", (0.155, 0.255), "Leg drift from target (band: ± rebalance threshold; the empty book "
                           "before the first rebalance is off the scale)"),
    ("y7", (0.0, 0.115), "Rebalances: ▲ bought spot ▼ sold, filled = all maker, open = taker "
                         "(USDT traded, log)"),
)  # fmt: skip


def figure(eq: dict[str, np.ndarray], trades: list[dict[str, Any]], blocked: list[dict[str, Any]],
           ctx: Context, title: str) -> dict[str, Any]:  # fmt: skip
    ts = np.asarray(eq["ts_ms"], dtype=np.int64)
    p = decimate.plan(ts, ctx.bar_ms, MAX_BUCKETS)
    nav = np.asarray(eq["nav_usdt"], dtype=np.float64)
    att = attribution(nav, ctx.nav_start, eq["funding_usdt"], eq["fees_usdt"], eq["net_delta_btc"],
                      np.asarray(eq["price_spot"], dtype=np.float64))  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        delta_frac = np.asarray(eq["net_delta_pct_nav"], dtype=np.float64) / 100.0
    t_spot, t_long, t_short = ctx.targets
    thr = np.asarray(eq["thr"], dtype=np.float64)
    dd = np.asarray(eq["drawdown"], dtype=np.float64)
    att_parts = {"funding": att.funding, "fees": -att.fees, "price": att.price,
                 "basis": att.basis}  # fmt: skip
    level = {"nav": nav, "hedge": ctx.nav_start + att.funding - att.fees,
             "net": nav - ctx.nav_start, "thr": thr, "mthr": -thr, **att_parts,
             **_diverging_stack(att_parts)}  # fmt: skip
    extreme = {"dd": -dd, "delta": delta_frac, "delta_btc": eq["net_delta_btc"],
               "liq": eq["liq_distance"], "margin": eq["margin_ratio"],
               "d_spot": np.asarray(eq["w_spot"]) - t_spot,
               "d_short": np.asarray(eq["w_short"]) - t_short}  # fmt: skip
    show_long = t_long != 0 or bool(np.nanmax(np.abs(np.asarray(eq["w_long"])), initial=0) > 0)
    if show_long:
        extreme["d_long"] = np.asarray(eq["w_long"]) - t_long
    cols: dict[str, Any] = {"x": decimate.times(p, ts, ctx.bar_ms).tolist()}
    for k, v in level.items():
        cols[k] = _rounded(decimate.level(p, v))
    for k, v in extreme.items():
        cols[k] = _rounded(decimate.extreme(p, v))
    data: list[dict[str, Any]] = [
        _line("NAV (USDT)", "nav", "y", "#1f77b4", line={"color": "#1f77b4", "width": 2}),
        _line("start + funding − fees", "hedge", "y", "#2ca02c",
              line={"color": "#2ca02c", "width": 1, "dash": "dot"}),
        *_stack_traces(),
        _line("net PnL (= the stack's sum)", "net", "y2", "#000000",
              line={"color": "#000000", "width": 1.5}),
        {**_line("drawdown", "dd", "y3", "#d62728"), "fill": "tozeroy"},
        {**_line("net delta (% NAV)", "delta", "y4", "#9467bd"), "customdata": "@delta_btc",
         "hovertemplate": "%{y:.4%} of NAV = %{customdata:.6f} BTC"},
        _line("liquidation distance", "liq", "y5", "#ff7f0e",
              line={"color": "#ff7f0e", "width": 2}),
        _line("margin ratio (right axis)", "margin", "y8", "#7f7f7f",
              line={"color": "#7f7f7f", "width": 1, "dash": "dot"}),
        _line("threshold", "thr", "y6", "#bbbbbb", line={"color": "#bbbbbb", "width": 0.5},
              legendgroup="thr", showlegend=False),
        _line("± rebalance threshold", "mthr", "y6", "#bbbbbb", fill="tonexty",
              fillcolor="rgba(128,128,128,0.2)", line={"color": "#bbbbbb", "width": 0.5},
              legendgroup="thr"),
        _line("BTC_SPOT drift", "d_spot", "y6", "#2ca02c"),
        _line("BTC_PERP_SHORT drift", "d_short", "y6", "#17becf",
              line={"color": "#17becf", "width": 1.5, "dash": "dot"}),
    ]  # fmt: skip
    if show_long:
        data.append(_line("BTC_PERP_LONG drift", "d_long", "y6", "#ff7f0e"))
    data += _rebalance_traces(trades) + _blocked_trace(blocked)
    dd_span = float(np.nanmax(dd)) if dd.size and np.isfinite(dd).any() else 0.0
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 14}},
        "height": 1500,
        "hovermode": "x",
        "legend": {"orientation": "h", "y": -0.04},
        "margin": {"t": 110, "l": 70, "r": 70},
        "xaxis": {"anchor": "y7", "type": "date", "showspikes": True, "spikemode": "across"},
        "shapes": [],
        "annotations": [],
    }
    for axis, domain, text in PANELS:
        key = "yaxis" if axis == "y" else f"yaxis{axis[1:]}"
        layout[key] = {"domain": list(domain), "anchor": "x", "zeroline": True}
        layout["annotations"].append({"text": f"<b>{html.escape(text)}</b>", "xref": "paper",
                                      "yref": "paper", "x": 0, "y": domain[1] + 0.004,
                                      "xanchor": "left", "yanchor": "bottom",
                                      "showarrow": False, "font": {"size": 12}})  # fmt: skip
    layout["yaxis"]["tickformat"] = ",.0f"
    layout["yaxis2"]["tickformat"] = ",.0f"
    layout["yaxis3"].update(tickformat=pct_tickformat(dd_span, 5), nticks=5)
    layout["yaxis4"].update(tickformat=pct_tickformat(_span(delta_frac, ctx.max_delta_drift), 6),
                            nticks=6)  # fmt: skip
    layout["yaxis5"].update(tickformat=".0%", rangemode="tozero")
    drift_lim = _drift_limit(extreme, thr)
    layout["yaxis6"].update(tickformat=pct_tickformat(2 * drift_lim, 6), nticks=6,
                            range=[-drift_lim, drift_lim])  # fmt: skip
    layout["yaxis7"].update(type="log", title={"text": "USDT"})
    layout["yaxis8"] = {"overlaying": "y5", "side": "right", "anchor": "x", "showgrid": False,
                        "title": {"text": "margin ×"}, "rangemode": "tozero"}  # fmt: skip
    if ctx.max_delta_drift:
        layout["shapes"] += [_hline("y4", s * ctx.max_delta_drift, "#9467bd") for s in (1, -1)]
    if ctx.min_liq_distance:
        layout["shapes"].append(_hline("y5", ctx.min_liq_distance, "#d62728"))
    if ctx.margin_target:
        layout["shapes"].append(_hline("y8", ctx.margin_target, "#8c564b", "dot"))
    return {"cols": cols, "data": data, "layout": layout}


STACK = (
    ("funding", "funding received", "44,160,44"),
    ("fees", "− fees", "214,39,40"),
    ("price", "price PnL (net delta)", "31,119,180"),
    ("basis", "basis PnL", "148,103,189"),
)


def _diverging_stack(parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Levels of a diverging stack: each part's positive values stacked up from 0 and its
    negative values down from 0, in the order of :data:`STACK` (no band overlaps another)."""
    out = {}
    up = np.zeros_like(parts["funding"])
    down = np.zeros_like(up)
    for key, _, _ in STACK:
        v = np.nan_to_num(parts[key])
        up = up + np.maximum(v, 0.0)
        down = down + np.minimum(v, 0.0)
        out[f"{key}_up"], out[f"{key}_dn"] = up, down
    return out


def _stack_traces() -> list[dict[str, Any]]:
    out = []
    for direction in ("up", "dn"):
        for i, (key, name, rgb) in enumerate(STACK):
            out.append({**_line(name, f"{key}_{direction}", "y2", f"rgb({rgb})",
                                line={"color": f"rgb({rgb})", "width": 0.5}),
                        "fill": "tozeroy" if i == 0 else "tonexty",
                        "fillcolor": f"rgba({rgb},0.45)", "legendgroup": key,
                        "showlegend": direction == "up", "customdata": f"@{key}",
                        "hovertemplate": f"{name}: %{{customdata:,.2f}} USDT"})  # fmt: skip
    return out


def _drift_limit(extreme: dict[str, np.ndarray], thr: np.ndarray) -> float:
    """A drift axis that shows the band: 1.5 × the 99th percentile of |drift| or 1.3 × the
    largest threshold, whichever is larger (the empty book before the first rebalance, 50 %
    off target, would otherwise flatten everything else)."""
    drifts = np.concatenate([np.abs(np.asarray(v, dtype=np.float64)) for k, v in extreme.items()
                             if k.startswith("d_")])  # fmt: skip
    drifts = drifts[np.isfinite(drifts)]
    p99 = float(np.percentile(drifts, 99)) if drifts.size else 0.0
    top_thr = float(np.nanmax(thr)) if np.isfinite(thr).any() else 0.0
    return max(1.5 * p99, 1.3 * top_thr, 1e-4)


def _span(values: np.ndarray, band: float | None) -> float:
    v = np.asarray(values, dtype=np.float64)
    top = float(np.nanmax(np.abs(v))) if np.isfinite(v).any() else 0.0
    return 2 * max(top, band or 0.0)


_RESOLVE = ("const C=fig.cols;for(const t of fig.data){for(const k of ['x','y','customdata']){"
            "const v=t[k];if(typeof v==='string'&&v[0]==='@')t[k]=C[v.slice(1)];}}")  # fmt: skip


def render(fig: dict[str, Any], title: str) -> str:
    spec = json.dumps(fig, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title.replace('<br>', '; '))}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:sans-serif;margin:0 1em}#chart{width:100%}</style>"
        f"<script>{_plotly_js()}</script></head><body>"
        '<div id="chart"></div>'
        f"<script>const fig={spec};{_RESOLVE}Plotly.newPlot('chart',fig.data,fig.layout,"
        "{responsive:true,displaylogo:false});</script></body></html>\n"
    )


def write_equity_html(path: Path, eq: dict[str, np.ndarray], trades: list[dict[str, Any]],
                      blocked: list[dict[str, Any]], ctx: Context, title: str) -> None:  # fmt: skip
    path.write_text(render(figure(eq, trades, blocked, ctx, title), title), encoding="utf-8")
