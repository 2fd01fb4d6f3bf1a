"""InfluxDB line protocol and writer: unit cases, a real influxd 1.x, and a 2.x contract server."""

from __future__ import annotations

import itertools
import math

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcn.monitoring.errors import InfluxError
from btcn.monitoring.influx import (
    InfluxTarget,
    InfluxWriter,
    Point,
    batches,
    escape_key,
    escape_measurement,
    format_field_value,
    to_line,
)
from btcn.monitoring.retry import service_policy
from tests.services import recording_server

_db_counter = itertools.count()


def new_db(influxd) -> str:
    name = f"t{next(_db_counter)}"
    influxd.create_db(name)
    return name


# --- line protocol units ----------------------------------------------------------------------
def test_escaping_rules() -> None:
    assert escape_measurement("my m,x") == "my\\ m\\,x"
    assert escape_measurement("a=b") == "a=b"  # '=' is legal in a measurement
    assert escape_key("a b,c=d") == "a\\ b\\,c\\=d"
    assert format_field_value('say "hi" \\o/') == '"say \\"hi\\" \\\\o/"'
    assert format_field_value(3) == "3i"
    assert format_field_value(True) == "true"
    assert format_field_value(False) == "false"
    assert format_field_value(1.5) == "1.5"
    assert format_field_value(math.nan) is None
    assert format_field_value(math.inf) is None
    with pytest.raises(TypeError):
        format_field_value([1])  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "a\nb", "a\\", "a\\,b", "a\\\\b", "a\\ b"], ids=repr)
def test_unrepresentable_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="line protocol"):
        escape_key(bad)


def test_measurement_cannot_start_a_comment() -> None:
    with pytest.raises(ValueError, match="comment"):
        escape_measurement("#m")


def test_to_line_sorts_skips_nan_and_empty_tags() -> None:
    p = Point("m", {"b": 1.0, "a": math.nan, "c": 2}, 1000, {"z": "1", "e": "", "a": "x y"})
    assert to_line(p) == "m,a=x\\ y,z=1 b=1.0,c=2i 1000"
    assert to_line(Point("m", {"a": math.nan}, 1)) is None


def test_batches() -> None:
    assert list(batches(iter("abcde"), 2)) == [["a", "b"], ["c", "d"], ["e"]]
    assert list(batches(iter(""), 2)) == []


def test_target_validation() -> None:
    with pytest.raises(InfluxError, match="org and bucket"):
        InfluxTarget("http://x", api="v2", bucket="").endpoint()
    with pytest.raises(InfluxError, match="token"):
        InfluxTarget("http://x", api="v2", org="o", bucket="b").endpoint()
    with pytest.raises(InfluxError, match="v1 or v2"):
        InfluxTarget("http://x", api="v3").endpoint()
    with pytest.raises(ValueError, match="precision"):
        InfluxTarget("http://x", precision="m").endpoint()
    url, params, _, auth = InfluxTarget(
        "http://x/", retention_policy="rp", precision="us"
    ).endpoint()
    assert url == "http://x/write" and params == {"db": "btcn", "precision": "u", "rp": "rp"}
    assert auth is None
    assert "secret" not in repr(InfluxTarget("http://x", secret="s3cr3t-token"))
    assert "s3cr3t" not in repr(InfluxTarget("http://x", secret="s3cr3t-token"))


# --- real influxd 1.x ---------------------------------------------------------------------------
def writer_for(influxd, db: str, **kw) -> tuple[InfluxWriter, httpx.Client]:
    client = httpx.Client(timeout=10, trust_env=False)
    return InfluxWriter(InfluxTarget(influxd.url, database=db), client, **kw), client


def test_write_then_query_back_v1(influxd) -> None:
    db = new_db(influxd)
    points = [
        Point("btcn", {"nav_usdt": 100_000.0 + i, "net_delta_btc": -0.001 * i, "n": i},
              1_735_689_600_000 + i * 300_000, {"source": "bt run"})
        for i in range(25)
    ]  # fmt: skip
    checks: list[int] = []
    writer, client = writer_for(influxd, db, batch_size=10, checkpoint=lambda: checks.append(1))
    with client:
        stats = writer.write(points)
    assert (stats.points, stats.requests, stats.skipped) == (25, 3, 0)
    assert len(checks) == 3  # the watchdog is consulted between batches
    rows = influxd.series(db, "SELECT * FROM btcn WHERE \"source\" = 'bt run' ORDER BY time")
    assert [r["time"] for r in rows] == [p.ts for p in points]
    assert [r["nav_usdt"] for r in rows] == [p.fields["nav_usdt"] for p in points]
    assert [r["n"] for r in rows] == list(range(25))
    assert rows[3]["net_delta_btc"] == pytest.approx(-0.003, abs=0)


def test_missing_database_is_a_clear_error_and_not_retried(influxd) -> None:
    writer, client = writer_for(
        influxd, "no_such_db", policy=service_policy(retries=3, base_delay_s=5)
    )
    with client, pytest.raises(InfluxError, match=r"HTTP 404.*database not found") as err:
        writer.write([Point("m", {"v": 1.0}, 1)])
    assert err.value.hint and "exist" in err.value.hint


def _representable(text: str) -> bool:
    try:
        escape_key(text)
    except ValueError:
        return False
    return True


tag_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), st.sampled_from(' ,=\\"')
    ),
    min_size=1,
    max_size=12,
).filter(_representable)
field_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
    max_size=20,
)


