"""The only place btcn reads the wall clock (core functions take ``now_ms`` as an argument)."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
