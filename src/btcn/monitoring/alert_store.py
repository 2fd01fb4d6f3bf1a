"""Alert state in the state store (table ``alerts``), so de-duplication holds across cron runs."""

from __future__ import annotations

from btcn.monitoring.alerts import AlertState
from btcn.runtime.state import StateStore


def load_alert_state(store: StateStore, key: str) -> AlertState:
    with store.transaction() as db:
        row = db.execute(
            "SELECT active, since_ms, last_sent_ms, detail FROM alerts WHERE key = ?", (key,)
        ).fetchone()
    if row is None:
        return AlertState(key)
    return AlertState(key, bool(row[0]), row[1], row[2], row[3])


def save_alert_state(store: StateStore, state: AlertState, now_ms: int) -> None:
    with store.transaction() as db:
        db.execute(
            "INSERT OR REPLACE INTO alerts VALUES (?, ?, ?, ?, ?, ?)",
            (state.key, int(state.active), state.since_ms, state.last_sent_ms, state.detail,
             now_ms),
        )  # fmt: skip
