"""Error typing and the one retry policy, over httpx.MockTransport (no sockets, no sleeping)."""

from __future__ import annotations

import random

import httpx
import pytest
from pydantic import SecretStr

from btcn.errors import ConfigError, ExchangeError, ExitCode
from btcn.exchange.binance import BinanceClient
from btcn.exchange.credentials import Credentials, gate_credentials
from btcn.exchange.errors import (
    AuthError,
    ClockSkewError,
    RateLimitedError,
    RejectedError,
    ServerError,
    TransportError,
    is_not_found,
    write_outcome,
)
from btcn.exchange.gate import GateClient
from btcn.exchange.http import VenueHttp
from btcn.exchange.retry import RetryPolicy, retryable
from tests.helpers import KEY, SECRET, VirtualClock

CREDS = Credentials(SecretStr(KEY), SecretStr(SECRET))


def _client(handler, clock: VirtualClock, attempts: int = 4) -> GateClient:  # type: ignore[no-untyped-def]
    policy = RetryPolicy(max_attempts=attempts, clock=clock, rng=random.Random(1))
    return GateClient("https://gate.test/api/v4", credentials=CREDS, clock=clock, retry=policy,
                      transport=httpx.MockTransport(handler))  # fmt: skip


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


ACCOUNTS = [{"currency": "BTC", "available": "1", "locked": "0"}]


def test_status_codes_become_typed_errors(vclock: VirtualClock) -> None:
    cases = [
        (_json(400, {"label": "BALANCE_NOT_ENOUGH", "message": "Not enough"}), RejectedError),
        (_json(401, {"label": "INVALID_SIGNATURE", "message": "bad"}), AuthError),
        (_json(403, {"label": "FORBIDDEN", "detail": "no"}), AuthError),
        (_json(401, {"label": "REQUEST_EXPIRED", "message": "late"}), ClockSkewError),
        (_json(404, {"label": "ORDER_NOT_FOUND", "message": "gone"}), RejectedError),
    ]
    for response, kind in cases:
        client = _client(lambda r, resp=response: resp, vclock, attempts=1)
        with pytest.raises(kind) as info:
            client.get_spot_order("1", "BTC_USDT")
        assert info.value.exit_code == ExitCode.EXCHANGE
        assert info.value.label in info.value.message
        assert "gate: GET /spot/orders/1" in info.value.message
    assert is_not_found(info.value)


def test_reads_retry_5xx_and_transport_errors_with_backoff(vclock: VirtualClock) -> None:
    answers = iter([
        httpx.ReadTimeout("slow"),
        _json(502, {"label": "SERVER_ERROR", "message": "x"}),
        httpx.ConnectError("refused"),
        _json(200, ACCOUNTS),
    ])  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = _client(handler, vclock)
    assert client.spot_accounts()[0].available == "1"
    assert len(vclock.sleeps) == 3
    # exponential steps 0.5, 1, 2 s with jitter in [50 %, 100 %]
    for wait, step in zip(vclock.sleeps, (0.5, 1.0, 2.0), strict=True):
        assert step / 2 <= wait <= step


def test_reads_give_up_after_max_attempts(vclock: VirtualClock) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return _json(503, {"label": "TOO_BUSY", "message": "busy"})

    with pytest.raises(ServerError):
        _client(handler, vclock, attempts=3).spot_accounts()
    assert len(calls) == 3


def test_429_waits_until_the_reset_timestamp(vclock: VirtualClock) -> None:
    reset_at = vclock.now_ms() // 1000 + 7
    answers = iter([
        _json(429, {"label": "TOO_MANY_REQUESTS"}, {"X-Gate-RateLimit-Reset-Timestamp": str(reset_at)}),
        _json(200, ACCOUNTS),
    ])  # fmt: skip
    client = _client(lambda r: next(answers), vclock)
    client.spot_accounts()
    assert vclock.sleeps == [pytest.approx(7.0)]


def test_429_without_header_backs_off_and_binance_retry_after(vclock: VirtualClock) -> None:
    answers = iter([
        _json(429, {"code": -1003, "msg": "too many"}, {"Retry-After": "3"}),
        _json(418, {"code": -1003, "msg": "banned"}, {"Retry-After": "5"}),
        _json(200, [[1, "1", "2", "0.5", "1.5", "10", 2, "0", 1, "0", "0", "0"]]),
    ])  # fmt: skip
    policy = RetryPolicy(max_attempts=4, clock=vclock, rng=random.Random(2))
    client = BinanceClient("https://b.test", "https://f.test", clock=vclock, retry=policy,
                           transport=httpx.MockTransport(lambda r: next(answers)))  # fmt: skip
    rows = client.spot_klines("BTCUSDT", "5m", 0, 1000, 10)
    assert rows[0][0] == 1
    assert vclock.sleeps == [3.0, 5.0]


