"""Suite-wide guards and fixtures: no internet, no ambient configuration, every test in its own
temporary folder, every output kept for the secret scan."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests import secret_scan
from tests.fakes import FakeGate, FakeServer
from tests.helpers import KEY, SECRET, VirtualClock

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
REAL_DATA = ROOT.parent / "shared" / "data" / "real"


def pytest_configure(config: pytest.Config) -> None:
    """The coverage gate (>= 90 %) measures the whole suite: a run narrowed by a marker or keyword
    expression (the fast lane, ``pytest -m "not slow"``) reports coverage but is not gated."""
    if config.option.markexpr or config.option.keyword:
        cov = config.pluginmanager.get_plugin("_cov")
        if cov is not None:
            cov.options.cov_fail_under = None


settings.register_profile(
    "btcn", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "btcn"))

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guard(sock: socket.socket, address: object) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    if host not in _LOOPBACK:
        raise RuntimeError(f"test tried to reach {host!r}: tests never touch the internet")


def _connect(self: socket.socket, address: object) -> None:
    _guard(self, address)
    return _real_connect(self, address)


def _connect_ex(self: socket.socket, address: object) -> int:
    _guard(self, address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    if host not in _LOOPBACK and host is not None:
        raise RuntimeError(f"test tried to resolve {host!r}: tests never touch the internet")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only loopback connections and name look-ups; a default URL to a real venue fails at once."""
    monkeypatch.setattr(socket.socket, "connect", _connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _getaddrinfo)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No BTCN_*/GATE_* settings (or API keys) leak in from the machine; every test runs in its
    own temporary folder, so a default ``btcn-state.db`` never lands in the repository."""
    for name in list(os.environ):
        if name.startswith(("BTCN_", "GATE_")) and name != "BTCN_REQUIRE_SERVICES":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    from btcn.cli.context import STATE

    STATE.debug = False
    STATE.quiet = False


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


def D(x: object) -> Decimal:
    return Decimal(str(x))


@pytest.fixture
def in_tmp_dir(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Run in a private folder, so a default ``btcn-state.db`` never lands in the repository."""
    monkeypatch.chdir(tmp_path)
    from btcn.cli.context import STATE

    STATE.debug = False
    STATE.quiet = False


@pytest.fixture
def vclock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def gate(vclock: VirtualClock) -> FakeGate:
    return FakeGate(KEY, SECRET, clock=vclock.now_s)


@pytest.fixture
def server(gate: FakeGate) -> Iterator[FakeServer]:
    with FakeServer(gate) as srv:
        yield srv


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    report = yield
    for name, text in (
        ("stdout", report.capstdout),
        ("stderr", report.capstderr),
        ("log", report.caplog),
        ("failure", report.longreprtext if report.failed else ""),
    ):
        if text:
            secret_scan.record(f"{item.nodeid} [{report.when} {name}]", text)
    return report


# --- the secret scan, when the whole session is over -----------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _secret_scan_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where every test's files are (read by the scan at the end of the session)."""
    root = tmp_path_factory.getbasetemp()
    SCAN_ROOTS.append(root)
    return root


SCAN_ROOTS: list[Path] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No output of the suite contains the API key or secret: every test's captured output and
    failure text, the outputs tests recorded (subprocesses, ``--debug`` tracebacks, killed and
    resumed executions), and every file written under the session's temporary folder. A leak
    fails the session, whatever order the tests ran in."""
    texts = list(secret_scan.CAPTURED)
    for root in SCAN_ROOTS:
        texts += secret_scan.written_files(root)
    found = secret_scan.leaks(texts, (KEY, SECRET))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(
                f"secret scan: the test key or secret appears in {len(found)} output(s): "
                + "; ".join(sorted(set(found))[:10]),
                red=True,
            )
    elif reporter is not None and texts:
        reporter.ensure_newline()
        reporter.write_line(f"secret scan: {len(texts)} outputs and files, no key or secret")
