"""Checks of the Arrow tables of a run folder (``equity.parquet``, ``trades.parquet``).

A run folder may be damaged or written by another tool; every reader (audit, report, monitor and
the live history) checks the tables here first, so that a text or null ``ts``, a year out of range,
a NaN or non-positive NAV becomes one line naming the file and the column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from btcn.contracts.limits import MAX_ARTIFACT_TS_MS, MIN_TS_MS
from btcn.errors import InvalidInputError


def _compatible(actual: pa.DataType, wanted: pa.DataType) -> bool:
    if pa.types.is_timestamp(wanted):
        return pa.types.is_timestamp(actual) or pa.types.is_integer(actual)
    if pa.types.is_floating(wanted) or pa.types.is_integer(wanted):
        return pa.types.is_floating(actual) or pa.types.is_integer(actual)
    if pa.types.is_string(wanted):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual)
    return actual.equals(wanted)


def check_types(table: pa.Table, schema: pa.Schema, source: str) -> None:
    """Every column of ``schema`` present in ``table`` has a compatible type."""
    for f in schema:
        if f.name in table.column_names:
            actual = table.schema.field(f.name).type
            if not _compatible(actual, f.type):
                raise InvalidInputError(f"{source}: column {f.name} is {actual}, expected {f.type}")
            if pa.types.is_string(f.type) and table.column(f.name).null_count:
                raise InvalidInputError(f"{source}: column {f.name} has empty values")


def time_ms(column: Any, source: str, name: str) -> np.ndarray:
    """A timestamp (or integer ms) column as int64 ms: no nulls, years 2009 to 2100."""
    if column.null_count:
        raise InvalidInputError(f"{source}: column {name} has empty values")
    typ = column.type
    if pa.types.is_timestamp(typ):
        raw = column.cast(pa.int64()).to_numpy().astype(np.int64)
        mul, div = {"s": (1000, 1), "ms": (1, 1), "us": (1, 1000), "ns": (1, 1_000_000)}[typ.unit]
        with np.errstate(over="ignore"):
            ms = raw * mul // div if mul == 1 else raw.astype(object) * mul
        ms = np.asarray(ms)
    elif pa.types.is_integer(typ):
        ms = column.cast(pa.int64()).to_numpy()
    else:
        values = column.cast(pa.float64()).to_numpy()
        finite = np.isfinite(values)
        bad = np.flatnonzero(~finite | (values != np.round(np.where(finite, values, 0))))
        if bad.size:
            raise InvalidInputError(
                f"{source}: column {name} row {int(bad[0]) + 1} is not a whole number of ms"
            )
        ms = values
    bad = np.flatnonzero((ms < MIN_TS_MS) | (ms > MAX_ARTIFACT_TS_MS))
    if bad.size:
        raise InvalidInputError(
            f"{source}: column {name} row {int(bad[0]) + 1} is not a time between 2009 and 2100"
        )
    return ms.astype(np.int64)


def check_nav(nav: np.ndarray, source: str) -> None:
    """NAV is finite and positive on every row: KPIs and returns divide by it."""
    bad = np.flatnonzero(~np.isfinite(nav))
    if bad.size:
        raise InvalidInputError(
            f"{source}: nav_usdt is not a finite number at row {int(bad[0]) + 1}"
        )
    bad = np.flatnonzero(nav <= 0)
    if bad.size:
        raise InvalidInputError(
            f"{source}: nav_usdt is {nav[bad[0]]:g} at row {int(bad[0]) + 1}; a run's NAV must "
            "stay positive"
        )
