"""API keys: read in exactly one place (the environment, else the secrets file), never printed.

``GATE_API_KEY`` / ``GATE_API_SECRET`` are the names the roadmap uses. :func:`read_secret` goes
through :func:`btcn.runtime.secrets.get_secret`, which also registers the values so that every
log line is redacted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import SecretStr

from btcn.errors import ConfigError

KEY_ENV = "GATE_API_KEY"
SECRET_ENV = "GATE_API_SECRET"

# What can travel in an HTTP header unchanged. Anything else would make httpx raise an error whose
# text contains the header value, i.e. the secret: refuse it here with a message that does not.
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")


def read_secret(name: str) -> str | None:
    """The one place the gateway reads a secret: environment variable, else the secrets file."""
    from btcn.runtime.secrets import get_secret

    value = get_secret(name, required=False)
    return value.get_secret_value() if value is not None else None


@dataclass(frozen=True, repr=False)
class Credentials:
    """A key pair. ``repr``/``str`` never show the values (``SecretStr`` masks them)."""

    key: SecretStr
    secret: SecretStr

    def __repr__(self) -> str:
        return "Credentials(key=SecretStr('**********'), secret=SecretStr('**********'))"

    __str__ = __repr__


def gate_credentials() -> Credentials:
    """The Gate key pair from the environment; ConfigError (exit 4) when missing or malformed."""
    key = read_secret(KEY_ENV)
    secret = read_secret(SECRET_ENV)
    missing = [name for name, value in ((KEY_ENV, key), (SECRET_ENV, secret)) if value is None]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} not set: live Gate calls need an API key pair",
            hint=f"export {KEY_ENV} and {SECRET_ENV} (spot + perpetual read-write, no withdrawal)",
        )
    assert key is not None and secret is not None
    for name, value in ((KEY_ENV, key), (SECRET_ENV, secret)):
        if not _HEADER_SAFE.match(value):
            raise ConfigError(
                f"{name} contains whitespace or non-ASCII characters",
                hint="copy the value again from the Gate API management page",
            )
    return Credentials(SecretStr(key), SecretStr(secret))
