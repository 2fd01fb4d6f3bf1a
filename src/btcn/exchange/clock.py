"""Time for the gateway: an injectable clock so tests never sleep for real.

Production uses :class:`SystemClock` (``btcn.runtime.clock`` is the only wall-clock reader);
tests pass a clock whose ``sleep`` advances virtual time and records the waits.
"""

from __future__ import annotations

import time
from typing import Protocol

from btcn.runtime import clock as runtime_clock


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now_ms(self) -> int:
        return runtime_clock.now_ms()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