@settings(max_examples=40)
@given(
    tag=tag_text, text=field_text, value=st.floats(allow_nan=False, allow_infinity=False, width=64)
)
def test_escaping_round_trips_through_influxd(influxd, tag: str, text: str, value: float) -> None:
    """Whatever the tag value and string field, influxd stores exactly what was sent."""
    db = getattr(test_escaping_round_trips_through_influxd, "_db", None)
    if db is None:
        db = new_db(influxd)
        test_escaping_round_trips_through_influxd._db = db  # type: ignore[attr-defined]
    ts = next(_db_counter)
    writer, client = writer_for(influxd, db)
    with client:
        writer.write([Point("rt m,1", {"s": text, "v": value}, ts, {"tag k": tag})])
    rows = influxd.series(db, f'SELECT * FROM "rt m,1" WHERE time = {ts}ms')
    assert len(rows) == 1
    assert rows[0]["tag k"] == tag
    assert rows[0]["s"] == text
    assert float(rows[0]["v"]) == value  # influxd prints integral floats as JSON integers


# --- retries and the 2.x contract -------------------------------------------------------------
def test_transient_failures_are_retried_then_succeed() -> None:
    answers = iter([(503, {"Retry-After": "0"}, b""), (500, {}, b'{"error":"x"}'), (204, {}, b"")])
    slept: list[float] = []
    with recording_server(lambda r: next(answers)) as srv, httpx.Client(trust_env=False) as c:
        w = InfluxWriter(InfluxTarget(srv.url), c, policy=service_policy(retries=3, base_delay_s=0.01),
                         sleep=slept.append)  # fmt: skip
        w.write([Point("m", {"v": 1.0}, 1)])
        assert len(srv.requests) == 3
        assert len({r.body for r in srv.requests}) == 1  # the same batch each time
    assert slept == [0.0, 0.02]  # Retry-After honoured, then exponential back-off


def test_retries_exhausted_raise_the_last_error() -> None:
    with (
        recording_server(lambda r: (502, {}, b"bad gateway")) as srv,
        httpx.Client(trust_env=False) as c,
    ):
        w = InfluxWriter(
            InfluxTarget(srv.url), c, policy=service_policy(retries=2), sleep=lambda s: None
        )
        with pytest.raises(InfluxError, match="HTTP 502: bad gateway"):
            w.write([Point("m", {"v": 1.0}, 1)])
        assert len(srv.requests) == 3


def test_network_errors_are_retried_and_reported_without_url() -> None:
    port_url = "http://127.0.0.1:9"  # discard port: nothing listens
    with httpx.Client(trust_env=False, timeout=2) as c:
        w = InfluxWriter(InfluxTarget(port_url, username="u", secret="pw-secret-123"), c,
                         policy=service_policy(retries=1), sleep=lambda s: None)  # fmt: skip
        with pytest.raises(InfluxError) as err:
            w.write([Point("m", {"v": 1.0}, 1)])
    assert "network error" in err.value.message
    assert "127.0.0.1" not in err.value.message and "pw-secret" not in err.value.message


def v2_contract(token: str):
    """InfluxDB 2.x write contract (docs: POST /api/v2/write): Token auth, org + bucket required,
    precision ns|us|ms|s, 204 on success, 401 JSON on bad token, 400 on a malformed line."""

    def respond(r):
        if r.path != "/api/v2/write" or r.method != "POST":
            return 404, {}, b'{"code":"not found","message":"path not found"}'
        if r.headers.get("authorization") != f"Token {token}":
            return (
                401,
                {"Content-Type": "application/json"},
                b'{"code":"unauthorized","message":"unauthorized access"}',
            )
        if not r.query.get("org") or not r.query.get("bucket"):
            return 400, {}, b'{"code":"invalid","message":"missing org or bucket"}'
        if r.query.get("precision", ["ns"])[0] not in ("ns", "us", "ms", "s"):
            return 400, {}, b'{"code":"invalid","message":"bad precision"}'
        for line in r.body.decode().splitlines():
            if len(line.split(" ")) < 2:
                return 400, {}, b'{"code":"invalid","message":"unable to parse"}'
        return 204, {}, b""

    return respond


def test_v2_write_follows_the_documented_contract() -> None:
    with recording_server(v2_contract("tok-123456")) as srv, httpx.Client(trust_env=False) as c:
        target = InfluxTarget(srv.url, api="v2", org="desk", bucket="btcn", secret="tok-123456")
        stats = InfluxWriter(target, c).write([Point("m", {"v": 1.0}, 5, {"s": "a"})])
        assert stats.requests == 1
        r = srv.requests[0]
        assert r.query == {"org": ["desk"], "bucket": ["btcn"], "precision": ["ms"]}
        assert r.headers["content-type"].startswith("text/plain")
        assert r.body == b"m,s=a v=1.0 5\n"
        bad = InfluxTarget(srv.url, api="v2", org="desk", bucket="btcn", secret="wrong-token")
        with pytest.raises(InfluxError, match="HTTP 401: unauthorized access") as err:
            InfluxWriter(bad, c).write([Point("m", {"v": 1.0}, 5)])
        assert "wrong-token" not in err.value.message
        assert len(srv.requests) == 2  # a 401 is not retried


def test_v1_basic_auth_when_username_set() -> None:
    with recording_server(lambda r: (204, {}, b"")) as srv, httpx.Client(trust_env=False) as c:
        InfluxWriter(InfluxTarget(srv.url, username="u", secret="p"), c).write(
            [Point("m", {"v": 1.0}, 5)]
        )
        assert srv.requests[0].headers["authorization"] == "Basic dTpw"
