"""The one retry policy of btcn (tenacity): the gateway's calls and the monitoring clients'
(InfluxDB writes, Telegram messages, :mod:`btcn.monitoring.retry`) go through :class:`RetryPolicy`.

* Idempotent calls (reads, cancels, look-ups) retry on transport errors, 429 and 5xx with
  exponential backoff and jitter, and once on ``REQUEST_EXPIRED`` after re-syncing the clock.
* Order placement is never blindly retried: only errors that prove the venue did not act are
  retried (429, ``REQUEST_EXPIRED``, a connection that was never established). A timeout, a reset
  connection or a 5xx on a create propagates, and the executor looks the order up by its client
  order id before anything else (:mod:`btcn.exchange.live`).
* A ``REQUEST_EXPIRED`` on an order request whose ``x-gate-exptime`` deadline has passed (by the
  re-synced venue clock) is a deadline refusal, not clock skew: it is not retried.
* A 429 waits until the venue's reset time (``X-Gate-RateLimit-Reset-Timestamp``, Binance
  ``Retry-After``), capped; without one, the backoff applies.

Sleeping goes through the injected :class:`~btcn.exchange.clock.Clock`, so tests run instantly and
can assert every wait.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from btcn.errors import BtcnError
from btcn.exchange.clock import Clock, SystemClock
from btcn.exchange.errors import (
    ClockSkewError,
    DeadlineExpiredError,
    RateLimitedError,
    ServerError,
    TransportError,
)

log = logging.getLogger("btcn.exchange")
T = TypeVar("T")


def retryable(exc: BaseException, *, idempotent: bool) -> bool:
    """Whether ``exc`` may be retried for a call of this kind (see the module docstring)."""
    if isinstance(exc, (RateLimitedError, ClockSkewError)):
        return True
    if isinstance(exc, TransportError):
        return idempotent or not exc.maybe_processed
    if isinstance(exc, ServerError):
        return idempotent
    return False


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    max_rate_limit_wait_s: float = 60.0
    clock: Clock = field(default_factory=SystemClock)
    rng: random.Random = field(default_factory=random.Random)
    jitter: bool = True

    def backoff_s(self, attempt: int) -> float:
        """Exponential backoff (``base * 2^(attempt-1)``, capped) with jitter in [50 %, 100 %] of
        the step (none when ``jitter`` is off)."""
        step = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return step * (0.5 + 0.5 * self.rng.random()) if self.jitter else step

    def run(
        self,
        fn: Callable[[], T],
        *,
        retry_on: Callable[[BaseException], bool],
        what: str,
        wait_for: Callable[[BaseException], float | None] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> T:
        """Call ``fn`` until it returns, ``retry_on`` refuses its exception or ``max_attempts``
        calls are spent (the last exception is raised). ``wait_for`` may name the wait the service
        asked for (a rate-limit reset, ``Retry-After``; capped at ``max_rate_limit_wait_s``);
        otherwise the backoff applies."""

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            asked = wait_for(exc) if wait_for is not None and exc is not None else None
            if asked is not None:
                return min(self.max_rate_limit_wait_s, max(asked, 0.0))
            return self.backoff_s(state.attempt_number)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "%s; retry %d/%d in %.2fs",
                getattr(exc, "message", f"{what}: {type(exc).__name__}"), state.attempt_number,
                self.max_attempts - 1, delay,
            )  # fmt: skip

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=retry_if_exception(retry_on),
            sleep=sleep or self.clock.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)

    def wait_s(self, exc: BaseException | None, attempt: int, venue_now_s: float) -> float:
        asked = venue_wait_s(exc, venue_now_s)
        if asked is not None:
            return min(self.max_rate_limit_wait_s, asked)
        return self.backoff_s(attempt)

    def call(
        self,
        fn: Callable[[], T],
        *,
        idempotent: bool,
        what: str,
        venue_now_s: Callable[[], float] | None = None,
        on_clock_skew: Callable[[], None] | None = None,
    ) -> T:
        skew_retries = 0

        def should_retry(exc: BaseException) -> bool:
            nonlocal skew_retries
            if isinstance(exc, ClockSkewError):
                if on_clock_skew is None or skew_retries >= 1:
                    return False
                skew_retries += 1
                try:
                    on_clock_skew()
                except DeadlineExpiredError:
                    return False  # the request's deadline passed: a retry cannot be accepted
                except BtcnError as sync_error:
                    log.warning("%s: cannot re-sync the clock: %s", what, sync_error.message)
                    return False
                return True
            return retryable(exc, idempotent=idempotent)

        now_s = venue_now_s or (lambda: self.clock.now_ms() / 1000)

        return self.run(
            fn, retry_on=should_retry, what=what, wait_for=lambda e: venue_wait_s(e, now_s())
        )


def venue_wait_s(exc: BaseException | None, venue_now_s: float) -> float | None:
    """The wait the venue asked for: none after a clock re-sync, a 429's reset time or
    ``Retry-After``; None when it named none (the backoff applies)."""
    if isinstance(exc, ClockSkewError):
        return 0.0
    if isinstance(exc, RateLimitedError):
        if exc.reset_at_s is not None and exc.reset_at_s > venue_now_s:
            return exc.reset_at_s - venue_now_s
        if exc.retry_after_s is not None and exc.retry_after_s > 0:
            return exc.retry_after_s
    return None
