"""Gate APIv4 request signing (pure functions plus an ``httpx.Auth``).

Signed string: ``METHOD\\nPATH\\nQUERY\\nhex(sha512(body))\\nTIMESTAMP`` with PATH including
``/api/v4``, QUERY the decoded query string in wire order (the official SDK signs
``unquote_plus(urlencode(params))``) and the body hashed exactly as sent. The signature is
``hex(HMAC-SHA512(secret, signed string))``; headers ``KEY``, ``Timestamp``, ``SIGN``.

The auth object signs in ``auth_flow``, i.e. once per request object: every retry attempt builds
a new request and is signed again with a fresh timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Generator
from urllib.parse import unquote_plus

import httpx

from btcn.exchange.credentials import Credentials

EMPTY_BODY_SHA512 = hashlib.sha512(b"").hexdigest()


def signature_payload(method: str, path: str, query: str, body: bytes, timestamp: str) -> str:
    body_hash = hashlib.sha512(body).hexdigest()
    return "\n".join((method.upper(), path, query, body_hash, timestamp))


def sign(secret: str, method: str, path: str, query: str, body: bytes, timestamp: str) -> str:
    payload = signature_payload(method, path, query, body, timestamp)
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def split_target(raw_path: bytes) -> tuple[str, str]:
    """``(path, decoded query)`` of a request target as sent on the wire."""
    target = raw_path.decode("ascii")
    path, _, query = target.partition("?")
    return path, unquote_plus(query)


class GateAuth(httpx.Auth):
    """Adds ``KEY``/``Timestamp``/``SIGN``. ``timestamp`` returns venue time in seconds (text)."""

    requires_request_body = True

    def __init__(self, credentials: Credentials, timestamp: Callable[[], str]) -> None:
        self._credentials = credentials
        self._timestamp = timestamp

    def __repr__(self) -> str:
        return "GateAuth(<credentials hidden>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        path, query = split_target(request.url.raw_path)
        ts = self._timestamp()
        request.headers["KEY"] = self._credentials.key.get_secret_value()
        request.headers["Timestamp"] = ts
        request.headers["SIGN"] = sign(
            self._credentials.secret.get_secret_value(),
            request.method,
            path,
            query,
            request.content,
            ts,
        )
        yield request
