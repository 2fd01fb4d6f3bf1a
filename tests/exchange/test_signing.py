"""Gate signatures: the published vectors, the official SDK as an oracle, re-signing per attempt."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from btcn.exchange.credentials import Credentials
from btcn.exchange.signing import EMPTY_BODY_SHA512, GateAuth, sign, signature_payload, split_target

VECTORS_PATH = Path("/work/shared/docs/gate_sign_vectors.json")
LOCAL_VECTORS = Path(__file__).with_name("gate_sign_vectors.json")


def _vectors() -> list[dict[str, str]]:
    return json.loads(LOCAL_VECTORS.read_text())


def test_local_copy_of_vectors_matches_the_shared_file() -> None:
    if not VECTORS_PATH.exists():
        pytest.skip("shared docs folder not present on this machine")
    assert json.loads(VECTORS_PATH.read_text()) == _vectors()


@pytest.mark.parametrize("vec", _vectors(), ids=lambda v: v["name"])
def test_signature_equals_every_vector(vec: dict[str, str]) -> None:
    got = sign(vec["secret"], vec["method"], vec["path"], vec["query"], vec["body"].encode(),
               vec["timestamp"])  # fmt: skip
    assert got == vec["expected_sign"]
    payload = signature_payload(vec["method"], vec["path"], vec["query"], vec["body"].encode(),
                                vec["timestamp"])  # fmt: skip
    assert payload.split("\n")[3] == vec["body_sha512"]


@pytest.mark.parametrize("vec", _vectors(), ids=lambda v: v["name"])
def test_auth_flow_signs_the_wire_request_like_the_vector(vec: dict[str, str]) -> None:
    """The httpx.Auth derives path, query and body hash from the request actually sent."""
    auth = GateAuth(Credentials(SecretStr(vec["key"]), SecretStr(vec["secret"])),
                    lambda: vec["timestamp"])  # fmt: skip
    url = "https://api.gateio.ws" + vec["path"] + ("?" + vec["query"] if vec["query"] else "")
    request = httpx.Request(vec["method"], url, content=vec["body"].encode())
    signed = next(auth.auth_flow(request))
    assert signed.headers["SIGN"] == vec["expected_sign"]
    assert signed.headers["KEY"] == vec["key"]
    assert signed.headers["Timestamp"] == vec["timestamp"]


def test_empty_body_hash_constant() -> None:
    assert EMPTY_BODY_SHA512.startswith("cf83e1357eefb8bd")


def test_split_target_decodes_the_query() -> None:
    assert split_target(b"/api/v4/spot/orders?a=1%2B2&b=x+y") == (
        "/api/v4/spot/orders",
        "a=1+2&b=x y",
    )
    assert split_target(b"/api/v4/spot/time") == ("/api/v4/spot/time", "")


def test_every_attempt_is_signed_afresh() -> None:
    """A retry builds a new request: new Timestamp, new SIGN (a stale one gets REQUEST_EXPIRED)."""
    times = iter(["1700000000", "1700000007"])
    auth = GateAuth(Credentials(SecretStr("k"), SecretStr("s")), lambda: next(times))
    first = next(auth.auth_flow(httpx.Request("GET", "http://x/api/v4/spot/accounts")))
    second = next(auth.auth_flow(httpx.Request("GET", "http://x/api/v4/spot/accounts")))
    assert first.headers["Timestamp"] != second.headers["Timestamp"]
    assert first.headers["SIGN"] != second.headers["SIGN"]


def test_repr_hides_credentials() -> None:
    creds = Credentials(SecretStr("my-key-123"), SecretStr("my-secret-456"))
    auth = GateAuth(creds, lambda: "0")
    for text in (repr(creds), str(creds), repr(auth)):
        assert "my-key-123" not in text and "my-secret-456" not in text


_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12)
_query = st.lists(st.tuples(_segment, st.text(alphabet="ABCXYZ_0123456789.-", max_size=10)),
                  max_size=4)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    segments=st.lists(_segment, min_size=1, max_size=4),
    query=_query,
    body=st.one_of(
        st.just(""),
        st.dictionaries(_segment, st.one_of(st.integers(), _segment), max_size=4).map(json.dumps),
    ),
    secret=st.text(alphabet="abcdef0123456789", min_size=8, max_size=64),
    ts=st.integers(min_value=1_500_000_000, max_value=2_100_000_000),
)
def test_signature_equals_the_official_sdk(method, segments, query, body, secret, ts) -> None:  # type: ignore[no-untyped-def]
    """Property: for any request, our signature equals ``gate_api.ApiClient.gen_sign``."""
    import gate_api
    from gate_api import api_client as sdk_client

    path = "/api/v4/" + "/".join(segments)
    query_text = "&".join(f"{k}={v}" for k, v in query)
    client = gate_api.ApiClient(gate_api.Configuration(key="k", secret=secret))
    with mock.patch.object(sdk_client.time, "time", return_value=ts):
        expected = client.gen_sign(method, path, query_text, body or None)
    assert expected["Timestamp"] == str(ts)
    assert sign(secret, method, path, query_text, body.encode(), str(ts)) == expected["SIGN"]
