"""Candle files in, one validated OHLCV series out.

Accepted formats (detected per file):

* Binance kline CSV exactly as published (12 columns): spot files without a header, futures files
  with the ``open_time,...`` header; open times in milliseconds, or in microseconds (Binance spot
  archives from 2025-01 on) — a first open time above 10^14 means microseconds.
* ``date,open,high,low,close,volume`` CSV with ISO-8601 UTC open times (freqtrade exports).
* Parquet with an open-time column (``open_time``, ``date`` or ``timestamp``; a timestamp type or
  integer milliseconds) and ``open, high, low, close, volume`` (what ``btcn fetch candles`` writes).

Checks, and what happens when one fails (all messages name the file and the bar):

* NaN, non-positive prices, ``low > min(open, close)`` or ``high < max(open, close)``: error.
* rows out of order inside a file, or a timestamp off the bar grid: error.
* the same bar twice with identical values (overlapping files): repaired by keeping one, with a
  warning; the same bar twice with different values: error.
* gaps (missing bars): an error for ``btcn plan``; for the backtest a warning naming each gap. Gaps
  are never interpolated: positions are held across them and the ATR history restarts after them.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from btcn.contracts.limits import MIN_TS_MS
from btcn.data.inputs import expand_inputs
from btcn.errors import InvalidInputError
from btcn.runtime.boundary import max_plausible_ms, native_reader, read_parquet

BINANCE_COLUMNS = [
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
    "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore",
]  # fmt: skip
MICROSECOND_CUTOFF = 10**14
OHLCV = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Gap:
    after_open_ms: int  # open time of the last bar before the gap
    before_open_ms: int  # open time of the first bar after the gap
    missing_bars: int


@dataclass(frozen=True)
class Candles:
    """A validated, sorted OHLCV series. ``open_ms`` is the bar open time in UTC milliseconds."""

    open_ms: npt.NDArray[np.int64]
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    volume: npt.NDArray[np.float64]
    bar_ms: int
    digest: str
    sources: tuple[str, ...]
    gaps: tuple[Gap, ...] = ()
    warnings: tuple[str, ...] = field(default=())  # file notes, then one line per gap
    what: str = "candles"

    def __len__(self) -> int:
        return int(self.open_ms.shape[0])

    @property
    def last_close_ms(self) -> int:
        return int(self.open_ms[-1]) + self.bar_ms

    def segments(self) -> list[tuple[int, int]]:
        """``[start, stop)`` index ranges of the contiguous stretches between gaps."""
        if len(self) == 0:
            return []
        breaks = np.flatnonzero(np.diff(self.open_ms) != self.bar_ms) + 1
        bounds = [0, *breaks.tolist(), len(self)]
        return list(itertools.pairwise(bounds))

    def slice(self, start: int, stop: int) -> Candles:
        return Candles(
            self.open_ms[start:stop], self.open[start:stop], self.high[start:stop],
            self.low[start:stop], self.close[start:stop], self.volume[start:stop],
            self.bar_ms, self.digest, self.sources, self.gaps, self.warnings, self.what,
        )  # fmt: skip

    def window(self, start_ms: int | None, end_ms: int | None) -> Candles:
        """The bars opening in ``[start_ms, end_ms)``, with the gaps and gap warnings of that
        span only: a check or a warning speaks of the period run, never of bars outside it."""
        lo = 0 if start_ms is None else int(np.searchsorted(self.open_ms, start_ms))
        hi = len(self) if end_ms is None else int(np.searchsorted(self.open_ms, end_ms))
        if lo == 0 and hi == len(self):
            return self
        cut = self.slice(lo, hi)
        old = set(gap_warnings(self.what, self.gaps))
        notes = tuple(w for w in self.warnings if w not in old)
        gaps = find_gaps(cut.open_ms, self.bar_ms)
        return replace(cut, gaps=gaps, warnings=notes + gap_warnings(self.what, gaps))


def find_gaps(ts: npt.NDArray[np.int64], bar_ms: int) -> tuple[Gap, ...]:
    """Every run of missing bars between consecutive open times."""
    steps = np.diff(ts)
    gap_idx = np.flatnonzero(steps != bar_ms)
    return tuple(Gap(int(ts[i]), int(ts[i + 1]), int(steps[i] // bar_ms) - 1) for i in gap_idx)


def gap_text(g: Gap) -> str:
    return (
        f"gap of {g.missing_bars} bar(s) between {_iso(g.after_open_ms)} and "
        f"{_iso(g.before_open_ms)}"
    )


def gap_warnings(what: str, gaps: Sequence[Gap]) -> tuple[str, ...]:
    return tuple(
        f"{what}: {gap_text(g)}: not interpolated; positions are held across it and the ATR "
        "history restarts after it"
        for g in gaps
    )


def _iso(ms: int) -> str:
    unit = "s" if int(ms) % 1000 == 0 else "ms"
    value = int(ms) // 1000 if unit == "s" else int(ms)
    return np.datetime64(value, unit).astype(str).replace("T", " ") + " UTC"


def _read_csv_table(data: bytes, name: str) -> dict[str, np.ndarray]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    first_line = data.split(b"\n", 1)[0].strip().lower()
    if not first_line:
        raise InvalidInputError(f"{name}: the file is empty")
    try:
        if first_line[:1].isdigit():
            ncols = first_line.count(b",") + 1
            if ncols != len(BINANCE_COLUMNS):
                raise InvalidInputError(
                    f"{name}: headerless CSV with {ncols} columns; expected the 12 Binance kline columns"
                )
            table = pacsv.read_csv(
                native_reader(data),  # not Python bytes: see runtime.boundary.read_parquet
                read_options=pacsv.ReadOptions(column_names=BINANCE_COLUMNS, use_threads=False),
                convert_options=pacsv.ConvertOptions(
                    include_columns=["open_time", *OHLCV],
                    column_types={"open_time": pa.int64(), **{c: pa.float64() for c in OHLCV}},
                ),
            )
            return _binance_arrays(table, name)
        header = [h.strip() for h in first_line.decode("utf-8", "replace").split(",")]
        if header[:6] == BINANCE_COLUMNS[:6]:
            table = pacsv.read_csv(
                native_reader(data),  # not Python bytes: see runtime.boundary.read_parquet
                read_options=pacsv.ReadOptions(use_threads=False),
                convert_options=pacsv.ConvertOptions(
                    include_columns=["open_time", *OHLCV],
                    column_types={"open_time": pa.int64(), **{c: pa.float64() for c in OHLCV}},
                ),
            )
            return _binance_arrays(table, name)
        if header[:6] == ["date", *OHLCV]:
            table = pacsv.read_csv(
                native_reader(data),  # not Python bytes: see runtime.boundary.read_parquet
                read_options=pacsv.ReadOptions(use_threads=False),
                convert_options=pacsv.ConvertOptions(
                    include_columns=["date", *OHLCV],
                    column_types={
                        "date": pa.timestamp("ms", tz="UTC"),
                        **{c: pa.float64() for c in OHLCV},
                    },
                ),
            )
            ts = column_numpy(table.column("date"), np.int64)
            return {"open_ms": ts, **{c: column_numpy(table.column(c)) for c in OHLCV}}
    except pa.ArrowInvalid as exc:
        raise InvalidInputError(f"{name}: cannot parse CSV: {_first_line(exc)}") from exc
    raise InvalidInputError(
        f"{name}: unrecognised candle CSV header {','.join(header[:6])!r}",
        hint="expected Binance kline columns or date,open,high,low,close,volume",
    )


def column_numpy(column: object, dtype: type = np.float64) -> np.ndarray:
    """A numeric Arrow column as a NumPy array, nulls as NaN (floats).

    Reads the Arrow buffers directly: ``pyarrow.Array.to_numpy`` imports pandas, which would cost
    ``btcn plan`` a third of a second of start-up.
    """
    import pyarrow as pa

    target = pa.float64() if dtype is np.float64 else pa.int64()
    chunks = []
    for chunk in column.cast(target).chunks:  # type: ignore[attr-defined]
        values = np.frombuffer(
            chunk.buffers()[1], dtype=dtype, count=len(chunk), offset=chunk.offset * 8
        )
        if chunk.null_count:
            if dtype is not np.float64:
                raise InvalidInputError("a timestamp column has empty values")
            valid = np.unpackbits(
                np.frombuffer(chunk.buffers()[0], dtype=np.uint8), bitorder="little"
            )
            values = np.where(
                valid[chunk.offset : chunk.offset + len(chunk)].astype(bool), values, np.nan
            )
        chunks.append(values)
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _binance_arrays(table: object, name: str) -> dict[str, np.ndarray]:
    ts = column_numpy(table.column("open_time"), np.int64)  # type: ignore[attr-defined]
    if ts.shape[0] and ts[0] >= MICROSECOND_CUTOFF:
        if (ts < MICROSECOND_CUTOFF).any():
            raise InvalidInputError(f"{name}: mixes millisecond and microsecond timestamps")
        if (ts % 1000 != 0).any():
            raise InvalidInputError(f"{name}: microsecond open times are not whole milliseconds")
        ts = ts // 1000
    elif (ts >= MICROSECOND_CUTOFF).any():
        raise InvalidInputError(f"{name}: mixes millisecond and microsecond timestamps")
    return {"open_ms": ts, **{c: column_numpy(table.column(c)) for c in OHLCV}}  # type: ignore[attr-defined]


def _read_parquet_table(data: bytes, name: str) -> dict[str, np.ndarray]:
    import pyarrow as pa

    try:
        table = read_parquet(data)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(f"{name}: not a readable Parquet file: {_first_line(exc)}") from exc
    cols = {c.lower(): c for c in table.column_names}
    tcol = next((cols[c] for c in ("open_time", "date", "timestamp", "ts") if c in cols), None)
    missing = [c for c in OHLCV if c not in cols]
    if tcol is None or missing:
        raise InvalidInputError(
            f"{name}: Parquet needs an open_time (or date) column and {', '.join(OHLCV)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
        )
    tarr = table.column(tcol)
    try:
        if pa.types.is_timestamp(tarr.type):
            ts = column_numpy(tarr.cast(pa.timestamp("ms", tz="UTC")), np.int64)
        elif pa.types.is_integer(tarr.type):
            ts = column_numpy(tarr, np.int64)
            if ts.shape[0] and ts[0] >= MICROSECOND_CUTOFF:
                ts = ts // 1000
        else:
            raise InvalidInputError(
                f"{name}: column {tcol} must be a timestamp or integer milliseconds"
            )
    except InvalidInputError as exc:
        if exc.message.startswith(name):
            raise
        raise InvalidInputError(f"{name}: column {tcol}: {exc.message}") from None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name}: column {tcol}: {_first_line(exc)[:200]}") from None
    out = {"open_ms": np.asarray(ts, dtype=np.int64)}
    for c in OHLCV:
        try:
            out[c] = column_numpy(table.column(cols[c]))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"{name}: column {cols[c]} is not numeric: {_first_line(exc)[:200]}"
            ) from None
    return out


def _validate_file(arr: dict[str, np.ndarray], name: str) -> None:
    ts = arr["open_ms"]
    if ts.shape[0] == 0:
        raise InvalidInputError(f"{name}: the file holds no candles")
    bad = np.flatnonzero((ts < MIN_TS_MS) | (ts > max_plausible_ms()))
    if bad.size:
        raise InvalidInputError(
            f"{name}: open time {int(ts[bad[0]])} at row {bad[0] + 1} is not a time between "
            "2009-01-01 and tomorrow"
        )
    for c in OHLCV:
        bad = np.flatnonzero(np.isnan(arr[c]))
        if bad.size:
            raise InvalidInputError(f"{name}: NaN {c} at bar {_iso(ts[bad[0]])} (row {bad[0] + 1})")
        bad = np.flatnonzero(np.isinf(arr[c]))
        if bad.size:
            raise InvalidInputError(
                f"{name}: infinite {c} at bar {_iso(ts[bad[0]])} (row {bad[0] + 1})"
            )
    prices = np.vstack([arr[c] for c in ("open", "high", "low", "close")])
    bad = np.flatnonzero((prices <= 0).any(axis=0))
    if bad.size:
        raise InvalidInputError(
            f"{name}: non-positive price at bar {_iso(ts[bad[0]])} (row {bad[0] + 1})"
        )
    if (arr["volume"] < 0).any():
        i = int(np.flatnonzero(arr["volume"] < 0)[0])
        raise InvalidInputError(f"{name}: negative volume at bar {_iso(ts[i])} (row {i + 1})")
    lo_ok = arr["low"] <= np.minimum(arr["open"], arr["close"])
    hi_ok = arr["high"] >= np.maximum(arr["open"], arr["close"])
    bad = np.flatnonzero(~(lo_ok & hi_ok))
    if bad.size:
        raise InvalidInputError(
            f"{name}: inconsistent OHLC (low/high do not bracket open/close) at bar {_iso(ts[bad[0]])}"
        )
    steps = np.diff(ts)
    back = np.flatnonzero(steps <= 0)
    if back.size:
        i = int(back[0]) + 1
        what = "duplicate" if steps[back[0]] == 0 else "out-of-order"
        raise InvalidInputError(
            f"{name}: {what} timestamp {_iso(ts[i])} at row {i + 1}",
            hint="rows must be sorted by open time, one row per bar",
        )


def _bar_ms(ts: np.ndarray, name: str) -> int:
    steps = np.diff(ts)
    if steps.size == 0:
        raise InvalidInputError(f"{name}: need at least two candles to know the bar interval")
    values, counts = np.unique(steps[steps > 0], return_counts=True)
    if values.size == 0:  # e.g. one bar given twice: still one distinct bar
        raise InvalidInputError(f"{name}: need at least two candles to know the bar interval")
    return int(values[np.argmax(counts)])


def load_candles(
    spec: str | Path | Sequence[str | Path],
    *,
    gaps: Literal["error", "warn"] = "error",
    what: str = "candles",
) -> Candles:
    """Read, concatenate and validate candle files; see the module docstring for the rules."""
    specs = [spec] if isinstance(spec, (str, Path)) else list(spec)
    files: list[Path] = []
    for s in specs:
        files.extend(expand_inputs(s, what))
    digest = hashlib.sha256()
    parts: list[dict[str, np.ndarray]] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"{what}: cannot read {path}: {exc.strerror}") from exc
        digest.update(data)
        name = str(path)
        if path.suffix.lower() in (".parquet", ".pq") or data[:4] == b"PAR1":
            arr = _read_parquet_table(data, name)
        else:
            arr = _read_csv_table(data, name)
        _validate_file(arr, name)
        arr["_name"] = np.array([name])
        parts.append(arr)
    parts.sort(key=lambda a: int(a["open_ms"][0]))
    ts = np.concatenate([p["open_ms"] for p in parts]).astype(np.int64)
    cols = {c: np.concatenate([p[c] for p in parts]).astype(np.float64) for c in OHLCV}
    label = files[0].name if len(files) == 1 else f"{len(files)} files ({files[0].name} ...)"
    bar = _bar_ms(ts, label)
    warnings: list[str] = []

    steps = np.diff(ts)
    if (steps <= 0).any():
        # Only possible across files: overlapping months. Keep identical duplicates once.
        order = np.argsort(ts, kind="stable")
        ts = ts[order]
        cols = {c: v[order] for c, v in cols.items()}
        dup = np.flatnonzero(np.diff(ts) == 0)
        for i in dup:
            same = all(cols[c][i] == cols[c][i + 1] for c in OHLCV)
            if not same:
                raise InvalidInputError(
                    f"{what}: bar {_iso(ts[i])} appears twice with different values in {label}"
                )
        if dup.size:
            keep = np.ones(ts.shape[0], dtype=bool)
            keep[dup + 1] = False
            ts = ts[keep]
            cols = {c: v[keep] for c, v in cols.items()}
            warnings.append(
                f"{what}: dropped {dup.size} duplicate bar(s) with identical values "
                "(overlapping files)"
            )
        steps = np.diff(ts)

    off_grid = np.flatnonzero(steps % bar != 0)
    if off_grid.size:
        i = int(off_grid[0]) + 1
        raise InvalidInputError(f"{what}: bar {_iso(ts[i])} is off the {bar // 1000}s bar grid")
    found = find_gaps(ts, bar)
    if found and gaps == "error":
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise InvalidInputError(
            f"{what}: {gap_text(found[0])}{more}",
            hint="supply contiguous candles; missing bars are never interpolated",
        )
    warnings.extend(gap_warnings(what, found))
    return Candles(
        open_ms=ts, bar_ms=bar, digest=digest.hexdigest(),
        sources=tuple(str(f) for f in files), gaps=found, warnings=tuple(warnings), what=what,
        **cols,
    )  # fmt: skip
