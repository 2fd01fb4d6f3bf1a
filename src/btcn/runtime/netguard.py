"""Network allowlist: in test mode, a request to a host outside the allowlist never leaves.

Two layers, both checking the host *name* before any DNS look-up or connection:

* :class:`AllowlistTransport` wraps the httpx transport of every client btcn builds
  (:func:`http_client`), so a refused request raises :class:`NetworkRefused` with the host named.
* :func:`install_socket_guard` adds a Python audit hook on ``socket.getaddrinfo`` and
  ``socket.connect`` for code that does not go through :func:`http_client` (third-party
  libraries, a forgotten ``urllib``). The test suite installs it for the whole session with the
  loopback allowlist, which is how "no test touches the internet" is enforced rather than hoped.

Test mode is ``[network] test_mode = true`` (or ``BTCN_NETWORK__TEST_MODE=1``).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from collections.abc import Iterable
from typing import Any

import httpx

from btcn.errors import BtcnError, ExitCode


class NetworkRefused(BtcnError):
    """A request to a host outside the allowlist was refused before it left the process."""

    exit_code = ExitCode.CONFIG


def _norm(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def host_allowed(host: str, allowlist: Iterable[str]) -> bool:
    """True if ``host`` equals an entry, is a subdomain of a ``.suffix`` entry, or is in a CIDR."""
    h = _norm(host)
    try:
        addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(h)
    except ValueError:
        addr = None
    for entry in allowlist:
        e = _norm(entry)
        if not e:
            continue
        if h == e:
            return True
        if e.startswith(".") and h.endswith(e):
            return True
        if addr is not None and "/" in e:
            try:
                if addr in ipaddress.ip_network(e, strict=False):
                    return True
            except ValueError:
                continue
    return False


class AllowlistTransport(httpx.BaseTransport):
    """An httpx transport that refuses requests to hosts outside the allowlist."""

    def __init__(self, inner: httpx.BaseTransport, allowlist: Iterable[str]) -> None:
        self._inner = inner
        self.allowlist = tuple(allowlist)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if not host_allowed(host, self.allowlist):
            raise NetworkRefused(
                f"network test mode: request to {host} refused (not in the allowlist)",
                hint="add the host to [network] allowlist, or turn off [network] test_mode",
            )
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def http_client(
    *,
    test_mode: bool,
    allowlist: Iterable[str],
    timeout_s: float,
    transport: httpx.BaseTransport | None = None,
    **kwargs: Any,
) -> httpx.Client:
    """The one way btcn builds an HTTP client: timeouts always set, allowlist enforced in test mode.

    ``trust_env`` is off so an ``HTTP(S)_PROXY`` in a cron environment cannot re-route requests
    around the allowlist check (the check sees the target host, the proxy would see the rest).
    """
    inner = transport or httpx.HTTPTransport()
    if test_mode:
        inner = AllowlistTransport(inner, allowlist)
    return httpx.Client(transport=inner, timeout=timeout_s, trust_env=False, **kwargs)


# --- process-wide guard (audit hook) ---------------------------------------------------------
class _Guard:
    lock = threading.Lock()
    allowlist: tuple[str, ...] | None = None
    hook_installed = False


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    allow = _Guard.allowlist
    if allow is None:
        return
    if event == "socket.getaddrinfo":
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if host is None or host_allowed(str(host), allow):
            return
        raise NetworkRefused(f"network test mode: look-up of {host} refused (not in the allowlist)")
    if event == "socket.connect":
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
            return  # unix sockets and the like stay inside the machine
        host = address[0] if isinstance(address, tuple) else str(address)
        if not host_allowed(str(host), allow):
            raise NetworkRefused(
                f"network test mode: connection to {host} refused (not in the allowlist)"
            )


def install_socket_guard(allowlist: Iterable[str]) -> None:
    """Refuse, process-wide, DNS look-ups and connections to hosts outside ``allowlist``.

    Audit hooks cannot be removed, so the hook is installed once and :func:`remove_socket_guard`
    disarms it.
    """
    with _Guard.lock:
        _Guard.allowlist = tuple(allowlist)
        if not _Guard.hook_installed:
            sys.addaudithook(_audit_hook)
            _Guard.hook_installed = True


def remove_socket_guard() -> None:
    with _Guard.lock:
        _Guard.allowlist = None


def guard_active() -> bool:
    return _Guard.allowlist is not None
