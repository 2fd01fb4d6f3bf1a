"""The HTTP layer shared by the venue clients: one ``httpx.Client`` per venue, exact bytes on
the wire, and every failure turned into a typed error from :mod:`btcn.exchange.errors`.

The query string and the JSON body are serialised here (not by httpx), so the bytes that are
signed are the bytes that are sent, whatever the httpx version.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from pydantic import TypeAdapter, ValidationError

from btcn.contracts import format_validation_error
from btcn.errors import ExchangeError
from btcn.exchange.errors import (
    AMBIGUOUS_HINT,
    AuthError,
    ClockSkewError,
    HttpStatusError,
    RateLimitedError,
    RejectedError,
    ServerError,
    TransportError,
)
from btcn.exchange.retry import RetryPolicy

log = logging.getLogger("btcn.exchange")

Params = Sequence[tuple[str, str | int]]
Dialect = Literal["gate", "binance"]


def encode_body(body: Any) -> bytes:
    """Compact JSON, the exact bytes sent and hashed."""
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any
    headers: httpx.Headers


def _first(*values: Any) -> str:
    for v in values:
        if isinstance(v, str) and v:
            return v
    return ""


class VenueHttp:
    """Requests to one venue. ``dialect`` selects how error bodies and rate limits are read."""

    def __init__(
        self,
        venue: str,
        base_url: str,
        *,
        dialect: Dialect,
        timeout_s: float,
        retry: RetryPolicy,
        transport: httpx.BaseTransport | None = None,
        venue_now_s: Callable[[], float] | None = None,
    ) -> None:
        self.venue = venue
        self.dialect = dialect
        self.retry = retry
        self.venue_now_s = venue_now_s or (lambda: retry.clock.now_ms() / 1000)
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "btcn"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    # --- one attempt -------------------------------------------------------------------------
    def _once(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: Any,
        auth: httpx.Auth | None,
        headers: dict[str, str] | None,
    ) -> Answer:
        url = path + ("?" + urlencode(list(params)) if params else "")
        content = encode_body(body) if body is not None else b""
        hdrs = dict(headers or {})
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        where = f"{self.venue}: {method} {path}"
        try:
            request = self.client.build_request(method, url, content=content, headers=hdrs)
            response = self.client.send(request, auth=auth) if auth else self.client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransportError(
                f"{where}: cannot connect ({type(exc).__name__}: {exc})", maybe_processed=False
            ) from exc
        except httpx.TimeoutException as exc:
            raise TransportError(
                f"{where}: no answer in time ({type(exc).__name__})",
                maybe_processed=True, hint=AMBIGUOUS_HINT,
            ) from None  # fmt: skip
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise TransportError(
                f"{where}: connection lost before the answer ({type(exc).__name__})",
                maybe_processed=True, hint=AMBIGUOUS_HINT,
            ) from None  # fmt: skip
        except httpx.HTTPError as exc:
            # LocalProtocolError & co. can quote header values: never chain or print them.
            raise ExchangeError(f"{where}: request failed ({type(exc).__name__})") from None
        return self._answer(response, where)

    def _answer(self, response: httpx.Response, where: str) -> Answer:
        status = response.status_code
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
            if 200 <= status < 300:
                raise ExchangeError(
                    f"{where}: HTTP {status} with a body that is not JSON"
                ) from None
        if 200 <= status < 300:
            return Answer(status, data, response.headers)
        body = data if isinstance(data, dict) else {}
        if self.dialect == "gate":
            label = _first(body.get("label"))
            detail = _first(body.get("message"), body.get("detail"))
        else:
            code = body.get("code")
            label = str(code) if code is not None else ""
            detail = _first(body.get("msg"))
        text = f"{where}: HTTP {status}" + (f" {label}" if label else "")
        text += f": {detail[:200]}" if detail else ""
        if status in (429, 418):
            reset = response.headers.get("X-Gate-RateLimit-Reset-Timestamp")
            after = response.headers.get("Retry-After")
            raise RateLimitedError(
                text, status=status, label=label, detail=detail,
                reset_at_s=_float_or_none(reset), retry_after_s=_float_or_none(after),
            )  # fmt: skip
        if status >= 500:
            raise ServerError(text, status=status, label=label, detail=detail)
        if label == "REQUEST_EXPIRED":
            raise ClockSkewError(
                text, status=status, label=label, detail=detail,
                hint="the local clock is off by more than 60 s; btcn re-syncs once, then gives up",
            )  # fmt: skip
        if status in (401, 403):
            raise AuthError(
                text, status=status, label=label, detail=detail,
                hint="check the API key, its permissions (spot + perpetual read-write) and the IP "
                "whitelist",
            )  # fmt: skip
        raise RejectedError(text, status=status, label=label, detail=detail)

    # --- with the retry policy -----------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
        on_clock_skew: Callable[[], None] | None = None,
        header_fn: Callable[[], dict[str, str]] | None = None,
    ) -> Answer:
        def attempt() -> Answer:
            extra = dict(headers or {})
            if header_fn is not None:
                extra.update(header_fn())
            return self._once(method, path, params, body, auth, extra)

        return self.retry.call(
            attempt,
            idempotent=idempotent,
            what=f"{self.venue}: {method} {path}",
            venue_now_s=self.venue_now_s,
            on_clock_skew=on_clock_skew,
        )


def _float_or_none(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_as(adapter: TypeAdapter[Any], data: Any, where: str) -> Any:
    """Validate a response against its wire model; one readable line when the shape is wrong."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise ExchangeError(
            format_validation_error(exc, prefix=f"{where}: unexpected response: ")
        ) from None


__all__ = ["Answer", "HttpStatusError", "RejectedError", "VenueHttp", "encode_body", "parse_as"]
