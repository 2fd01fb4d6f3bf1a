"""The one exception tree and the one exit-code table of btcn.

Every error a user can cause derives from :class:`BtcnError` and carries the exit code the CLI
returns for it. The CLI prints ``error: <message>`` (plus ``hint: ...`` when there is one) on
stderr and exits with that code; a traceback is shown only with ``--debug``.

Messages must never contain secrets: exchange errors are built from status codes and the
exchange's ``label``/``message`` fields, never from request headers.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (the README and the manual list them)."""

    OK = 0
    INTERNAL = 1  # a bug in btcn: please report it with the --debug output
    USAGE = 2  # bad command-line usage (unknown option, conflicting flags)
    INVALID_INPUT = 3  # a file or stream that cannot be read or fails validation
    CONFIG = 4  # btcn.toml / BTCN_* settings invalid
    GUARDRAIL = 5  # a guardrail refused (safe mode): the plan is empty or risk-reducing only
    EXCHANGE = 6  # the exchange or another remote service (InfluxDB, Telegram) failed or refused
    PARTIAL = 7  # execution finished only part of the plan
    DRIFT = 8  # audit found a KPI outside its target band
    RESOURCE = 9  # the resource watchdog stopped a command
    INTERRUPTED = 130  # Ctrl-C (SIGINT): stopped cleanly, no partial output
    TERMINATED = 143  # SIGTERM (timeout, cron wrapper, systemd, docker stop): stopped the same way


class BtcnError(Exception):
    """Base of every error a user can cause. ``str(err)`` is the one line shown to the user."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(BtcnError):
    exit_code = ExitCode.USAGE


class InvalidInputError(BtcnError):
    """A file or stream is missing, malformed, of the wrong kind or fails validation."""

    exit_code = ExitCode.INVALID_INPUT


class ConfigError(BtcnError):
    exit_code = ExitCode.CONFIG


class GuardrailRefused(BtcnError):
    exit_code = ExitCode.GUARDRAIL


class ExchangeError(BtcnError):
    """Base for venue failures; see :mod:`btcn.exchange.errors` for the typed subclasses."""

    exit_code = ExitCode.EXCHANGE


class PartialExecution(BtcnError):
    exit_code = ExitCode.PARTIAL


class StateError(BtcnError):
    """The state store cannot be opened, is locked or is corrupt."""

    exit_code = ExitCode.INVALID_INPUT


class ResourceLimitExceeded(BtcnError):
    exit_code = ExitCode.RESOURCE