def test_creates_are_never_retried_on_ambiguous_outcomes(vclock: VirtualClock) -> None:
    for failure in (httpx.ReadTimeout("t"), httpx.RemoteProtocolError("reset"),
                    _json(500, {"label": "INTERNAL"})):  # fmt: skip
        calls: list[httpx.Request] = []

        def handler(request: httpx.Request, failure=failure, calls=calls) -> httpx.Response:
            calls.append(request)
            if isinstance(failure, Exception):
                raise failure
            return failure

        client = _client(handler, vclock)
        with pytest.raises((TransportError, ServerError)) as info:
            client.create_spot_order({"text": "t-x"}, exptime_ms=1)
        assert write_outcome(info.value) == "ambiguous"
        assert len(calls) == 1, "an order placement must not be blindly retried"


def test_creates_retry_when_the_venue_provably_did_not_act(vclock: VirtualClock) -> None:
    order = {"id": "5", "text": "t-x", "status": "open", "currency_pair": "BTC_USDT",
             "side": "buy", "amount": "1", "price": "1", "left": "1"}  # fmt: skip
    answers = iter([
        httpx.ConnectError("refused"),
        _json(429, {"label": "TOO_MANY_REQUESTS"}),
        _json(201, order),
    ])  # fmt: skip
    seen_exptime = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_exptime.append(request.headers.get("x-gate-exptime"))
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = _client(handler, vclock)
    assert client.create_spot_order({"text": "t-x"}, exptime_ms=123).id == "5"
    assert seen_exptime == ["123", "123", "123"]  # one absolute deadline for every attempt


