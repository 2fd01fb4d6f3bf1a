"""The monitoring clients (InfluxDB writes, Telegram messages) on btcn's one retry policy
(:class:`btcn.exchange.retry.RetryPolicy`, tenacity).

Retried: transport failures (connection refused, timeout, reset), HTTP 5xx and 429. Not retried:
any other 4xx (bad request, auth, missing database): repeating it cannot help. A 429 or 503 with a
``Retry-After`` is retried after that many seconds (capped), otherwise the back-off doubles from
``base_delay_s`` (no jitter). Both services accept an identical write twice without harm (InfluxDB
overwrites the same series and timestamp; a duplicated alert is the lesser evil next to a lost one).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from btcn.exchange.retry import RetryPolicy
from btcn.monitoring.errors import ServiceError

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


def service_policy(retries: int = 3, base_delay_s: float = 0.25) -> RetryPolicy:
    """``retries`` after the first call, doubling from ``base_delay_s``, at most 10 s a wait."""
    return RetryPolicy(max_attempts=retries + 1, base_delay_s=base_delay_s, max_delay_s=10.0,
                       max_rate_limit_wait_s=10.0, jitter=False)  # fmt: skip


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
    sleep: Callable[[float], None] | None = None,
) -> httpx.Response:
    """Call ``send`` until ``check`` accepts the response or the retries are spent.

    ``check`` raises ``error(..., retryable=True/False)`` for a response it does not accept.
    """
    answered: list[httpx.Response] = []  # the last response, for its Retry-After

    def attempt() -> httpx.Response:
        answered.clear()
        try:
            response = send()
        except httpx.TransportError as exc:
            # The exception text can contain the URL; only its type is reported.
            raise error(
                f"{service}: network error ({type(exc).__name__})", retryable=True
            ) from None
        answered.append(response)
        check(response)
        return response

    def wait_for(_: BaseException) -> float | None:
        return retry_after_s(answered[0]) if answered else None

    return policy.run(
        attempt,
        retry_on=lambda exc: isinstance(exc, ServiceError) and exc.retryable,
        what=service,
        wait_for=wait_for,
        sleep=sleep,
    )
