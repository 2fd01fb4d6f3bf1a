"""Funding-rate history files.

Formats (detected from the header):

* Binance ``fundingTime,fundingRate,markPrice`` (``/fapi/v1/fundingRate``): times in ms with a few
  ms of jitter, snapped to the nearest whole hour (the funding slot); ``markPrice`` may be empty.
* Gate archive ``Symbol,Date,Funding Rate`` (``YYYY-MM-DD HH:MM:SS`` UTC).
* Gate/freqtrade ``date,funding_rate`` (ISO-8601 UTC).
* Parquet written by ``btcn fetch funding`` (``funding_time`` timestamp, ``funding_rate``,
  optional ``mark_price``).

Rates are fractions per funding interval; a positive rate means longs pay shorts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from btcn.data.inputs import expand_inputs
from btcn.data.timeparse import iso_utc, parse_data_timestamp_ms
from btcn.errors import InvalidInputError
from btcn.runtime.boundary import check_timestamp_ms, csv_rows, finite_float, read_parquet

HOUR_MS = 3_600_000
MAX_JITTER_MS = 60_000


@dataclass(frozen=True)
class Funding:
    time_ms: npt.NDArray[np.int64]
    rate: npt.NDArray[np.float64]
    mark_price: npt.NDArray[np.float64]  # NaN where the file has none
    digest: str
    sources: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.time_ms.shape[0])


def _snap(ts: int, name: str, lineno: int) -> int:
    slot = (ts + HOUR_MS // 2) // HOUR_MS * HOUR_MS
    if abs(ts - slot) > MAX_JITTER_MS:
        raise InvalidInputError(
            f"{name}: line {lineno}: funding time {iso_utc(ts)} is not on an hourly funding slot"
        )
    return slot


def _parse_csv(data: bytes, name: str) -> tuple[list[int], list[float], list[float]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{name}: not UTF-8 text") from exc
    rows = list(csv_rows(text, name))
    if not rows:
        raise InvalidInputError(f"{name}: the funding file is empty")
    header = [h.strip() for h in rows[0]]
    lower = [h.lower() for h in header]
    if lower[:2] == ["fundingtime", "fundingrate"]:
        t_col, r_col, m_col = 0, 1, 2 if len(lower) > 2 and lower[2] == "markprice" else None
    elif lower[:3] == ["symbol", "date", "funding rate"]:
        t_col, r_col, m_col = 1, 2, None
    elif lower[:2] == ["date", "funding_rate"]:
        t_col, r_col, m_col = 0, 1, None
    else:
        raise InvalidInputError(
            f"{name}: unrecognised funding header {','.join(header)!r}",
            hint="expected fundingTime,fundingRate,markPrice or Symbol,Date,Funding Rate "
            "or date,funding_rate",
        )
    times: list[int] = []
    rates: list[float] = []
    marks: list[float] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        try:
            ts = _snap(parse_data_timestamp_ms(row[t_col]), name, lineno)
            rate = float(row[r_col])
        except (ValueError, IndexError) as exc:
            raise InvalidInputError(
                f"{name}: line {lineno}: cannot read funding row: {exc}"
            ) from exc
        if math.isnan(rate):
            raise InvalidInputError(f"{name}: line {lineno}: funding rate is NaN")
        if not math.isfinite(rate):
            raise InvalidInputError(f"{name}: line {lineno}: funding rate is infinite")
        mark = float("nan")
        if m_col is not None and len(row) > m_col and row[m_col].strip():
            try:
                mark = finite_float(row[m_col])
            except ValueError as exc:
                raise InvalidInputError(
                    f"{name}: line {lineno}: bad markPrice {row[m_col]!r}"
                ) from exc
            if not mark > 0:
                raise InvalidInputError(f"{name}: line {lineno}: non-positive markPrice")
        times.append(ts)
        rates.append(rate)
        marks.append(mark)
    return times, rates, marks


def _parse_parquet(data: bytes, name: str) -> tuple[list[int], list[float], list[float]]:
    import pyarrow as pa

    try:
        table = read_parquet(data)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(f"{name}: not a readable Parquet file") from exc
    cols = set(table.column_names)
    if not {"funding_time", "funding_rate"} <= cols:
        raise InvalidInputError(f"{name}: Parquet funding needs funding_time and funding_rate")
    tcol = table.column("funding_time")
    try:
        if pa.types.is_timestamp(tcol.type):
            times = tcol.cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64()).to_pylist()
        else:
            times = tcol.cast(pa.int64()).to_pylist()
        rates = table.column("funding_rate").cast(pa.float64()).to_pylist()
        if "mark_price" in cols:
            marks = [
                float("nan") if m is None else m
                for m in table.column("mark_price").cast(pa.float64()).to_pylist()
            ]
        else:
            marks = [float("nan")] * len(times)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError) as exc:
        raise InvalidInputError(
            f"{name}: Parquet funding columns must be numbers (funding_time a timestamp "
            f"or integer ms): {str(exc).splitlines()[0][:200]}"
        ) from None
    for i, (t, r) in enumerate(zip(times, rates, strict=True)):
        if t is None or r is None or not math.isfinite(r):
            raise InvalidInputError(
                f"{name}: row {i + 1}: funding_time or funding_rate is empty or not finite"
            )
        try:
            check_timestamp_ms(t)
        except ValueError as exc:
            raise InvalidInputError(f"{name}: row {i + 1}: {exc}") from None
    return [_snap(t, name, i + 1) for i, t in enumerate(times)], rates, marks


# No venue lets a funding rate reach 100 % of notional per interval (Gate and Binance cap BTC at a
# few percent); a bigger figure is a unit error or a damaged file.
MAX_ABS_RATE = 1.0


def load_funding(spec: str | Path | Sequence[str | Path]) -> Funding:
    specs = [spec] if isinstance(spec, (str, Path)) else list(spec)
    files: list[Path] = []
    for s in specs:
        files.extend(expand_inputs(s, "funding"))
    digest = hashlib.sha256()
    times: list[int] = []
    rates: list[float] = []
    marks: list[float] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"funding: cannot read {path}: {exc.strerror}") from exc
        digest.update(data)
        if path.suffix.lower() in (".parquet", ".pq") or data[:4] == b"PAR1":
            t, r, m = _parse_parquet(data, str(path))
        else:
            t, r, m = _parse_csv(data, str(path))
        big = next((x for x in r if abs(x) > MAX_ABS_RATE), None)
        if big is not None:
            raise InvalidInputError(
                f"{path}: funding rate {big!r} is not plausible (its absolute value is above {MAX_ABS_RATE} "
                "per interval)",
                hint="funding rates are fractions per interval, e.g. 0.0001 for 0.01 %",
            )
        times += t
        rates += r
        marks += m
    ts = np.asarray(times, dtype=np.int64)
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    rate = np.asarray(rates, dtype=np.float64)[order]
    mark = np.asarray(marks, dtype=np.float64)[order]
    warnings: list[str] = []
    dup = np.flatnonzero(np.diff(ts) == 0)
    if dup.size:
        for i in dup:
            if rate[i] != rate[i + 1]:
                raise InvalidInputError(
                    f"funding: {iso_utc(int(ts[i]))} appears twice with different rates"
                )
        keep = np.ones(ts.shape[0], dtype=bool)
        keep[dup + 1] = False
        ts, rate, mark = ts[keep], rate[keep], mark[keep]
        warnings.append(
            f"funding: dropped {dup.size} duplicate funding row(s) with identical rates"
        )
    return Funding(
        ts, rate, mark, digest.hexdigest(), tuple(str(f) for f in files), tuple(warnings)
    )
