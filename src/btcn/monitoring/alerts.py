"""Alert conditions and the de-duplication state machine (pure: no I/O, no clock).

Each cron run evaluates the conditions it has inputs for. Per alert key the state machine decides:

=================  ==================  ==========================================================
previous state     condition now       effect
=================  ==================  ==========================================================
inactive           active              FIRING message; becomes active, ``last_sent = now``
active             active              nothing while ``now - last_sent < cooldown``; after the
                                       cooldown a STILL FIRING reminder, ``last_sent = now``
active             clear               RESOLVED message (if ``send_recovery``); becomes inactive
inactive           clear               nothing
any                not evaluated       nothing: no input is not the same as "cleared"
=================  ==================  ==========================================================

The caller persists the new state only after the message was delivered, so a Telegram outage
means the alert is tried again on the next run instead of being lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

EIGHT_HOURS_MS = 8 * 3_600_000

Kind = Literal["firing", "reminder", "resolved"]

KEYS = ("circuit_breaker", "funding", "margin", "liquidation_distance", "audit_drift", "execution")
TITLES = {
    "circuit_breaker": "Circuit breaker tripped",
    "funding": "Funding rate above limit",
    "margin": "Used margin above limit",
    "liquidation_distance": "Liquidation distance below limit",
    "audit_drift": "Audit drift",
    "execution": "Execution partial or failed",
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One evaluated condition: ``active`` plus a one-line ``detail`` with the figures."""

    key: str
    active: bool
    detail: str


@dataclass(frozen=True, slots=True)
class AlertState:
    key: str
    active: bool = False
    since_ms: int | None = None
    last_sent_ms: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    key: str
    kind: Kind
    detail: str
    since_ms: int | None

    def text(self, now_ms: int) -> str:
        from btcn.monitoring.telegram import esc

        title = TITLES.get(self.key, self.key)
        head = {"firing": "🔴 FIRING", "reminder": "🟠 STILL FIRING", "resolved": "✅ RESOLVED"}
        lines = [f"<b>{head[self.kind]}: {esc(title)}</b>", esc(self.detail)]
        if self.since_ms is not None and self.kind != "firing":
            minutes = max(0, now_ms - self.since_ms) // 60_000
            lines.append(f"active for {minutes // 60} h {minutes % 60} min")
        return "\n".join(lines)


def step(
    state: AlertState, cond: Condition, *, now_ms: int, cooldown_ms: int, send_recovery: bool
) -> tuple[AlertState, Notice | None]:
    """The next state of one alert and the message to send, if any."""
    if cond.active:
        if not state.active:
            new = AlertState(cond.key, True, now_ms, now_ms, cond.detail)
            return new, Notice(cond.key, "firing", cond.detail, now_ms)
        last = state.last_sent_ms if state.last_sent_ms is not None else -(2**62)
        if now_ms - last >= cooldown_ms:
            new = replace(state, last_sent_ms=now_ms, detail=cond.detail)
            return new, Notice(cond.key, "reminder", cond.detail, state.since_ms)
        return replace(state, detail=cond.detail), None
    if state.active:
        new = AlertState(cond.key, False, None, state.last_sent_ms, cond.detail)
        notice = Notice(cond.key, "resolved", cond.detail, state.since_ms)
        return new, notice if send_recovery else None
    return state, None


# --- conditions --------------------------------------------------------------------------
def funding_condition(rate: float, interval_ms: int, limit_bps_8h: float) -> Condition:
    """|funding| normalised to 8 h against the limit (in bps). Either sign is a risk to watch:
    positive is crowded longs, negative means the short hedge pays."""
    per_8h_bps = rate * (EIGHT_HOURS_MS / interval_ms) * 10_000 if interval_ms > 0 else math.nan
    active = math.isfinite(per_8h_bps) and abs(per_8h_bps) > limit_bps_8h
    return Condition(
        "funding",
        active,
        f"funding {per_8h_bps:+.2f} bps per 8 h (limit ±{limit_bps_8h:g} bps)",
    )


def margin_condition(margin_used_usdt: float, nav_usdt: float, limit_frac: float) -> Condition:
    frac = margin_used_usdt / nav_usdt if nav_usdt > 0 else math.inf
    return Condition(
        "margin",
        frac > limit_frac,
        f"used margin {margin_used_usdt:,.2f} USDT = {frac * 100:.1f} % of NAV "
        f"{nav_usdt:,.2f} USDT (limit {limit_frac * 100:g} %)",
    )


def liquidation_condition(
    distance: float,
    limit_frac: float,
    *,
    liq_price_usdt: float = math.nan,
    mark_usdt: float = math.nan,
    venue_liq_price_usdt: float = math.nan,
) -> Condition:
    """The book's liquidation distance (fraction of the mark the price may move against it)
    below the limit; a negative distance (already past the estimated price) is active too. A flat
    book (``distance`` NaN) is clear."""
    if not math.isfinite(distance):
        return Condition("liquidation_distance", False, "no perp position at risk of liquidation")
    where = ""
    if math.isfinite(liq_price_usdt):
        where = f" to {liq_price_usdt:,.1f} USDT"
        if math.isfinite(mark_usdt):
            where += f" from mark {mark_usdt:,.1f}"
    gate = (
        f"; Gate's price {venue_liq_price_usdt:,.1f}" if math.isfinite(venue_liq_price_usdt) else ""
    )
    return Condition(
        "liquidation_distance",
        distance < limit_frac,
        f"liquidation distance {distance * 100:.1f} %{where}{gate} (limit {limit_frac * 100:g} %)",
    )


def circuit_breaker_condition(safe_mode: bool, tripped: Iterable[str]) -> Condition:
    names = ", ".join(tripped)
    return Condition(
        "circuit_breaker",
        safe_mode,
        f"plan in safe mode: {names or 'guardrail tripped'}"
        if safe_mode
        else "plan not in safe mode",
    )


def execution_condition(status: str, note: str) -> Condition:
    return Condition("execution", status in ("partial", "failed"), f"execution {status}: {note}")


def audit_condition(drifts: list[str]) -> Condition:
    return Condition(
        "audit_drift",
        bool(drifts),
        "drift: " + "; ".join(drifts) if drifts else "all KPIs within tolerance",
    )
