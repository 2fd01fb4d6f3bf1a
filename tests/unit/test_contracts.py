from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from btcn.contracts import (
    ARTIFACTS,
    ExecutionReport,
    Plan,
    Snapshot,
    dump_json,
    json_digest,
    parse_artifact,
)
from btcn.errors import ExitCode, InvalidInputError
from tests.helpers import snapshot


def test_snapshot_round_trip_keeps_decimals_as_strings() -> None:
    snap = snapshot(p="101234.5678")
    text = dump_json(snap)
    raw = json.loads(text)
    assert raw["p_ref_usdt"] == "101234.5678"
    assert raw["kind"] == "snapshot" and raw["schema_version"] == 2
    again = parse_artifact(text, Snapshot)
    assert again == snap
    assert dump_json(again) == text


def test_models_are_frozen() -> None:
    snap = snapshot()
    with pytest.raises(ValidationError):
        snap.as_of_ms = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty input"),
        ("   \n", "empty input"),
        ("{not json", "malformed JSON at line 1"),
        ("[1, 2]", "expected a JSON object"),
        ('{"kind": "plan", "schema_version": 1}', "expected kind 'snapshot', got 'plan'"),
        ('{"schema_version": 1}', "expected kind 'snapshot', got None"),
        ('{"kind": "snapshot", "schema_version": 4}', "schema_version 4 is not supported"),
        ('{"kind": "snapshot", "schema_version": 1, "as_of_ms": 1}', "venue: Field required"),
    ],
)
def test_parse_errors_are_one_readable_line(text: str, needle: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_artifact(text, Snapshot, "snap.json")
    assert needle in err.value.message
    assert err.value.message.startswith("snap.json: ")
    assert "\n" not in err.value.message
    assert err.value.exit_code == ExitCode.INVALID_INPUT


def test_unknown_field_is_rejected() -> None:
    raw = json.loads(dump_json(snapshot()))
    raw["balances"]["spot_eth"] = "1"
    with pytest.raises(InvalidInputError, match=r"balances\.spot_eth: unknown field"):
        parse_artifact(json.dumps(raw), Snapshot)


def test_negative_balance_is_rejected() -> None:
    raw = json.loads(dump_json(snapshot()))
    raw["balances"]["spot_btc"] = "-0.1"
    with pytest.raises(InvalidInputError, match=r"balances\.spot_btc"):
        parse_artifact(json.dumps(raw), Snapshot)


def test_bytes_input_and_non_utf8() -> None:
    assert parse_artifact(dump_json(snapshot()).encode(), Snapshot).venue == "paper"
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        parse_artifact(b"\xff\xfe\x00", Snapshot)


def test_every_artifact_publishes_a_json_schema() -> None:
    for kind, model in ARTIFACTS.items():
        schema = model.model_json_schema()
        assert (
            schema["properties"]["kind"]["const"] == kind
            or schema["properties"]["kind"].get("default") == kind
        )
        assert "schema_version" in schema["required"] or "schema_version" in schema["properties"]


def test_json_digest_is_stable_and_content_sensitive() -> None:
    a = dump_json(snapshot())
    assert json_digest(a) == json_digest(a.encode())
    assert json_digest(a) != json_digest(dump_json(snapshot(p="100000.1")))
    assert len(json_digest(a)) == 64


def test_plan_and_report_require_their_kind() -> None:
    text = dump_json(snapshot())
    with pytest.raises(InvalidInputError, match="expected kind 'plan'"):
        parse_artifact(text, Plan)
    with pytest.raises(InvalidInputError, match="expected kind 'execution_report'"):
        parse_artifact(text, ExecutionReport)


def test_decimal_precision_survives() -> None:
    snap = snapshot(spot_btc="0.123456789012345678")
    back = parse_artifact(dump_json(snap), Snapshot)
    assert back.balances.spot_btc == Decimal("0.123456789012345678")


@pytest.mark.parametrize(
    ("value", "text"),
    [("100", "100"), ("1E+2", "100"), ("1095.9956500", "1095.99565"), ("0.000001", "0.000001"),
     ("-0.0", "0"), ("0E-8", "0"), ("-12.50", "-12.5"), ("Infinity", "Infinity")],
)  # fmt: skip
def test_decimals_are_written_in_plain_notation(value: str, text: str) -> None:
    from btcn.contracts.base import decimal_text

    assert decimal_text(Decimal(value)) == text
    snap = snapshot(spot_btc="0.5000", futures_usdt="100")
    raw = json.loads(dump_json(snap))
    assert raw["balances"]["spot_btc"] == "0.5" and raw["balances"]["futures_usdt"] == "100"
