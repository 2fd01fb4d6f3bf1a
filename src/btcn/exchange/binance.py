"""Binance public market data: spot klines (the ``P_ref`` source), USDⓈ-M klines and funding.

No key, no signature. Two hosts (spot ``[binance] base_url``, futures ``futures_base_url``);
reads are retried by the one policy, 429/418 wait for ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import TypeAdapter

from btcn.exchange.clock import Clock, SystemClock
from btcn.exchange.http import VenueHttp, parse_as
from btcn.exchange.retry import RetryPolicy

KLINES = TypeAdapter(list[list[Any]])
FUNDING = TypeAdapter(list[dict[str, Any]])

SPOT_KLINE_LIMIT = 1000
FUTURES_KLINE_LIMIT = 1500
FUNDING_LIMIT = 1000


class BinanceClient:
    def __init__(
        self,
        base_url: str,
        futures_base_url: str,
        *,
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy(clock=self.clock)
        self.spot = VenueHttp(
            "binance", base_url, dialect="binance", timeout_s=timeout_s, retry=self.retry,
            transport=transport,
        )  # fmt: skip
        self.futures = VenueHttp(
            "binance-futures", futures_base_url, dialect="binance", timeout_s=timeout_s,
            retry=self.retry, transport=transport,
        )  # fmt: skip

    def close(self) -> None:
        self.spot.close()
        self.futures.close()

    def __enter__(self) -> BinanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _window(symbol: str, interval: str | None, start_ms: int | None, end_ms: int | None,
                limit: int) -> list[tuple[str, str | int]]:  # fmt: skip
        params: list[tuple[str, str | int]] = [("symbol", symbol)]
        if interval is not None:
            params.append(("interval", interval))
        if start_ms is not None:
            params.append(("startTime", start_ms))
        if end_ms is not None:
            params.append(("endTime", end_ms))
        params.append(("limit", limit))
        return params

    def spot_klines(
        self, symbol: str, interval: str, start_ms: int | None = None, end_ms: int | None = None,
        limit: int = SPOT_KLINE_LIMIT,
    ) -> list[list[Any]]:  # fmt: skip
        params = self._window(symbol, interval, start_ms, end_ms, limit)
        data = self.spot.call("GET", "/api/v3/klines", params=params).data
        return parse_as(KLINES, data, "binance: GET /api/v3/klines")

    def futures_klines(
        self, symbol: str, interval: str, start_ms: int | None = None, end_ms: int | None = None,
        limit: int = FUTURES_KLINE_LIMIT, *, price: str = "last",
    ) -> list[list[Any]]:  # fmt: skip
        """``price``: ``last`` (``/fapi/v1/klines``) or ``mark`` (``/fapi/v1/markPriceKlines``)."""
        path = "/fapi/v1/klines" if price == "last" else "/fapi/v1/markPriceKlines"
        params = self._window(symbol, interval, start_ms, end_ms, limit)
        data = self.futures.call("GET", path, params=params).data
        return parse_as(KLINES, data, f"binance: GET {path}")

    def funding_rates(
        self, symbol: str, start_ms: int | None = None, end_ms: int | None = None,
        limit: int = FUNDING_LIMIT,
    ) -> list[dict[str, Any]]:  # fmt: skip
        params = self._window(symbol, None, start_ms, end_ms, limit)
        data = self.futures.call("GET", "/fapi/v1/fundingRate", params=params).data
        return parse_as(FUNDING, data, "binance: GET /fapi/v1/fundingRate")
