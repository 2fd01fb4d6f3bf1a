"""``sweep.html``: one self-contained page (plotly.js inlined from the installed package, no CDN).

* A heat map of the ranking KPI over two swept parameters. Where other parameters vary too, each
  cell shows the **best** value over them (stated on the page). In a walk-forward the value of a
  point is its mean over the train windows.
* The ranking table (top N) and the failed evaluations with their error.
* Walk-forward: in-sample vs out-of-sample KPIs per window side by side, the chained
  out-of-sample equity curve, and the stability of the chosen parameters.
"""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from btcn.backtest.html import _plotly_js
from btcn.data.timeparse import iso_utc
from btcn.runtime.files import write_text_atomic
from btcn.sweep.store import finite
from btcn.sweep.walkforward import ranked

if TYPE_CHECKING:
    from btcn.sweep.result import SweepResult
    from btcn.sweep.windows import Window

MAX_CURVE_POINTS = 4000


def _fmt(v: Any, key: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, (bool, str)):
        return html.escape(str(v))
    if isinstance(v, int):
        return f"{v:,}"
    if key in ("roi", "cagr", "max_drawdown") or key.endswith(("_roi", "_cagr", "_max_drawdown")):
        return f"{v:.2%}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def point_scores(result: SweepResult) -> list[dict[str, Any]]:
    """One row per point with its ranking value: the full-period row, or in a walk-forward the
    mean of its train-window values (failed windows make the mean NaN)."""
    base = [r for r in result.rows if r["phase"] in ("full", "train")]
    if not result.walk_forward:
        return base
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in base:
        groups[r["point"]].append(r)
    out = []
    for point, rs in sorted(groups.items()):
        ok = all(r["status"] == "ok" for r in rs)
        merged = dict(rs[0])
        for k in (result.metric, "roi", "sharpe", "max_drawdown", "fees_usdt", "trades"):
            vals = [r.get(k) for r in rs]
            merged[k] = (
                float(np.mean([float(v) for v in vals]))
                if ok and all(finite(v) for v in vals)
                else math.nan
            )
        merged["status"] = "ok" if ok else "failed"
        merged["error"] = next((r["error"] for r in rs if r["error"]), None)
        merged["point"] = point
        out.append(merged)
    return out


def _order(values: list[Any]) -> list[Any]:
    uniq: list[Any] = []
    seen: set[str] = set()
    for v in values:
        k = json.dumps(v, sort_keys=True)
        if k not in seen:
            seen.add(k)
            uniq.append(v)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in uniq):
        return sorted(uniq)
    return uniq


def heatmap_figure(scores: list[dict[str, Any]], keys: tuple[str, str], metric: str,
                   maximize: bool) -> dict[str, Any]:  # fmt: skip
    kx, ky = keys
    xs = _order([r.get(kx) for r in scores])
    ys = _order([r.get(ky) for r in scores])
    xi = {json.dumps(v, sort_keys=True): i for i, v in enumerate(xs)}
    yi = {json.dumps(v, sort_keys=True): i for i, v in enumerate(ys)}
    z: list[list[float | None]] = [[None] * len(xs) for _ in ys]
    for r in scores:
        v = r.get(metric)
        if r["status"] != "ok" or not finite(v):
            continue
        i = yi[json.dumps(r.get(ky), sort_keys=True)]
        j = xi[json.dumps(r.get(kx), sort_keys=True)]
        cur = z[i][j]
        if cur is None or (v > cur if maximize else v < cur):
            z[i][j] = float(v)
    label = [str(v) for v in xs], [str(v) for v in ys]
    return {
        "data": [{"type": "heatmap", "x": label[0], "y": label[1], "z": z,
                  "colorscale": "Viridis", "reversescale": not maximize,
                  "colorbar": {"title": {"text": metric}},
                  "hovertemplate": f"{kx}=%{{x}}<br>{ky}=%{{y}}<br>{metric}=%{{z:.4g}}<extra></extra>"}],
        "layout": {"title": {"text": f"{metric} over {kx} × {ky}"},
                   "xaxis": {"title": {"text": kx}, "type": "category"},
                   "yaxis": {"title": {"text": ky}, "type": "category"}, "height": 520},
    }  # fmt: skip


def equity_figure(chained: Any, windows: list[Window]) -> dict[str, Any]:
    n = chained.ts_ms.shape[0]
    step = max(1, math.ceil(n / MAX_CURVE_POINTS))
    idx = np.arange(0, n, step)
    if idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    x = np.datetime_as_string(chained.ts_ms[idx].astype("datetime64[ms]"), unit="s").tolist()
    y = [round(float(v), 6) for v in chained.nav_usdt[idx]]
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": iso_utc(w.test_start_ms),
               "x1": iso_utc(w.test_start_ms), "y0": 0, "y1": 1,
               "line": {"color": "#999", "width": 1, "dash": "dot"}} for w in windows]  # fmt: skip
    return {
        "data": [{"type": "scatter", "mode": "lines", "name": "out-of-sample NAV", "x": x, "y": y,
                  "line": {"color": "#1f77b4"}}],
        "layout": {"title": {"text": "Chained out-of-sample equity (dotted: test window starts)"},
                   "xaxis": {"type": "date"}, "yaxis": {"title": {"text": "NAV USDT"}},
                   "shapes": shapes, "height": 420},
    }  # fmt: skip


