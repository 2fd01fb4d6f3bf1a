from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from btcn.contracts.enums import Signal
from btcn.data.funding import load_funding
from btcn.data.signals import load_signals, parse_signals
from btcn.data.timeparse import iso_utc, parse_timestamp_ms
from btcn.errors import InvalidInputError
from tests.conftest import EXAMPLES, REAL_DATA


def test_signals_parse_iso_epoch_and_case() -> None:
    s = parse_signals(
        b"timestamp,signal\n2025-01-01T00:00:00Z,buy\n1735693200000,SELL\n2025-01-01 02:00:00,Hold\n\n",
        "s.csv",
    )
    assert s.values == (Signal.BUY, Signal.SELL, Signal.HOLD)
    assert s.timestamps_ms == (1735689600000, 1735693200000, 1735696800000)
    assert len(s) == 3


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (b"", "empty"),
        (b"time,value\n", "expected the header"),
        (b"timestamp,signal\n2025-01-01T00:00:00Z,\n", "line 2: empty signal value"),
        (b"timestamp,signal\n2025-01-01T00:00:00Z,MAYBE\n", "line 2: unknown signal 'MAYBE'"),
        (b"timestamp,signal\nyesterday,BUY\n", "line 2: not a timestamp"),
        (b"timestamp,signal\n2025-01-02,BUY\n2025-01-01,SELL\n", "line 3: out-of-order"),
        (b"timestamp,signal\n2025-01-01,BUY\n2025-01-01,SELL\n", "line 3: duplicate"),
        (b"timestamp,signal\n2025-01-01\n", "line 2: expected 'timestamp,signal'"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_signals(text: bytes, needle: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_signals(text, "s.csv")
    assert needle in err.value.message


def test_signal_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="file not found"):
        load_signals(tmp_path / "none.csv")
    assert len(load_signals(EXAMPLES / "signals.csv")) == 84


def test_timestamps() -> None:
    assert parse_timestamp_ms("1735689600") == 1735689600000
    assert parse_timestamp_ms("1735689600000000") == 1735689600000
    assert parse_timestamp_ms("2025-01-01T01:00:00+01:00") == 1735689600000
    assert iso_utc(1735689600000) == "2025-01-01T00:00:00Z"
    assert iso_utc(1735689600005) == "2025-01-01T00:00:00.005Z"
    with pytest.raises(ValueError, match="empty"):
        parse_timestamp_ms(" ")


def test_binance_funding_snaps_jitter_and_keeps_mark(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    p.write_text(
        "fundingTime,fundingRate,markPrice\n1735689600015,0.0001,93549.6\n1735718399998,-0.00002,\n"
    )
    f = load_funding(p)
    assert f.time_ms.tolist() == [1735689600000, 1735718400000]
    assert f.rate.tolist() == [0.0001, -0.00002]
    assert f.mark_price[0] == 93549.6 and f.mark_price[1] != f.mark_price[1]


def test_gate_funding_formats(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("Symbol,Date,Funding Rate\nBTC-USDT,2020-01-01 00:00:00,5e-05\n")
    b = tmp_path / "b.csv"
    b.write_text("date,funding_rate\n2025-01-01T08:00:00Z,0.0001\n")
    f = load_funding([a, b])
    assert f.rate.tolist() == [5e-05, 0.0001] and f.time_ms[1] == 1735718400000


def test_funding_parquet_and_duplicates(tmp_path: Path) -> None:
    t = pa.table({"funding_time": pa.array([1735689600000, 1735718400000], pa.timestamp("ms", tz="UTC")),
                  "funding_rate": [0.0001, 0.0002], "mark_price": [1.0, None]})  # fmt: skip
    pq.write_table(t, tmp_path / "f.parquet")
    (tmp_path / "g.csv").write_text("date,funding_rate\n2025-01-01T00:00:00Z,0.0001\n")
    f = load_funding([tmp_path / "f.parquet", tmp_path / "g.csv"])
    assert len(f) == 2 and f.warnings
    (tmp_path / "h.csv").write_text("date,funding_rate\n2025-01-01T00:00:00Z,0.0009\n")
    with pytest.raises(InvalidInputError, match="twice with different rates"):
        load_funding([tmp_path / "f.parquet", tmp_path / "h.csv"])


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("when,rate\n", "unrecognised funding header"),
        ("date,funding_rate\n2025-01-01T00:17:00Z,0.0001\n", "not on an hourly funding slot"),
        ("date,funding_rate\n2025-01-01T00:00:00Z,abc\n", "cannot read funding row"),
        ("date,funding_rate\n2025-01-01T00:00:00Z,nan\n", "NaN"),
        ("fundingTime,fundingRate,markPrice\n1735689600000,0.1,x\n", "bad markPrice"),
        ("fundingTime,fundingRate,markPrice\n1735689600000,0.1,-3\n", "non-positive markPrice"),
    ],
)
def test_bad_funding(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "f.csv"
    p.write_text(text)
    with pytest.raises(InvalidInputError, match=needle):
        load_funding(p)


def test_bad_funding_parquet(tmp_path: Path) -> None:
    pq.write_table(pa.table({"t": [1]}), tmp_path / "x.parquet")
    with pytest.raises(InvalidInputError, match="needs funding_time"):
        load_funding(tmp_path / "x.parquet")
    (tmp_path / "y.parquet").write_bytes(b"PAR1junk")
    with pytest.raises(InvalidInputError, match="not a readable Parquet"):
        load_funding(tmp_path / "y.parquet")
    pq.write_table(
        pa.table({"funding_time": [1735689600000], "funding_rate": [0.1]}), tmp_path / "z.parquet"
    )
    assert load_funding(tmp_path / "z.parquet").time_ms[0] == 1735689600000


def test_example_funding_month() -> None:
    f = load_funding(EXAMPLES / "data" / "funding")
    assert len(f) == 93 and (f.time_ms % (8 * 3_600_000) == 0).all()


@pytest.mark.skipif(not REAL_DATA.exists(), reason="shared real data not present")
def test_real_gate_funding_files_read() -> None:
    f = load_funding(REAL_DATA / "gateio" / "funding")
    assert len(f) == 5297
