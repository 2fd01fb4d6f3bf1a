"""``sweep.parquet``: one row per evaluation (a point on a period), the file a sweep resumes from.

Columns (a contract; people script against them):

* ``row_id`` — stable hash of ``point_id`` + phase + period: the identity of the evaluation.
* ``point_id`` — stable hash of the point's effective settings (the ``strategy``, ``fees``,
  ``guardrails`` and ``backtest`` sections), the input data digest and the btcn version.
* ``point`` (plan order), ``phase`` (``full``, ``train`` or ``test``), ``window`` (-1 for
  ``full``), ``period_start``/``period_end`` (requested bounds, UTC; null = the data's edge).
* ``params`` — the point's swept values as canonical JSON, then one column per swept key, named by
  the key (``strategy.cooldown``).
* every column of ``summary.csv`` (:data:`btcn.contracts.tables.SUMMARY_COLUMNS`), null when the
  evaluation failed.
* ``status`` (``ok`` or ``failed``) and ``error`` (one line, null when ok).

Schema metadata: ``kind=sweep``, ``schema_version``, ``created_at_ms``, ``input_digest``,
``btcn_version``, ``metric`` and the grid. The file is always replaced atomically, so an
interrupted sweep leaves the previous complete file; a new run re-reads it and skips every row
already ``ok``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from btcn.contracts.tables import SUMMARY_COLUMNS
from btcn.errors import InvalidInputError
from btcn.runtime.boundary import read_parquet
from btcn.runtime.files import atomic_path

SWEEP_PARQUET = "sweep.parquet"
SWEEP_HTML = "sweep.html"
WALK_FORWARD_PARQUET = "walk_forward.parquet"
WALK_FORWARD_JSON = "walk_forward.json"
OOS_EQUITY_PARQUET = "oos_equity.parquet"
SCHEMA_VERSION = 1
# 2: per-window train_coverage/test_coverage, status low_coverage with its reason (keys added)
WALK_FORWARD_SCHEMA_VERSION = 2

TS = pa.timestamp("ms", tz="UTC")
INT_KPIS = ("bars", "trades", "blocked_trades", "rebalances")
STR_KPIS = ("start", "end")
NUMERIC_KPIS = tuple(k for k in SUMMARY_COLUMNS if k not in STR_KPIS)

HEAD = [("row_id", pa.string()), ("point_id", pa.string()), ("point", pa.int64()),
        ("phase", pa.string()), ("window", pa.int64()), ("period_start", TS),
        ("period_end", TS), ("params", pa.string())]  # fmt: skip
TAIL = [("status", pa.string()), ("error", pa.string())]


def kpi_type(name: str) -> pa.DataType:
    if name in STR_KPIS:
        return pa.string()
    return pa.int64() if name in INT_KPIS else pa.float64()


def param_type(values: Sequence[Any]) -> pa.DataType:
    """bool, int64, float64 when every value is one; otherwise text (JSON for non-strings)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.float64()
    return pa.string()


def param_cell(value: Any, typ: pa.DataType) -> Any:
    if value is None:
        return None
    if typ == pa.string():
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if typ == pa.float64():
        return float(value)
    return value


def schema(param_types: dict[str, pa.DataType], meta: dict[str, str]) -> pa.Schema:
    fields = [*HEAD, *param_types.items(), *((k, kpi_type(k)) for k in SUMMARY_COLUMNS), *TAIL]
    return pa.schema(fields, metadata=meta)


def metadata(*, created_at_ms: int, input_digest: str, version: str, metric: str,
             grid: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, str]:  # fmt: skip
    meta = {"kind": "sweep", "schema_version": str(SCHEMA_VERSION),
            "created_at_ms": str(created_at_ms), "input_digest": input_digest,
            "btcn_version": version, "metric": metric,
            "grid": json.dumps(grid, sort_keys=True, default=str)}  # fmt: skip
    for k, v in (extra or {}).items():
        meta[k] = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
    return meta


def to_table(rows: list[dict[str, Any]], param_types: dict[str, pa.DataType],
             meta: dict[str, str]) -> pa.Table:  # fmt: skip
    sch = schema(param_types, meta)
    cols = {name: [r.get(name) for r in rows] for name in sch.names}
    for k, typ in param_types.items():
        cols[k] = [param_cell(v, typ) for v in cols[k]]
    for k in NUMERIC_KPIS:
        if kpi_type(k) == pa.int64():
            cols[k] = [None if v is None else int(v) for v in cols[k]]
        else:
            cols[k] = [None if v is None else float(v) for v in cols[k]]
    return pa.Table.from_pydict(cols, schema=sch)


def write_table(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of an existing ``sweep.parquet`` (empty when there is none)."""
    if not path.exists():
        return []
    try:
        table = read_parquet(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(f"{path}: unreadable sweep file: {exc}") from exc
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    if meta.get("kind") != "sweep" or meta.get("schema_version") != str(SCHEMA_VERSION):
        raise InvalidInputError(
            f"{path}: not a btcn sweep file of schema {SCHEMA_VERSION}",
            hint="use another --out folder",
        )
    for k in ("period_start", "period_end"):
        if k in table.column_names:
            i = table.column_names.index(k)
            table = table.set_column(i, k, table.column(k).cast(pa.int64()))
    return table.to_pylist()


def is_better(a: float, b: float, maximize: bool) -> bool:
    return a > b if maximize else a < b


def finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
