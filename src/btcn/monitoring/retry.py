"""The retry policy of the monitoring clients (InfluxDB writes, Telegram messages).

Retried: transport failures (connection refused, timeout, reset), HTTP 5xx and 429. Not retried:
any other 4xx (bad request, auth, missing database): repeating it cannot help. A 429 or 503 with a
``Retry-After`` is retried after that many seconds (capped), otherwise the back-off doubles from
``base_delay_s``. Both services accept an identical write twice without harm (InfluxDB overwrites
the same series and timestamp; a duplicated alert is the lesser evil next to a lost one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from btcn.monitoring.errors import ServiceError

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 3
    base_delay_s: float = 0.25
    max_delay_s: float = 10.0


def retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def send_with_retry(
    send: Callable[[], httpx.Response],
    check: Callable[[httpx.Response], None],
    *,
    policy: RetryPolicy,
    service: str,
    error: type[ServiceError],
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """Call ``send`` until ``check`` accepts the response or the retries are spent.

    ``check`` raises ``error(..., retryable=True/False)`` for a response it does not accept.
    """
    attempt = 0
    while True:
        delay = min(policy.max_delay_s, policy.base_delay_s * 2**attempt)
        try:
            response = send()
            check(response)
            return response
        except httpx.TransportError as exc:
            # The exception text can contain the URL; only its type is reported.
            last: ServiceError = error(
                f"{service}: network error ({type(exc).__name__})", retryable=True
            )
        except ServiceError as exc:
            if not exc.retryable:
                raise
            last = exc
            ra = retry_after_s(response)
            if ra is not None:
                delay = min(policy.max_delay_s, ra)
        if attempt >= policy.retries:
            raise last
        attempt += 1
        log.info("%s: %s; retry %d of %d in %.2f s", service, last.message, attempt,
                 policy.retries, delay)  # fmt: skip
        sleep(delay)
