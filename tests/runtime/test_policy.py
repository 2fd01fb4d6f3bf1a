"""Policy layer: secrets, network allowlist, resource watchdog, log collapsing."""

from __future__ import annotations

import io
import logging
import socket
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from btcn.errors import ConfigError, ResourceLimitExceeded
from btcn.runtime import netguard, secrets
from btcn.runtime.logs import CollapsingHandler, setup_logging
from btcn.runtime.settings import load_settings
from btcn.runtime.watchdog import MB, Limits, NullWatchdog, Watchdog, from_settings
from tests.services import recording_server

TOKEN = "tg-very-secret-1234567"


@pytest.fixture(autouse=True)
def _fresh_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    secrets.forget_all()
    yield
    secrets.forget_all()


# --- secrets ----------------------------------------------------------------------------------
def write_secrets(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_secret_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    value = secrets.get_secret("TELEGRAM_BOT_TOKEN")
    assert value is not None and value.get_secret_value() == TOKEN
    assert TOKEN not in repr(value) and TOKEN not in str(value)


def test_secret_from_file_env_wins(monkeypatch, tmp_path: Path) -> None:
    f = write_secrets(
        tmp_path / "s", "# comment\n\nexport A_TOKEN = 'quoted value'\nB=\"x y z w\"\nC=\n"
    )
    monkeypatch.setenv("BTCN_SECRETS_FILE", str(f))
    assert secrets.get_secret("A_TOKEN").get_secret_value() == "quoted value"
    assert secrets.get_secret("B").get_secret_value() == "x y z w"
    assert secrets.get_secret("C", required=False) is None  # empty counts as absent
    monkeypatch.setenv("B", "from-env")
    assert secrets.get_secret("B").get_secret_value() == "from-env"


def test_default_secrets_file(monkeypatch, tmp_path: Path) -> None:
    d = tmp_path / "xdg" / "btcn"
    d.mkdir(parents=True)
    write_secrets(d / "secrets", "INFLUX_TOKEN=abcdefgh\n")
    assert secrets.secrets_file() == d / "secrets"
    assert secrets.get_secret("INFLUX_TOKEN").get_secret_value() == "abcdefgh"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o660])
def test_secrets_file_readable_by_others_is_refused(monkeypatch, tmp_path: Path, mode: int) -> None:
    f = write_secrets(tmp_path / "s", "X=supersecretvalue\n", mode)
    monkeypatch.setenv("BTCN_SECRETS_FILE", str(f))
    with pytest.raises(ConfigError, match="group or others") as err:
        secrets.get_secret("X")
    assert err.value.hint == f"chmod 600 {f}"
    assert "supersecretvalue" not in err.value.message


def test_bad_secrets_file_lines_are_not_echoed(monkeypatch, tmp_path: Path) -> None:
    f = write_secrets(tmp_path / "s", "just-a-pasted-token-value\n")
    monkeypatch.setenv("BTCN_SECRETS_FILE", str(f))
    with pytest.raises(ConfigError, match="line 1 is not NAME=value") as err:
        secrets.get_secret("X")
    assert "pasted" not in err.value.message
    write_secrets(f, "=value\n")
    with pytest.raises(ConfigError, match="no name"):
        secrets.get_secret("X")


