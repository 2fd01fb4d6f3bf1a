"""Fixtures of this folder; the socket guard proves no test here reaches past loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from btcn.runtime import netguard

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@pytest.fixture(autouse=True, scope="session")
def _no_internet() -> Iterator[None]:
    netguard.install_socket_guard(LOOPBACK)
    yield
