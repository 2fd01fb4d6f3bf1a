"""Typed venue errors: what went wrong decides whether a call may be retried.

::

    ExchangeError (btcn.errors, exit code 6)
    ├── TransportError        no HTTP answer: connect failure, timeout, reset. ``maybe_processed``
    │                         says whether the request may have reached the venue.
    ├── RateLimitedError      HTTP 429 (Binance also 418); ``reset_at_s`` from the reset header
    ├── ServerError           HTTP 5xx: the outcome of a write is unknown
    ├── RejectedError         HTTP 4xx with the venue's ``label``: the venue refused, nothing happened
    │   └── AuthError         401/403: key, signature or permission problem
    │       └── ClockSkewError  REQUEST_EXPIRED: our Timestamp is > 60 s off the venue clock
    │           └── DeadlineExpiredError  REQUEST_EXPIRED on an order request whose
    │                                     x-gate-exptime had passed: not placed, never retried
    ├── PreTradeCheckFailed   a leg would be rejected: nothing was sent
    ├── ReconcileError        the account does not match the plan or the journal: nothing was sent
    ├── UncertainOrderError   an order's state cannot be established: stop before sending more
    └── UncertainTransferError  a wallet transfer's outcome cannot be established: stop

Reads retry on TransportError, RateLimitedError and ServerError; writes only on errors that prove
the venue did not act (RateLimitedError, ClockSkewError). Messages are built from the HTTP method,
path, status and the venue's ``label``/``message`` — never from headers, so never from a key.
"""

from __future__ import annotations

from typing import Literal

from btcn.errors import ExchangeError

AMBIGUOUS_HINT = "the order may or may not have reached the venue; btcn looks it up by client id"


class TransportError(ExchangeError):
    """No HTTP response. ``maybe_processed`` is False only when the request never left."""

    def __init__(self, message: str, *, maybe_processed: bool, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.maybe_processed = maybe_processed


class HttpStatusError(ExchangeError):
    """A non-2xx answer with the venue's error body."""

    def __init__(
        self, message: str, *, status: int, label: str = "", detail: str = "",
        hint: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message, hint=hint)
        self.status = status
        self.label = label
        self.detail = detail


class RateLimitedError(HttpStatusError):
    """429 (or Binance 418). ``reset_at_s``: epoch seconds when the window reopens, if known."""

    def __init__(
        self, message: str, *, status: int, label: str = "", detail: str = "",
        reset_at_s: float | None = None, retry_after_s: float | None = None,
    ) -> None:  # fmt: skip
        super().__init__(
            message, status=status, label=label, detail=detail,
            hint="slow down; btcn waits for the venue's reset time before retrying",
        )  # fmt: skip
        self.reset_at_s = reset_at_s
        self.retry_after_s = retry_after_s


class ServerError(HttpStatusError):
    """5xx: the venue failed; for a write the outcome is unknown."""


class RejectedError(HttpStatusError):
    """4xx: the venue refused the request and did not act on it."""


class AuthError(RejectedError):
    """401/403: bad key, signature, permission or IP whitelist."""


class ClockSkewError(AuthError):
    """``REQUEST_EXPIRED``: re-sync the clock with the venue and sign again."""


class DeadlineExpiredError(ClockSkewError):
    """``REQUEST_EXPIRED`` on a request whose ``x-gate-exptime`` deadline had passed by the venue's
    clock (re-synced): Gate refused it for its deadline, so it was not placed. Retrying it under
    the same header cannot succeed, so it is not retried as clock skew."""


class PreTradeCheckFailed(ExchangeError):
    """A leg of the plan would be rejected by the venue; no order of the plan was sent."""


class ReconcileError(ExchangeError):
    """The account does not match the plan (or the journal); no order was sent."""


class UncertainOrderError(ExchangeError):
    """An order's state could not be established; btcn stops before sending anything else."""


class UncertainTransferError(ExchangeError):
    """A wallet transfer's outcome could not be established from the ledger and the balances."""


NOT_FOUND_LABELS = frozenset({"ORDER_NOT_FOUND"})
ORDER_DONE_LABELS = frozenset(
    {"ORDER_NOT_FOUND", "ORDER_CLOSED", "ORDER_CANCELLED", "ORDER_FINISHED"}
)
POST_ONLY_REJECT_LABELS = frozenset({"POC_FILL_IMMEDIATELY", "ORDER_POC_IMMEDIATE"})


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, RejectedError) and exc.label in NOT_FOUND_LABELS


# What a failed write (an order create, a wallet transfer) means. The one classifier: the order
# executor, the transfer executor and the tests read it; the caller decides what to do with it.
#   ambiguous    the venue may have acted: look it up (order by client id; transfer by ledger)
#   rejected     the venue refused it (4xx with a label): nothing happened
#   absent       provably not done, for a reason that does not stop the run (a refused Timestamp or
#                x-gate-exptime: the venue did not act)
#   absent_stop  provably not done, and sending more cannot help: the run stops (no connection,
#                429 after the retries, a key or permission problem)
WriteOutcome = Literal["ambiguous", "rejected", "absent", "absent_stop"]


def write_outcome(exc: BaseException) -> WriteOutcome:
    """Did a write that raised ``exc`` happen? (see :data:`WriteOutcome`)."""
    if isinstance(exc, TransportError):
        return "ambiguous" if exc.maybe_processed else "absent_stop"
    if isinstance(exc, ServerError):
        return "ambiguous"
    if isinstance(exc, ClockSkewError):
        return "absent"
    if isinstance(exc, (RateLimitedError, AuthError)):
        return "absent_stop"
    if isinstance(exc, RejectedError):
        return "rejected"
    return "ambiguous"  # e.g. a 2xx whose body cannot be read: the write may well have happened