def test_clock_skew_resyncs_once_then_succeeds(vclock: VirtualClock) -> None:
    venue_ms = vclock.now_ms() + 120_000  # the venue is two minutes ahead
    stamps = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/spot/time"):
            return _json(200, {"server_time": venue_ms})
        ts = int(request.headers["Timestamp"])
        stamps.append(ts)
        if abs(ts * 1000 - venue_ms) > 60_000:
            return _json(401, {"label": "REQUEST_EXPIRED", "message": "skew"})
        return _json(200, ACCOUNTS)

    client = _client(handler, vclock)
    client.spot_accounts()
    assert client.offset_ms == 120_000
    assert stamps == [vclock.now_ms() // 1000, venue_ms // 1000]


def test_persistent_clock_skew_is_not_retried_forever(vclock: VirtualClock) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/spot/time"):
            return _json(200, {"server_time": vclock.now_ms()})
        calls.append(1)
        return _json(401, {"label": "REQUEST_EXPIRED", "message": "skew"})

    with pytest.raises(ClockSkewError):
        _client(handler, vclock).spot_accounts()
    assert len(calls) == 2


def test_malformed_responses_are_one_line_errors(vclock: VirtualClock) -> None:
    client = _client(lambda r: httpx.Response(200, content=b"<html>"), vclock)
    with pytest.raises(ExchangeError, match="not JSON"):
        client.spot_accounts()
    client = _client(lambda r: _json(200, [{"currency": "BTC"}]), vclock)
    with pytest.raises(ExchangeError, match=r"unexpected response: 0\.available: Field required"):
        client.spot_accounts()
    client = _client(lambda r: _json(200, {"server_time": "soon"}), vclock)
    with pytest.raises(ExchangeError, match="server_time"):
        client.server_time_ms()


def test_error_body_that_is_not_json_still_types_the_error(vclock: VirtualClock) -> None:
    client = _client(lambda r: httpx.Response(502, content=b"Bad Gateway"), vclock, attempts=1)
    with pytest.raises(ServerError, match=r"HTTP 502$"):
        client.spot_accounts()


def test_private_call_without_keys_is_a_config_error(vclock: VirtualClock) -> None:
    client = GateClient("https://gate.test/api/v4", clock=vclock,
                        transport=httpx.MockTransport(lambda r: _json(200, [])))  # fmt: skip
    with pytest.raises(ConfigError, match="needs API keys"):
        client.spot_accounts()


def test_write_outcome_table() -> None:
    """The one "did the write happen" classifier, for orders and transfers alike."""
    cases = [
        (TransportError("x", maybe_processed=True), "ambiguous"),
        (TransportError("x", maybe_processed=False), "absent_stop"),
        (ServerError("x", status=502), "ambiguous"),
        (ClockSkewError("x", status=401, label="REQUEST_EXPIRED"), "absent"),
        (RateLimitedError("x", status=429), "absent_stop"),
        (AuthError("x", status=403, label="FORBIDDEN"), "absent_stop"),
        (RejectedError("x", status=400, label="BALANCE_NOT_ENOUGH"), "rejected"),
        (ExchangeError("a 2xx whose body cannot be read"), "ambiguous"),
    ]
    assert [write_outcome(e) for e, _ in cases] == [want for _, want in cases]


def test_retryable_table() -> None:
    ambiguous = TransportError("x", maybe_processed=True)
    unsent = TransportError("x", maybe_processed=False)
    server = ServerError("x", status=500)
    limited = RateLimitedError("x", status=429)
    rejected = RejectedError("x", status=400, label="BALANCE_NOT_ENOUGH")
    assert [retryable(e, idempotent=True) for e in (ambiguous, unsent, server, limited, rejected)] \
        == [True, True, True, True, False]  # fmt: skip
    assert [retryable(e, idempotent=False) for e in (ambiguous, unsent, server, limited, rejected)] \
        == [False, True, False, True, False]  # fmt: skip


def test_rate_limit_wait_is_capped(vclock: VirtualClock) -> None:
    policy = RetryPolicy(clock=vclock, max_rate_limit_wait_s=10)
    exc = RateLimitedError("x", status=429, reset_at_s=vclock.now_s() + 3600)
    assert policy.wait_s(exc, 1, vclock.now_s()) == 10


def test_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="GATE_API_KEY and GATE_API_SECRET not set") as info:
        gate_credentials()
    assert info.value.exit_code == ExitCode.CONFIG
    monkeypatch.setenv("GATE_API_KEY", KEY)
    monkeypatch.setenv("GATE_API_SECRET", SECRET + " \n")
    with pytest.raises(ConfigError, match="GATE_API_SECRET contains whitespace") as info:
        gate_credentials()
    assert SECRET not in str(info.value)
    monkeypatch.setenv("GATE_API_SECRET", SECRET)
    creds = gate_credentials()
    assert creds.secret.get_secret_value() == SECRET
    assert SECRET not in repr(creds)


def test_transport_error_messages_never_quote_headers(vclock: VirtualClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError(f"Illegal header value {request.headers['KEY']}")

    with pytest.raises(ExchangeError) as info:
        _client(handler, vclock).spot_accounts()
    assert KEY not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_venue_http_binance_dialect_labels() -> None:
    http = VenueHttp("binance", "https://b.test", dialect="binance", timeout_s=1,
                     retry=RetryPolicy(max_attempts=1),
                     transport=httpx.MockTransport(lambda r: _json(400, {"code": -1121, "msg": "Invalid symbol."})))  # fmt: skip
    with pytest.raises(RejectedError, match=r"HTTP 400 -1121: Invalid symbol\.") as info:
        http.call("GET", "/api/v3/klines")
    assert info.value.label == "-1121"


def test_system_clock_and_header_parsing() -> None:
    from btcn.exchange.clock import SystemClock
    from btcn.exchange.http import _float_or_none

    clock = SystemClock()
    before = clock.now_ms()
    clock.sleep(0.001)
    clock.sleep(0)
    assert clock.now_ms() >= before + 1
    assert _float_or_none("1.5") == 1.5 and _float_or_none("soon") is None


def test_one_retry_policy_class_in_btcn() -> None:
    """The monitoring clients use the gateway's tenacity policy; no second retry loop exists."""
    import ast
    from pathlib import Path

    import btcn
    from btcn.monitoring.retry import service_policy

    src = Path(btcn.__file__).parent
    classes = [
        f"{p.relative_to(src)}"
        for p in src.rglob("*.py")
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.ClassDef) and "Retry" in node.name
    ]
    assert classes == ["exchange/retry.py"]
    policy = service_policy(retries=2, base_delay_s=0.5)
    assert isinstance(policy, RetryPolicy) and policy.max_attempts == 3
    assert [policy.backoff_s(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]  # no jitter
