"""Failures of the services btcn reports to (InfluxDB, Telegram).

They use exit code 6 (``EXCHANGE``: "a remote service or its network failed"). Messages carry the
status code and the service's own error text, never a URL (a Telegram URL contains the bot token)
nor a header.
"""

from __future__ import annotations

from btcn.errors import BtcnError, ExitCode


class ServiceError(BtcnError):
    exit_code = ExitCode.EXCHANGE

    def __init__(self, message: str, *, hint: str | None = None, retryable: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.retryable = retryable


class InfluxError(ServiceError):
    pass


class TelegramError(ServiceError):
    pass