def test_missing_secret(monkeypatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable NOPE"):
        secrets.get_secret("NOPE")
    monkeypatch.setenv("BTCN_SECRETS_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="not found"):
        secrets.get_secret("NOPE")
    (tmp_path / "dir").mkdir(mode=0o700)
    monkeypatch.setenv("BTCN_SECRETS_FILE", str(tmp_path / "dir"))
    with pytest.raises(ConfigError, match="not a regular file"):
        secrets.get_secret("NOPE")


def test_secrets_never_reach_the_log(monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    secrets.get_secret("TELEGRAM_BOT_TOKEN")
    stream = io.StringIO()
    handler = CollapsingHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("btcn.test.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("calling https://api.telegram.org/bot%s/sendMessage", TOKEN)
    finally:
        log.removeHandler(handler)
    assert TOKEN not in stream.getvalue()
    assert "/bot***/sendMessage" in stream.getvalue()


# --- logging -----------------------------------------------------------------------------------
def test_repeated_info_lines_are_collapsed() -> None:
    stream = io.StringIO()
    handler = CollapsingHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("btcn.test.collapse")
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    log.propagate = False
    try:
        for _ in range(5):
            log.info("waiting for fill")
        log.info("filled")
        log.warning("slow")
        log.warning("slow")  # warnings are never collapsed
        log.debug("bar 1")
        log.debug("bar 1")  # nor is DEBUG
        log.info("done")
        log.info("done")
        handler.close()
    finally:
        log.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "INFO waiting for fill",
        "(previous message repeated 4 more times)",
        "INFO filled",
        "WARNING slow",
        "WARNING slow",
        "DEBUG bar 1",
        "DEBUG bar 1",
        "INFO done",
        "(previous message repeated 1 more time)",
    ]


def test_setup_logging_installs_one_handler() -> None:
    setup_logging("DEBUG")
    setup_logging("INFO")
    root = logging.getLogger("btcn")
    assert sum(isinstance(h, CollapsingHandler) for h in root.handlers) == 1
    assert root.level == logging.INFO
    from btcn.errors import UsageError

    with pytest.raises(UsageError):
        setup_logging("LOUD")


# --- network allowlist ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "allowed"),
    [("127.0.0.1", True), ("LOCALHOST.", True), ("[::1]", True), ("api.gateio.ws", True),
     ("fx-api.gateio.ws", True), ("gateio.ws.evil.com", False), ("10.1.2.3", True),
     ("10.2.0.1", False), ("example.com", False), ("", False)],
)  # fmt: skip
def test_host_allowed(host: str, allowed: bool) -> None:
    allow = ["127.0.0.1", "localhost", "::1", ".gateio.ws", "api.gateio.ws", "10.1.0.0/16", "",
             "bad/cidr"]  # fmt: skip
    assert netguard.host_allowed(host, allow) is allowed


def test_transport_refuses_before_sending() -> None:
    sent: list[httpx.Request] = []
    inner = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
    with netguard.http_client(test_mode=True, allowlist=["127.0.0.1"], timeout_s=1,
                              transport=inner) as client:  # fmt: skip
        with pytest.raises(netguard.NetworkRefused, match=r"api.telegram.org") as err:
            client.post("https://api.telegram.org/botX/sendMessage")
        assert err.value.exit_code == 4
        assert client.get("http://127.0.0.1:1/x").status_code == 200
    assert [str(r.url) for r in sent] == ["http://127.0.0.1:1/x"]


def test_test_mode_off_lets_requests_through() -> None:
    inner = httpx.MockTransport(lambda r: httpx.Response(204))
    with netguard.http_client(test_mode=False, allowlist=[], timeout_s=1, transport=inner) as c:
        assert c.get("https://example.com/").status_code == 204


def test_real_client_to_loopback_server_in_test_mode() -> None:
    with (
        recording_server(lambda r: (200, {}, b"ok")) as srv,
        netguard.http_client(test_mode=True, allowlist=["127.0.0.1"], timeout_s=2) as c,
    ):
        assert c.get(srv.url + "/ping").text == "ok"


def test_socket_guard_refuses_lookups_and_connections() -> None:
    # The session fixture armed the guard with the loopback allowlist.
    assert netguard.guard_active()
    with pytest.raises(netguard.NetworkRefused, match=r"look-up of example.com"):
        socket.getaddrinfo("example.com", 443)
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s,
        pytest.raises(netguard.NetworkRefused, match=r"connection to 192.0.2.1"),
    ):
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: refused before any packet
    with pytest.raises(netguard.NetworkRefused):
        socket.getaddrinfo(b"example.org", 80)
    socket.getaddrinfo("localhost", 80)  # allowed
    a, b = socket.socketpair()  # AF_UNIX: not network
    a.close()
    b.close()
    netguard.remove_socket_guard()
    try:
        assert not netguard.guard_active()
    finally:
        netguard.install_socket_guard(("127.0.0.1", "localhost", "::1"))


def test_network_settings_from_env(monkeypatch) -> None:
    monkeypatch.setenv("BTCN_NETWORK__TEST_MODE", "true")
    monkeypatch.setenv("BTCN_NETWORK__ALLOWLIST", '["127.0.0.1"]')
    s = load_settings()
    assert s.network.test_mode and s.network.allowlist == ["127.0.0.1"]


# --- watchdog ---------------------------------------------------------------------------------
class FakeProcess:
    def __init__(self) -> None:
        self.cpu = 0.0
        self.rss = 100 * MB

    def cpu_times(self):
        return SimpleNamespace(user=self.cpu, system=0.0)

    def memory_info(self):
        return SimpleNamespace(rss=self.rss)


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def make_wd(
    limits: Limits = Limits(50.0, 2048.0, 1.0, 0.0),
) -> tuple[Watchdog, FakeProcess, FakeClock]:
    p, c = FakeProcess(), FakeClock()
    wd = Watchdog(limits, process=p, monotonic=c.monotonic, sleep=c.sleep)  # type: ignore[arg-type]
    return wd, p, c


def test_cpu_over_limit_is_slowed_to_the_limit(caplog) -> None:
    wd, p, c = make_wd()
    p.cpu, c.t = 2.0, 2.0  # 100 % of a core for 2 s
    btcn_log = logging.getLogger("btcn")
    before = btcn_log.propagate
    with caplog.at_level(logging.DEBUG, logger="btcn.runtime.watchdog"):
        btcn_log.propagate = True  # setup_logging turns it off; caplog listens at the root
        try:
            wd.checkpoint()
        finally:
            btcn_log.propagate = before
    assert c.sleeps == [pytest.approx(2.0)]  # 2 s CPU over 4 s wall = 50 %
    assert caplog.records[0].levelno == logging.INFO
    assert "uses 100% of one core (limit 50%); slowing it down" in caplog.text
    p.cpu, c.t = 2.5, c.t + 2.0  # 25 %: no pause
    wd.checkpoint()
    assert len(c.sleeps) == 1
    assert wd.slept_s == pytest.approx(2.0)


def test_short_commands_are_never_slowed() -> None:
    wd, p, c = make_wd(Limits(50.0, 2048.0, 1.0, grace_s=10.0))
    p.cpu, c.t = 5.0, 5.0  # 100 % of a core, but only 5 s into the command
    wd.checkpoint()
    assert c.sleeps == []
    p.cpu, c.t = 11.0, 11.0  # past the grace period: now it is a long command
    wd.checkpoint()
    assert c.sleeps == [pytest.approx(1.0 / 0.5 * 6.0 - 6.0)]


def test_checks_are_rate_limited() -> None:
    wd, p, c = make_wd()
    p.cpu, c.t = 0.5, 0.5
    wd.checkpoint()  # before check_interval: nothing measured
    assert c.sleeps == [] and wd.peak_rss_mb == 0
    wd.checkpoint(force=True)
    assert c.sleeps == [pytest.approx(0.5)] and wd.peak_rss_mb == 100


def test_rss_over_limit_stops_between_steps() -> None:
    wd, p, c = make_wd()
    p.rss, c.t = 3000 * MB, 1.0
    with pytest.raises(ResourceLimitExceeded, match="3000 MB exceeds the limit of 2048 MB") as err:
        wd.checkpoint()
    assert err.value.exit_code == 9
    assert "max_rss_mb" in (err.value.hint or "")


def test_watchdog_on_this_process_and_settings(monkeypatch) -> None:
    wd = Watchdog(Limits(max_cpu_pct=100 * 64, max_rss_mb=1e6, check_interval_s=0))
    sum(i * i for i in range(200_000))
    wd.checkpoint()
    assert wd.peak_rss_mb > 10 and wd.slept_s == 0
    monkeypatch.setenv("BTCN_WATCHDOG__MAX_RSS_MB", "1")
    tiny = from_settings(load_settings(), "test")
    tiny._t0 -= 10  # as if the check interval had passed
    with pytest.raises(ResourceLimitExceeded):
        tiny.checkpoint()
    monkeypatch.setenv("BTCN_WATCHDOG__ENABLED", "false")
    off = from_settings(load_settings())
    assert isinstance(off, NullWatchdog)
    off.checkpoint(force=True)


def test_settings_sections_have_documented_defaults() -> None:
    s = load_settings()
    assert s.alerts.funding_bps_8h == 5.0 and s.alerts.margin_used_pct_nav == 0.70
    assert s.alerts.cooldown_ms == 6 * 3_600_000
    assert s.watchdog.max_cpu_pct == 50 and s.watchdog.max_rss_mb == 2048
    assert s.watchdog.check_interval_ms == 500
    assert s.audit.tolerance == 0.05 and s.audit.log_path == "Log.xlsx"
    assert s.influx.api == "v1" and s.influx.timeout_ms == 10_000
    assert not s.telegram.enabled and s.telegram.timeout_ms == 10_000


def test_audit_hook_decisions_directly() -> None:
    # Coverage does not trace code running inside an audit hook; the decisions, called directly:
    hook = netguard._audit_hook
    hook("open", ("/etc/hosts",))  # other events pass
    hook("socket.getaddrinfo", (None, 80, 0, 0, 0))
    hook("socket.getaddrinfo", (b"localhost", 80, 0, 0, 0))
    with pytest.raises(netguard.NetworkRefused):
        hook("socket.getaddrinfo", ("example.com", 80, 0, 0, 0))
    tcp = SimpleNamespace(family=socket.AF_INET)
    hook("socket.connect", (tcp, ("127.0.0.1", 80)))
    with pytest.raises(netguard.NetworkRefused):
        hook("socket.connect", (tcp, ("8.8.8.8", 53)))
    hook("socket.connect", (SimpleNamespace(family=socket.AF_UNIX), "/run/x.sock"))
    netguard.remove_socket_guard()
    try:
        hook("socket.getaddrinfo", ("example.com", 80, 0, 0, 0))  # disarmed
    finally:
        netguard.install_socket_guard(("127.0.0.1", "localhost", "::1"))
