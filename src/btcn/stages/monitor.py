"""``btcn monitor push`` (metrics to InfluxDB) and ``btcn monitor alerts`` (Telegram alerts).

Series (measurement ``[influx] measurement``, tag ``source`` = run name or snapshot venue):

==================  ===========================================================================
field               meaning
==================  ===========================================================================
nav_usdt            NAV at the bar's close
net_delta_btc       spot + perp long - perp short, in BTC
net_delta_pct_nav   net delta as % of NAV
basis_gate          Gate perp price / P_ref - 1 (the run's ``price_perp / price_spot - 1``)
margin_used_usdt    perp notional / leverage
margin_used_pct_nav margin used / NAV (fraction)
funding_rate        rate of a funding event, per funding interval (only on funding bars)
sharpe_30d          trailing 30-day Sharpe, one point per UTC day at its last bar
liq_price_usdt      btcn's liquidation price estimate of the book (Gate's rule, ``[risk]
                    margin_mode``)
liq_distance        fraction of the mark the price may move against the book before that price
                    (negative: already past it)
venue_liq_price_usdt  Gate's own liquidation price (live history and snapshots that carry it)
==================  ===========================================================================

A field is written only where its value is finite: a flat book, a backtest (no Gate price) or a
version 1 run folder leaves the liquidation fields out of the point instead of writing NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from btcn.contracts import ExecutionReport, Plan, Snapshot, parse_artifact
from btcn.core import kpis as K
from btcn.monitoring import alerts as A
from btcn.monitoring.alert_store import load_alert_state, save_alert_state
from btcn.monitoring.influx import Point
from btcn.reports.runfolder import RunFolder
from btcn.runtime.settings import Settings
from btcn.runtime.state import StateStore


def funding_rates_from_run(rf: RunFolder) -> tuple[np.ndarray, np.ndarray]:
    """Funding events of a run: (bar index, rate per interval).

    The run books ``funding_usdt = -rate * (long - short) * price_perp`` (positive rate: longs pay
    shorts), so ``rate = -funding_usdt / ((long - short) * price_perp)`` where a net perp position
    exists.
    """
    eq = rf.equity
    f = eq["funding_usdt"].to_numpy(dtype=np.float64)
    net = (eq["long_qty_btc"] - eq["short_qty_btc"]).to_numpy(dtype=np.float64)
    px = eq["price_perp"].to_numpy(dtype=np.float64)
    idx = np.flatnonzero((f != 0) & (net != 0))
    return idx, -f[idx] / (net[idx] * px[idx])


LIQUIDATION_FIELDS = ("liq_price_usdt", "liq_distance", "venue_liq_price_usdt")


def points_from_run(
    rf: RunFolder, measurement: str, tags: Mapping[str, str], since_ms: int | None = None
) -> Iterator[Point]:
    eq = rf.equity
    ts = rf.ts_ms
    close = ts + rf.bar_ms
    nav = rf.nav
    with np.errstate(divide="ignore", invalid="ignore"):
        basis = eq["price_perp"].to_numpy() / eq["price_spot"].to_numpy() - 1.0
        margin_frac = eq["margin_used_usdt"].to_numpy() / nav
    net = eq["net_delta_btc"].to_numpy()
    net_pct = eq["net_delta_pct_nav"].to_numpy()
    margin = eq["margin_used_usdt"].to_numpy()
    liq = {c: eq[c].to_numpy(dtype=np.float64) for c in LIQUIDATION_FIELDS}
    f_idx, f_rate = funding_rates_from_run(rf)
    funding_at = dict(zip(f_idx.tolist(), f_rate.tolist(), strict=True))
    _, sharpe = K.rolling_daily_sharpe(
        ts, nav, bar_ms=rf.bar_ms, nav_start=rf.nav_start, window_days=30
    )
    day_idx = (close - 1) // K.DAY_MS if rf.bar_ms else ts // K.DAY_MS
    last_of_day = np.append(np.flatnonzero(np.diff(day_idx) != 0), ts.shape[0] - 1)
    sharpe_at = dict(zip(last_of_day.tolist(), sharpe.tolist(), strict=True))
    start = 0 if since_ms is None else int(np.searchsorted(close, since_ms, side="right"))
    for i in range(start, ts.shape[0]):
        fields: dict[str, float] = {
            "nav_usdt": float(nav[i]),
            "net_delta_btc": float(net[i]),
            "net_delta_pct_nav": float(net_pct[i]),
            "basis_gate": float(basis[i]),
            "margin_used_usdt": float(margin[i]),
            "margin_used_pct_nav": float(margin_frac[i]),
        }
        for c, values in liq.items():
            if math.isfinite(values[i]):
                fields[c] = float(values[i])
        if i in funding_at:
            fields["funding_rate"] = funding_at[i]
        if i in sharpe_at:
            fields["sharpe_30d"] = sharpe_at[i]
        yield Point(measurement, fields, int(close[i]), dict(tags))


def points_from_snapshot(snap: Snapshot, settings: Settings, measurement: str,
                         tags: Mapping[str, str]) -> list[Point]:  # fmt: skip
    from btcn.stages import weights as wstage
    from btcn.stages.liquidation import book_figures

    w = wstage.run(snap, settings)
    fields = {
        "nav_usdt": float(w.nav_usdt),
        "net_delta_btc": float(w.net_delta_btc),
        "net_delta_pct_nav": float(w.net_delta_pct_nav),
        "basis_gate": float(snap.prices.perp_mark_usdt / snap.p_ref_usdt) - 1.0,
    }
    for c, value in zip(LIQUIDATION_FIELDS, book_figures(w.liquidation), strict=True):
        if math.isfinite(value):
            fields[c] = value
    return [Point(measurement, fields, snap.as_of_ms, {"source": snap.venue, **tags})]


# --- alerts -----------------------------------------------------------------------------------
def funding_condition_from_run(rf: RunFolder, limit_bps_8h: float) -> A.Condition | None:
    idx, rate = funding_rates_from_run(rf)
    if idx.shape[0] == 0:
        return None
    ts = rf.ts_ms
    interval = int(ts[idx[-1]] - ts[idx[-2]]) if idx.shape[0] >= 2 else A.EIGHT_HOURS_MS
    return A.funding_condition(float(rate[-1]), interval or A.EIGHT_HOURS_MS, limit_bps_8h)


def funding_condition_from_file(path: Path, limit_bps_8h: float) -> A.Condition | None:
    from btcn.data.funding import load_funding

    f = load_funding(path)
    if len(f) == 0:
        return None
    interval = int(f.time_ms[-1] - f.time_ms[-2]) if len(f) >= 2 else A.EIGHT_HOURS_MS
    return A.funding_condition(float(f.rate[-1]), interval, limit_bps_8h)


def margin_condition_from_run(rf: RunFolder, limit: float) -> A.Condition:
    eq = rf.equity
    return A.margin_condition(
        float(eq["margin_used_usdt"].iloc[-1]), float(eq["nav_usdt"].iloc[-1]), limit
    )


def liquidation_condition_from_run(rf: RunFolder, limit: float) -> A.Condition | None:
    """The latest row's liquidation distance against ``[alerts] liquidation_distance_below``.

    None (not evaluated: the alert keeps its state) when the latest row has no distance while a
    perp position is open: a version 1 run folder or a row whose estimate is unknown is not the
    same as "cleared". A flat latest row is clear."""
    eq = rf.equity
    last = eq.iloc[-1]
    distance = float(last["liq_distance"])
    if not math.isfinite(distance):
        open_perp = float(last["long_qty_btc"]) + float(last["short_qty_btc"]) > 0
        if open_perp:
            return None
    return A.liquidation_condition(
        distance, limit, liq_price_usdt=float(last["liq_price_usdt"]),
        mark_usdt=float(last["price_perp"]),
        venue_liq_price_usdt=float(last["venue_liq_price_usdt"]),
    )  # fmt: skip


def plan_condition(text: str, source: str) -> A.Condition:
    plan = parse_artifact(text, Plan, source)
    tripped = [g.name for g in plan.guardrails if not g.ok]
    return A.circuit_breaker_condition(plan.safe_mode, tripped)


def execution_condition(text: str, source: str) -> A.Condition:
    report = parse_artifact(text, ExecutionReport, source)
    return A.execution_condition(report.status, report.note)


def audit_condition(text: str, source: str) -> A.Condition:
    from btcn.audit.model import AuditResult

    result = parse_artifact(text, AuditResult, source)
    drifts = [
        f"{k.name} {k.status} ({(k.deviation or 0) * 100:+.1f} % worse)"
        for k in result.kpis
        if k.status in ("drift", "breach")
    ]
    return A.audit_condition(drifts)


@dataclass
class AlertOutcome:
    key: str
    active: bool
    sent: str | None  # "firing", "reminder", "resolved" or None
    detail: str
    text: str | None = None


@dataclass
class AlertRun:
    outcomes: list[AlertOutcome] = field(default_factory=list)

    @property
    def sent(self) -> list[AlertOutcome]:
        return [o for o in self.outcomes if o.sent]


class Sender:
    """Anything with ``send(text) -> int`` (the Telegram notifier, or a recorder)."""

    def send(self, text: str) -> int:  # pragma: no cover - protocol
        raise NotImplementedError


def evaluate_alerts(
    conditions: Sequence[A.Condition],
    *,
    store: StateStore,
    sender: Sender | None,
    now_ms: int,
    cooldown_ms: int,
    send_recovery: bool,
) -> AlertRun:
    """Run the state machine for each condition; send, then persist (state is saved only after a
    message was delivered, so an outage means a retry on the next run)."""
    out = AlertRun()
    for cond in conditions:
        state = load_alert_state(store, cond.key)
        new, notice = A.step(
            state, cond, now_ms=now_ms, cooldown_ms=cooldown_ms, send_recovery=send_recovery
        )
        text = notice.text(now_ms) if notice else None
        if text is not None and sender is not None:
            sender.send(text)
        if new != state:
            save_alert_state(store, new, now_ms)
        out.outcomes.append(
            AlertOutcome(cond.key, cond.active, notice.kind if notice else None, cond.detail, text)
        )
    return out


def alert_run_json(run: AlertRun, now_ms: int, delivered: bool) -> dict[str, object]:
    return {
        "kind": "alerts",
        "schema_version": 1,
        "as_of_ms": now_ms,
        "delivered_to_telegram": delivered,
        "alerts": [
            {"key": o.key, "active": o.active, "sent": o.sent, "detail": o.detail, "text": o.text}
            for o in run.outcomes
        ],
    }
