"""``btcn plan``: snapshot + candles (+ signals, config, state) -> one ``plan``."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from btcn.contracts import (
    BlockedOrder,
    CooldownInfo,
    DroppedOrder,
    GuardrailResult,
    LiquidationInfo,
    Plan,
    PlannedOrder,
    PlannedTransfer,
    SignalInfo,
    Snapshot,
    ThresholdInfo,
    dump_json,
)
from btcn.core.durations import format_duration_ms
from btcn.core.planner import Decision, decide
from btcn.core.signals import signal_in_force
from btcn.core.threshold import AtrReading, atr_series
from btcn.data.candles import Candles
from btcn.data.signals import EMPTY_SIGNALS, Signals
from btcn.errors import InvalidInputError
from btcn.runtime.settings import Settings
from btcn.runtime.state import StateStore
from btcn.stages.common import (
    book_from_snapshot,
    decision_settings_json,
    planner_params,
    quotes_from_snapshot,
)
from btcn.stages.liquidation import liquidation_infos
from btcn.stages.weights import leg_weight


@dataclass(frozen=True)
class PlanRequest:
    snapshot: Snapshot
    candles: Candles
    settings: Settings
    signals: Signals = EMPTY_SIGNALS
    last_rebalance_ms: int | None = None


def atr_at_last_bar(candles: Candles, atr_window_ms: int, periods: int) -> AtrReading:
    """ATR_24h at the newest bar of a contiguous candle series."""
    if atr_window_ms % candles.bar_ms:
        raise InvalidInputError(
            f"strategy.atr_window {format_duration_ms(atr_window_ms)} is not a multiple of the "
            f"{format_duration_ms(candles.bar_ms)} candle interval"
        )
    bars = atr_window_ms // candles.bar_ms
    atr, used = atr_series(candles.high, candles.low, candles.close, bars, periods)
    return AtrReading(float(atr[-1]), int(used[-1]))


def candles_until(candles: Candles, as_of_ms: int) -> Candles:
    """Only bars that closed at or before ``as_of_ms`` (no look-ahead)."""
    closes = candles.open_ms + candles.bar_ms
    stop = int(np.searchsorted(closes, as_of_ms, side="right"))
    if stop == 0:
        raise InvalidInputError(
            "candles: no candle closed at or before the snapshot time",
            hint="the candles must cover the time of the snapshot",
        )
    return candles if stop == len(candles) else candles.slice(0, stop)


def inputs_digest(req: PlanRequest) -> str:
    h = hashlib.sha256()
    for part in (
        dump_json(req.snapshot),
        req.candles.digest,
        req.signals.digest,
        decision_settings_json(req.settings),
        str(req.last_rebalance_ms),
    ):
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()


def to_plan(
    decision: Decision,
    snap: Snapshot,
    digest: str,
    apply_signal_logic: bool,
    max_delta_drift: float | None = None,
    liquidation: list[LiquidationInfo] | None = None,
) -> Plan:
    th = decision.threshold
    sig = decision.signal
    return Plan(
        as_of_ms=snap.as_of_ms,
        venue=snap.venue,
        inputs_digest=digest,
        status=decision.status,
        safe_mode=decision.safe_mode,
        nav_usdt=decision.nav_usdt,
        p_ref_usdt=snap.p_ref_usdt,
        net_delta_btc=decision.net_delta_btc,
        net_delta_pct_nav=decision.net_delta_pct_nav,
        threshold=ThresholdInfo(**asdict(th)),
        cooldown=CooldownInfo(**asdict(decision.cooldown)),
        signal=SignalInfo(
            value=sig.value,
            timestamp_ms=sig.timestamp_ms,
            age_ms=sig.age_ms,
            stale=sig.stale,
            apply_signal_logic=apply_signal_logic,
        ),
        guardrails=[GuardrailResult(**asdict(g)) for g in decision.guardrails],
        weights=[leg_weight(s) for s in decision.legs],
        spot_spec=snap.spot_spec,
        perp_spec=snap.perp_spec,
        orders=[PlannedOrder(**asdict(o)) for o in decision.orders],
        blocked=[BlockedOrder(**asdict(b)) for b in decision.blocked],
        dropped=[DroppedOrder(**asdict(d)) for d in decision.dropped],
        rebalance=decision.rebalance,
        trigger=decision.trigger,
        max_delta_drift=max_delta_drift if decision.rebalance == "book" else None,
        net_delta_after_btc=decision.net_delta_after_btc,
        net_delta_after_pct_nav=decision.net_delta_after_pct_nav,
        transfers=[
            PlannedTransfer(
                from_=t.from_wallet,
                to=t.to_wallet,
                amount_usdt=t.amount_usdt,
                reason=t.reason,
                when=t.when,
                detail=t.detail,
            )
            for t in decision.transfers
        ],
        liquidation=liquidation or [],
    )


def run(req: PlanRequest) -> Plan:
    snap = req.snapshot
    settings = req.settings
    params = planner_params(settings, settings.execution.slippage, snap.perp_spec.maintenance_rate,
                            snap)  # fmt: skip
    candles = candles_until(req.candles, snap.as_of_ms)
    atr = atr_at_last_bar(candles, params.atr_window_ms, params.atr_periods)
    signal = signal_in_force(
        req.signals.timestamps_ms, req.signals.values, snap.as_of_ms, params.signal_max_age_ms
    )
    decision = decide(
        book_from_snapshot(snap),
        quotes_from_snapshot(snap),
        snap.spot_spec,
        snap.perp_spec,
        params,
        now_ms=snap.as_of_ms,
        atr=atr,
        signal=signal,
        last_rebalance_ms=req.last_rebalance_ms,
        data_as_of_ms=candles.last_close_ms,
    )
    return to_plan(
        decision,
        snap,
        inputs_digest(req),
        params.apply_signal_logic,
        params.max_delta_drift,
        liquidation_infos(snap, settings),
    )


def read_last_rebalance(state_path: str | Path | None, venue: str) -> int | None:
    """Last executed rebalance for the venue, read-only: ``plan`` never writes anything."""
    if state_path is None or not Path(state_path).exists():
        return None
    with StateStore(state_path, read_only=True) as store:
        return store.last_rebalance_ms(venue)
