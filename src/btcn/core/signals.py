"""Which external signal is in force at a given time."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from btcn.contracts.enums import Signal


@dataclass(frozen=True, slots=True)
class SignalReading:
    value: Signal  # NONE when no signal is in force (none yet, or stale)
    timestamp_ms: int | None
    age_ms: int | None
    stale: bool


NO_SIGNAL = SignalReading(Signal.NONE, None, None, False)


def signal_in_force(
    timestamps_ms: Sequence[int], values: Sequence[Signal], now_ms: int, max_age_ms: int
) -> SignalReading:
    """The latest signal with ``timestamp <= now``; one older than ``max_age_ms`` counts as none.

    ``timestamps_ms`` must be sorted ascending (the signal reader guarantees it).
    """
    i = bisect_right(timestamps_ms, now_ms) - 1
    if i < 0:
        return NO_SIGNAL
    ts = timestamps_ms[i]
    age = now_ms - ts
    if age > max_age_ms:
        return SignalReading(Signal.NONE, ts, age, True)
    return SignalReading(values[i], ts, age, False)
