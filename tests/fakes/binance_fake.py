"""A fake Binance public API: spot and USDⓈ-M klines and funding history, with real pagination.

Series are synthetic but deterministic functions of the open time, so a test can recompute any
bar. ``gaps`` removes bars (exchange outages), ``now`` bounds the data (the bar containing ``now``
is still forming and is served, like Binance does), faults inject 5xx/429 per page, and
``page_delay_s`` slows every page so a test can kill a fetch in the middle.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

INTERVAL_MS = {
    "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
    "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000,
    "12h": 43_200_000, "1d": 86_400_000,
}  # fmt: skip
FUNDING_MS = 8 * 3_600_000


@dataclass
class BinanceFault:
    path: str
    status: int = 500
    times: int = 1
    retry_after_s: int = 1
    fired: int = 0


def price_at(t_ms: int, venue: str) -> float:
    base = 95_000 + 4_000 * math.sin(t_ms / 86_400_000 / 9 * 2 * math.pi)
    wiggle = 300 * math.sin(t_ms / 5_400_000) + 37 * math.sin(t_ms / 777_000)
    return round(base + wiggle + (12.5 if venue == "futures" else 0.0), 2)


def kline(open_ms: int, interval_ms: int, venue: str) -> list[Any]:
    o, c = price_at(open_ms, venue), price_at(open_ms + interval_ms, venue)
    h, low = max(o, c) + 11.25, min(o, c) - 9.75
    vol = 50 + (open_ms // interval_ms) % 17
    return [open_ms, f"{o:.2f}", f"{h:.2f}", f"{low:.2f}", f"{c:.2f}", f"{vol:.5f}",
            open_ms + interval_ms - 1, f"{vol * c:.2f}", 1000, "10.0", "950000.0", "0"]  # fmt: skip


def funding_rate_at(t_ms: int) -> str:
    return f"{0.0001 * (1 + math.sin(t_ms / 86_400_000)):.8f}"


@dataclass
class FakeBinance:
    now: Callable[[], float] = time.time  # seconds
    listed_from_ms: int = 1_704_067_200_000  # 2024-01-01: nothing earlier
    gaps: list[tuple[int, int]] = field(default_factory=list)  # [start, end) open times missing
    page_delay_s: float = 0.0
    faults: list[BinanceFault] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # hold(n): the n-th request from now is held unanswered until release() (a test kills the
    # client at that exact point); ``held`` is set when it arrives
    hold_at: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    _release: threading.Event = field(default_factory=threading.Event)

    def hold(self, n: int) -> None:
        with self.lock:
            self.hold_at = len(self.requests) + n
            self.held.clear()
            self._release.clear()

    def release(self) -> None:
        with self.lock:
            self.hold_at = None
        self._release.set()

    def add_fault(self, **kwargs: Any) -> BinanceFault:
        fault = BinanceFault(**kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def _missing(self, t: int) -> bool:
        return any(a <= t < b for a, b in self.gaps)

    def handle(self, method: str, path: str, raw_query: str) -> tuple[int, Any, dict[str, str]]:
        params = dict(parse_qsl(raw_query))
        with self.lock:
            self.requests.append((path, params))
            fault = next((f for f in self.faults if f.path == path and f.fired < f.times), None)
            if fault is not None:
                fault.fired += 1
            hold = self.hold_at is not None and len(self.requests) == self.hold_at
        if hold:
            self.held.set()
            self._release.wait(timeout=120)
        if self.page_delay_s:
            time.sleep(self.page_delay_s)
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after_s)} if fault.status == 429 else {}
            return fault.status, {"code": -1003 if fault.status == 429 else -1000,
                                  "msg": "injected fault"}, headers  # fmt: skip
        if method != "GET":
            return 405, {"code": -1000, "msg": "method"}, {}
        if path in ("/api/v3/klines", "/fapi/v1/klines", "/fapi/v1/markPriceKlines"):
            venue = "spot" if path.startswith("/api/v3") else "futures"
            return 200, self._klines(params, venue, 1000 if venue == "spot" else 1500), {}
        if path == "/fapi/v1/fundingRate":
            return 200, self._funding(params), {}
        return 404, {"code": -1121, "msg": "not found"}, {}

    def _window(self, params: dict[str, str], step: int, max_limit: int) -> tuple[int, int, int]:
        limit = min(int(params.get("limit", 500)), max_limit)
        now_ms = int(self.now() * 1000)
        end = int(params["endTime"]) if "endTime" in params else now_ms
        end = min(end, now_ms)
        start = int(params["startTime"]) if "startTime" in params else end - (limit - 1) * step
        start = max(start, self.listed_from_ms)
        return start, end, limit

    def _klines(self, params: dict[str, str], venue: str, max_limit: int) -> list[list[Any]]:
        if params.get("symbol") != "BTCUSDT":
            return []
        step = INTERVAL_MS[params["interval"]]
        start, end, limit = self._window(params, step, max_limit)
        first = -(-start // step) * step
        rows = []
        t = first
        while t <= end and len(rows) < limit:
            if not self._missing(t):
                rows.append(kline(t, step, venue))
            t += step
        return rows

    def _funding(self, params: dict[str, str]) -> list[dict[str, Any]]:
        start, end, limit = self._window(params, FUNDING_MS, 1000)
        first = -(-start // FUNDING_MS) * FUNDING_MS
        rows = []
        t = first
        while t <= end and len(rows) < limit:
            if not self._missing(t):
                # Binance funding times carry a few ms of jitter.
                rows.append({"symbol": "BTCUSDT", "fundingTime": t + (t // FUNDING_MS) % 7,
                             "fundingRate": funding_rate_at(t),
                             "markPrice": f"{price_at(t, 'futures'):.8f}"})  # fmt: skip
            t += FUNDING_MS
        return rows