def render(result: SweepResult, heat: tuple[str, str] | None, top: int,
           windows: list[Window]) -> str:  # fmt: skip
    metric, keys = result.metric, result.keys
    scores = point_scores(result)
    figures: list[tuple[str, dict[str, Any]]] = []
    parts = [f"<h1>btcn sweep: {len(scores)} points, ranked by {html.escape(metric)} "
             f"({'higher' if result.maximize else 'lower'} is better)</h1>",
             f"<p>{result.executed} evaluations run, {result.reused} reused from an earlier run, "
             f"{result.failed} failed; back-end {html.escape(result.backend)} with "
             f"{result.workers} worker(s).</p>"]  # fmt: skip
    for w in result.warnings:
        parts.append(f"<p class='warn'>warning: {html.escape(w)}</p>")
    if heat is not None:
        note = "Each cell: the best value over the other swept parameters"
        if result.walk_forward:
            note += "; a point's value is its mean over the train windows"
        parts.append(f"<h2>Heat map</h2><p>{note}.</p><div id='heat'></div>")
        figures.append(("heat", heatmap_figure(scores, heat, metric, result.maximize)))
    cols = list(dict.fromkeys([metric, "roi", "sharpe", "max_drawdown", "fees_usdt", "trades"]))
    best = ranked(scores, metric, result.maximize)[:top]
    rows = [[str(i + 1), str(r["point"]), *(_fmt(r.get(k)) for k in keys),
             *(_fmt(r.get(k), k) for k in cols), html.escape(r["status"])]
            for i, r in enumerate(best)]  # fmt: skip
    title = "Ranking" + (" (mean over train windows)" if result.walk_forward else "")
    parts.append(f"<h2>{title}</h2>" + _table(["rank", "point", *keys, *cols, "status"], rows))
    failed = [r for r in result.rows if r["status"] == "failed"][:50]
    if failed:
        parts.append("<h2>Failed evaluations</h2>" + _table(
            ["point", "phase", "window", "error"],
            [[str(r["point"]), r["phase"], str(r["window"]), html.escape(str(r["error"]))]
             for r in failed]))  # fmt: skip
    if result.walk_forward:
        parts.append(_walk_forward_html(result, windows, figures))
    scripts = "".join(
        f"Plotly.newPlot('{div}',{_spec(fig)}.data,{_spec(fig)}.layout,"
        "{responsive:true,displaylogo:false});"
        for div, fig in figures
    )
    title_text = f"btcn sweep ({metric})"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title_text)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:sans-serif;margin:0 1em}table{border-collapse:collapse;"
        "font-size:13px;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:right}th{background:#f3f3f3}.warn{color:#a60}</style>"
        f"<script>{_plotly_js()}</script></head><body>{''.join(parts)}"
        f"<script>{scripts}</script></body></html>\n"
    )


def _spec(fig: dict[str, Any]) -> str:
    return json.dumps(fig, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def _walk_forward_html(result: SweepResult, windows: list[Window],
                       figures: list[tuple[str, dict[str, Any]]]) -> str:  # fmt: skip
    wf, metric, keys = result.walk_forward or {}, result.metric, result.keys
    kpis = list(dict.fromkeys([metric, "roi", "sharpe", "max_drawdown", "trades"]))
    headers = ["window", "train", "test", *keys]
    for k in kpis:
        headers += [f"IS {k}", f"OOS {k}"]
    headers.append("status")
    rows = []
    for r in result.wf_table:
        cells = [str(r["window"]), f"{iso_utc(r['train_start'])[:10]} → {iso_utc(r['train_end'])[:10]}",
                 f"{iso_utc(r['test_start'])[:10]} → {iso_utc(r['test_end'])[:10]}",
                 *(_fmt(r.get(k)) for k in keys)]  # fmt: skip
        for k in kpis:
            cells += [_fmt(r.get(f"is_{k}"), k), _fmt(r.get(f"oos_{k}"), k)]
        cells.append(html.escape(r["status"]))
        rows.append(cells)
    out = [f"<h2>Walk-forward {html.escape(wf.get('walk_forward', ''))}: in-sample vs "
           "out-of-sample per window</h2><p>The winner of each train window (by "
           f"{html.escape(metric)}, chosen from train results only) is run on the test window "
           "that follows.</p>", _table(headers, rows)]  # fmt: skip
    summ = []
    for name, block in (("in-sample mean", wf.get("is_mean")), ("out-of-sample mean", wf.get("oos_mean")),
                        ("out-of-sample chained", wf.get("oos_chained"))):  # fmt: skip
        if block:
            summ.append(
                [
                    name,
                    *(
                        _fmt(block.get(k), k)
                        for k in ("roi", "cagr", "sharpe", "sortino", "max_drawdown")
                    ),
                ]
            )
    out.append(_table(["", "roi", "cagr", "sharpe", "sortino", "max_drawdown"], summ))
    if result.oos_curve is not None:
        out.append("<div id='oos'></div>")
        figures.append(("oos", equity_figure(result.oos_curve, windows)))
    st = wf.get("stability", {})
    out.append(
        "<h2>Parameter stability</h2>"
        f"<p>The chosen point changed {st.get('changes', 0)} time(s) over "
        f"{st.get('windows', 0)} windows; {st.get('distinct_points', 0)} distinct point(s) won; "
        f"the most frequent won {_fmt(st.get('most_chosen_share'), 'roi')} of the windows.</p>"
    )
    prow = []
    for k, e in st.get("params", {}).items():
        spread = (f"min {_fmt(e.get('min'))}, max {_fmt(e.get('max'))}, std {_fmt(e.get('std'))}"
                  if "std" in e else f"{e.get('distinct')} distinct, most often {_fmt(e.get('mode'))}")  # fmt: skip
        prow.append([html.escape(k), " · ".join(_fmt(v) for v in e["values"]), spread])
    out.append(_table(["parameter", "chosen value per window", "spread"], prow))
    return "".join(out)


def write_sweep_html(path: Path, result: SweepResult, heat: tuple[str, str] | None, top: int,
                     windows: list[Window]) -> None:  # fmt: skip
    write_text_atomic(path, render(result, heat, top, windows))
