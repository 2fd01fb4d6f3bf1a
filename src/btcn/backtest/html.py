"""``equity.html``: one self-contained interactive page (plotly.js inlined, works offline).

Panels: NAV with trade and blocked-trade markers; drawdown; net delta (% of NAV); each leg's weight
with its target and the threshold band. Long series are thinned to at most ``MAX_POINTS`` points
per line (last value per bucket; the drawdown keeps each bucket's worst value) so the page stays
light; markers are never thinned.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

MAX_POINTS = 4000


def _plotly_js() -> str:
    return (
        resources.files("plotly").joinpath("package_data/plotly.min.js").read_text(encoding="utf-8")
    )


def _thin(n: int) -> tuple[np.ndarray, int]:
    step = max(1, int(np.ceil(n / MAX_POINTS)))
    idx = np.arange(step - 1, n, step)
    if idx.size == 0 or idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    return idx, step


def _iso(ms: np.ndarray) -> list[str]:
    return np.datetime_as_string(ms.astype("datetime64[ms]"), unit="s").tolist()


def _clean(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 10) for v in values]


def figure(eq: dict[str, np.ndarray], trades: list[dict[str, Any]], blocked: list[dict[str, Any]],
           targets: tuple[float, float, float], title: str) -> dict[str, Any]:  # fmt: skip
    ts = eq["ts_ms"]
    idx, step = _thin(ts.shape[0])
    x = _iso(ts[idx])
    dd = eq["drawdown"]
    if step > 1:  # worst drawdown within each bucket
        pad = (-dd.shape[0]) % step
        dd_b = np.concatenate([dd, np.full(pad, np.nan)]).reshape(-1, step)
        dd_thin = np.nanmax(dd_b, axis=1)[: idx.shape[0]]
        if dd_thin.shape[0] < idx.shape[0]:
            dd_thin = np.append(dd_thin, dd[-1])
    else:
        dd_thin = dd[idx]
    nav = eq["nav_usdt"]
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "name": "NAV (USDT)", "x": x, "y": _clean(nav[idx]),
         "xaxis": "x", "yaxis": "y", "line": {"color": "#1f77b4"}},
        {"type": "scatter", "mode": "lines", "name": "drawdown", "x": x, "y": _clean(-dd_thin),
         "xaxis": "x", "yaxis": "y2", "fill": "tozeroy", "line": {"color": "#d62728"}},
        {"type": "scatter", "mode": "lines", "name": "net delta (% NAV)", "x": x,
         "y": _clean(eq["net_delta_pct_nav"][idx]), "xaxis": "x", "yaxis": "y3",
         "line": {"color": "#9467bd"}},
    ]  # fmt: skip
    colors = {"w_spot": "#2ca02c", "w_long": "#ff7f0e", "w_short": "#17becf"}
    names = {"w_spot": "BTC_SPOT", "w_long": "BTC_PERP_LONG", "w_short": "BTC_PERP_SHORT"}
    thr = eq["thr"][idx]
    for (col, color), target in zip(colors.items(), targets, strict=True):
        data.append({"type": "scatter", "mode": "lines", "name": f"w {names[col]}", "x": x,
                     "y": _clean(eq[col][idx]), "xaxis": "x", "yaxis": "y4",
                     "line": {"color": color}, "legendgroup": col})  # fmt: skip
        for sign in (1, -1):
            data.append({"type": "scatter", "mode": "lines", "name": f"{names[col]} target ± thr",
                         "x": x, "y": _clean(target + sign * thr), "xaxis": "x", "yaxis": "y4",
                         "line": {"color": color, "dash": "dot", "width": 1}, "legendgroup": col,
                         "showlegend": sign == 1})  # fmt: skip
    if trades:
        tx = _iso(np.array([t["ts_ms"] for t in trades]))
        nav_at = [float(nav[t["bar_index"]]) for t in trades]
        text = [
            f"{t['leg']} {t['action']} {t['qty_btc']:.6f} BTC @ {t['price']:.2f} ({t['liquidity']})"
            for t in trades
        ]
        data.append({"type": "scatter", "mode": "markers", "name": "trades", "x": tx, "y": nav_at,
                     "text": text, "hoverinfo": "text+x", "xaxis": "x", "yaxis": "y",
                     "marker": {"symbol": "triangle-up", "size": 7, "color": "#2ca02c"}})  # fmt: skip
    if blocked:
        bx = _iso(np.array([b["ts_ms"] for b in blocked]))
        nav_b = [float(nav[b["bar_index"]]) for b in blocked]
        text = [
            f"blocked {b['leg']} {b['action']} ({b['rule']}, signal {b['signal']})" for b in blocked
        ]
        data.append({"type": "scatter", "mode": "markers", "name": "blocked", "x": bx, "y": nav_b,
                     "text": text, "hoverinfo": "text+x", "xaxis": "x", "yaxis": "y",
                     "marker": {"symbol": "x", "size": 6, "color": "#ff7f0e"}})  # fmt: skip
    layout = {
        "title": {"text": title},
        "height": 950,
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.08},
        "xaxis": {"anchor": "y4", "type": "date"},
        "yaxis": {"domain": [0.62, 1.0], "title": {"text": "NAV USDT"}},
        "yaxis2": {"domain": [0.45, 0.58], "title": {"text": "drawdown"}, "tickformat": ".1%"},
        "yaxis3": {"domain": [0.28, 0.41], "title": {"text": "net delta %"}},
        "yaxis4": {"domain": [0.0, 0.24], "title": {"text": "weight"}, "tickformat": ".1%"},
    }
    return {"data": data, "layout": layout}


def render(fig: dict[str, Any], title: str) -> str:
    spec = json.dumps(fig, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:sans-serif;margin:0 1em}#chart{width:100%}</style>"
        f"<script>{_plotly_js()}</script></head><body>"
        '<div id="chart"></div>'
        f"<script>const fig={spec};Plotly.newPlot('chart',fig.data,fig.layout,"
        "{responsive:true,displaylogo:false});</script></body></html>\n"
    )


def write_equity_html(path: Path, eq: dict[str, np.ndarray], trades: list[dict[str, Any]],
                      blocked: list[dict[str, Any]], targets: tuple[float, float, float], title: str) -> None:  # fmt: skip
    path.write_text(render(figure(eq, trades, blocked, targets, title), title), encoding="utf-8")
