from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from btcn.data.candles import load_candles
from btcn.errors import InvalidInputError
from tests.conftest import EXAMPLES, REAL_DATA
from tests.helpers import BAR_MS, T0, write_binance_csv

CLOSES = [100.0, 101.0, 102.5, 101.5, 103.0, 104.0]


def test_binance_headerless_ms(tmp_path: Path) -> None:
    c = load_candles(write_binance_csv(tmp_path / "a.csv", CLOSES))
    assert len(c) == 6 and c.bar_ms == BAR_MS and c.open_ms[0] == T0
    assert c.close.tolist() == CLOSES
    assert c.last_close_ms == T0 + 6 * BAR_MS


def test_binance_microseconds_are_detected(tmp_path: Path) -> None:
    a = load_candles(write_binance_csv(tmp_path / "ms.csv", CLOSES))
    b = load_candles(write_binance_csv(tmp_path / "us.csv", CLOSES, micro=True))
    assert np.array_equal(a.open_ms, b.open_ms)


def test_binance_with_header(tmp_path: Path) -> None:
    c = load_candles(write_binance_csv(tmp_path / "h.csv", CLOSES, header=True))
    assert len(c) == 6


def test_iso_date_csv(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text(
        "date,open,high,low,close,volume\n"
        "2025-01-01T00:00:00Z,1,2,0.5,1.5,3\n2025-01-01T00:05:00Z,1.5,2,1,1.8,3\n"
    )
    c = load_candles(p)
    assert c.open_ms.tolist() == [T0, T0 + BAR_MS] and c.close.tolist() == [1.5, 1.8]


def test_parquet_round_trip(tmp_path: Path) -> None:
    src = load_candles(write_binance_csv(tmp_path / "a.csv", CLOSES))
    table = pa.table({
        "open_time": pa.array(src.open_ms, pa.timestamp("ms", tz="UTC")),
        "open": src.open, "high": src.high, "low": src.low, "close": src.close, "volume": src.volume,
    })  # fmt: skip
    pq.write_table(table, tmp_path / "c.parquet")
    c = load_candles(tmp_path / "c.parquet")
    assert np.array_equal(c.open_ms, src.open_ms) and np.array_equal(c.close, src.close)
    pq.write_table(
        table.set_column(0, "open_time", pa.array(src.open_ms, pa.int64())), tmp_path / "i.parquet"
    )
    assert np.array_equal(load_candles(tmp_path / "i.parquet").open_ms, src.open_ms)


def test_folder_and_glob_concatenate_in_time_order(tmp_path: Path) -> None:
    d = tmp_path / "months"
    d.mkdir()
    write_binance_csv(d / "b.csv", CLOSES[3:], t0=T0 + 3 * BAR_MS)
    write_binance_csv(d / "a.csv", CLOSES[:3])
    assert load_candles(d).close.tolist() == CLOSES
    assert load_candles(str(d / "*.csv")).close.tolist() == CLOSES


def test_identical_overlap_is_repaired_with_a_warning(tmp_path: Path) -> None:
    rows = _rows(write_binance_csv(tmp_path / "full.csv", CLOSES))
    (tmp_path / "a.csv").write_text("\n".join(rows[:4]) + "\n")
    (tmp_path / "b.csv").write_text("\n".join(rows[2:]) + "\n")
    c = load_candles([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert len(c) == 6
    assert any("duplicate" in w for w in c.warnings)


def test_conflicting_overlap_is_an_error(tmp_path: Path) -> None:
    write_binance_csv(tmp_path / "a.csv", CLOSES[:4])
    write_binance_csv(tmp_path / "b.csv", [c + 1 for c in CLOSES[2:]], t0=T0 + 2 * BAR_MS)
    with pytest.raises(InvalidInputError, match="appears twice with different values"):
        load_candles([tmp_path / "a.csv", tmp_path / "b.csv"])


def _rows(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda r: [r[0], r[2], r[1], *r[3:]], "out-of-order timestamp"),
        (lambda r: [r[0], r[0], *r[1:]], "duplicate timestamp"),
        (lambda r: [r[0].replace(",100.00,", ",nan,", 1), *r[1:]], "NaN open"),
        (lambda r: [r[0].replace(",100.00,", ",-1.00,", 1), *r[1:]], "non-positive price"),
        (lambda r: [r[0], r[1].replace(",101.00,", ",,", 1), *r[2:]], "NaN close"),
        (lambda r: [r[0].replace(",1.5,", ",-1.5,", 1), *r[1:]], "negative volume"),
        (lambda r: [*r[:2], *r[3:]], "gap of 1 bar"),
        (lambda r: [], "empty"),
        (lambda r: [",".join(r[0].split(",")[:6])], "headerless CSV with 6 columns"),
        (lambda r: ["when,o,h,l,c,v", *r], "unrecognised candle CSV header"),
    ],
)
def test_bad_candles_are_clear_errors(tmp_path: Path, mutate, needle: str) -> None:
    p = write_binance_csv(tmp_path / "x.csv", CLOSES)
    p.write_text("\n".join(mutate(_rows(p))) + "\n")
    with pytest.raises(InvalidInputError) as err:
        load_candles(p)
    assert needle in err.value.message
    assert "\n" not in err.value.message


def test_inconsistent_ohlc(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text(
        "date,open,high,low,close,volume\n2025-01-01T00:00:00Z,1,1.2,0.5,1.5,3\n2025-01-01T00:05:00Z,1,2,1,1,1\n"
    )
    with pytest.raises(InvalidInputError, match="inconsistent OHLC"):
        load_candles(p)


def test_off_grid_bar(tmp_path: Path) -> None:
    write_binance_csv(tmp_path / "a.csv", CLOSES[:3])
    write_binance_csv(tmp_path / "b.csv", CLOSES[:3], t0=T0 + 3 * BAR_MS + 1000)
    with pytest.raises(InvalidInputError, match="off the 300s bar grid"):
        load_candles([tmp_path / "a.csv", tmp_path / "b.csv"])


def test_gaps_are_warned_and_segmented_when_allowed(tmp_path: Path) -> None:
    write_binance_csv(tmp_path / "a.csv", CLOSES[:3])
    write_binance_csv(tmp_path / "b.csv", CLOSES[3:], t0=T0 + 10 * BAR_MS)
    files = [tmp_path / "a.csv", tmp_path / "b.csv"]
    with pytest.raises(InvalidInputError, match="gap of 7 bar"):
        load_candles(files)
    c = load_candles(files, gaps="warn")
    assert c.gaps[0].missing_bars == 7 and "not interpolated" in c.warnings[0]
    assert c.segments() == [(0, 3), (3, 6)]


def test_missing_inputs(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="file not found"):
        load_candles(tmp_path / "none.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match=r"holds no \.csv"):
        load_candles(tmp_path / "empty")
    with pytest.raises(InvalidInputError, match="no file matches"):
        load_candles(str(tmp_path / "*.zzz"))
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InvalidInputError, match="not a readable Parquet"):
        load_candles(tmp_path / "bad.parquet")
    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "cols.parquet")
    with pytest.raises(InvalidInputError, match="Parquet needs an open_time"):
        load_candles(tmp_path / "cols.parquet")
    pq.write_table(pa.table({"open_time": ["a"], "open": [1.0], "high": [1.0], "low": [1.0],
                             "close": [1.0], "volume": [1.0]}), tmp_path / "str.parquet")  # fmt: skip
    with pytest.raises(InvalidInputError, match="timestamp or integer"):
        load_candles(tmp_path / "str.parquet")


def test_single_bar_cannot_define_the_interval(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="at least two candles"):
        load_candles(write_binance_csv(tmp_path / "one.csv", CLOSES[:1]))


def test_bundled_example_month_reads_cleanly() -> None:
    spot = load_candles(EXAMPLES / "data" / "spot_5m")
    perp = load_candles(EXAMPLES / "data" / "perp_5m")
    assert len(spot) == len(perp) == 31 * 288
    assert np.array_equal(spot.open_ms, perp.open_ms)
    assert not spot.warnings and not perp.warnings


@pytest.mark.skipif(not REAL_DATA.exists(), reason="shared real data not present")
def test_real_data_mixed_formats_join_with_only_the_april_gap(tmp_path: Path) -> None:
    # 2024-12 (ms, headerless) + 2025-01..02 (µs) + 2025-03 (ISO) + 2025-05 (ISO): one gap (April).
    for name in ("vision/BTCUSDT-5m-2024-12.csv", "vision/BTCUSDT-5m-2025-01.csv",
                 "vision/BTCUSDT-5m-2025-02.csv", "ohlcv/BTCUSDT-5m-2025-03.csv",
                 "ohlcv/BTCUSDT-5m-2025-05.csv"):  # fmt: skip
        shutil.copy(REAL_DATA / "spot_5m" / name, tmp_path / Path(name).name)
    c = load_candles(tmp_path, gaps="warn")
    assert len(c.gaps) == 1 and c.gaps[0].missing_bars == 30 * 288
    assert len(c) == (31 + 31 + 28 + 31 + 31) * 288
