"""Reading user files at the boundary: TOML, CSV text and timestamps, with honest limits.

Every helper turns a failure into one :class:`~btcn.errors.BtcnError` line that names the file
(and the key, line or field), never an internal error. The limits are documented in the manual's
troubleshooting section; see also :mod:`btcn.contracts.limits` for the pure checks.
"""

from __future__ import annotations

import csv
import io
import math
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from btcn.contracts.limits import DAY_MS, MAX_NESTING, non_finite_path, tree_depth, ts_problem
from btcn.errors import BtcnError, InvalidInputError

CSV_FIELD_LIMIT = 128 * 1024  # Python's csv default; stated, so that the message can name it
MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024  # configs, grids, targets, signal files, artefacts


def max_plausible_ms() -> int:
    """Latest plausible timestamp in a data file: one day after now."""
    return int(time.time() * 1000) + DAY_MS


def check_timestamp_ms(ms: int) -> int:
    """``ms`` if it lies between 2009-01-01 and tomorrow, else ValueError (callers word it)."""
    problem = ts_problem(ms, max_plausible_ms())
    if problem:
        raise ValueError(f"timestamp {ms} {problem}")
    return ms


def parse_toml(
    text: str, source: str, error: type[BtcnError], *, allow_non_finite: bool = False
) -> dict[str, Any]:
    """Parse TOML text: syntax, nesting depth and (unless allowed) NaN/inf values are checked."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: invalid TOML: {exc}") from exc
    except RecursionError:  # tomllib recurses per nested array or inline table
        raise error(f"{source}: TOML nested deeper than {MAX_NESTING} levels") from None
    if tree_depth(data) > MAX_NESTING:
        raise error(f"{source}: TOML nested deeper than {MAX_NESTING} levels")
    if not allow_non_finite:
        where = non_finite_path(data)
        if where is not None:
            raise error(f"{source}: {where}: nan and inf are not accepted")
    return data


def read_text_file(path: Path, what: str, error: type[BtcnError] = InvalidInputError) -> str:
    """A UTF-8 text file of at most :data:`MAX_TEXT_FILE_BYTES`, as text."""
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_FILE_BYTES:
            raise error(f"{what}: {path} is larger than {MAX_TEXT_FILE_BYTES // 2**20} MiB")
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{what}: {path} is not UTF-8 text") from exc


def csv_rows(text: str, name: str) -> Iterator[list[str]]:
    """Rows of CSV text; a malformed row or a field over 128 KiB is one InvalidInputError."""
    reader = csv.reader(io.StringIO(text))
    previous = csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidInputError(
                    f"{name}: line {reader.line_num}: malformed CSV (a field over "
                    f"{CSV_FIELD_LIMIT // 1024} KiB, or a stray quote): {exc}"
                ) from None
            yield row
    finally:
        csv.field_size_limit(previous)


def finite_float(text: str) -> float:
    """A finite float from text; ValueError otherwise (``inf`` and ``nan`` included)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text.strip()!r} is not a finite number")
    return value


def env_error_line(exc: Exception) -> str:
    """One line for a ``BTCN_*`` value pydantic-settings could not parse (it names the field)."""
    import re

    match = re.search(r'field "([^"]+)"', str(exc))
    field = match.group(1) if match else "?"
    return (
        f"BTCN_* environment: cannot parse the value given for '{field}' "
        "(a list or table setting needs JSON, e.g. "
        'BTCN_STRATEGY__TARGETS=\'{"BTC_SPOT": 0.5, "BTC_PERP_SHORT": 0.5}\')'
    )


def read_parquet(source: bytes | str | Path) -> Any:
    """Read one Parquet file on the calling thread, leaving no Arrow thread behind.

    ``pyarrow.parquet.read_table`` goes through the dataset scanner, whose pool threads may drop
    the last reference to the file reader *after* ``read_table`` has returned. When the source
    is Python ``bytes`` (or a Python file object) that destructor needs the GIL; if it runs while
    the interpreter finalises, right after a quick error line, the thread is stopped by
    ``pthread_exit`` inside a C++ destructor and the process aborts with ``terminate called
    without an active exception`` (exit 134, about 1 run in 20 on a loaded machine; seen with
    gdb: ``~FileReaderImpl -> ~BufferReader -> ~PyBuffer -> PyGILState_Ensure -> pthread_exit``).
    ``ParquetFile.read`` reads synchronously and is closed here, and bytes are first copied into
    an Arrow-owned buffer, so nothing that needs Python outlives this call.
    """
    import pyarrow.parquet as pq

    if isinstance(source, bytes):
        src: Any = native_reader(source)
    else:
        src = str(source)
    with pq.ParquetFile(src, pre_buffer=False) as pf:
        table = pf.read(use_threads=False)
    # A column name given twice makes every lookup by name fail with a KeyError: refuse the file
    # as unreadable (every caller turns ArrowInvalid into one line naming the file).
    names = [n.lower() for n in table.column_names]
    twice = sorted({n for n in table.column_names if names.count(n.lower()) > 1})
    if twice:
        import pyarrow as pa

        raise pa.ArrowInvalid(f"column {twice[0]!r} appears more than once")
    return table


def native_reader(data: bytes) -> Any:
    """An Arrow ``BufferReader`` over a copy of ``data`` that Arrow owns (see :func:`read_parquet`:
    a reader over Python bytes may be released on an Arrow thread, which then needs the GIL)."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    sink.write(data)
    return pa.BufferReader(sink.getvalue())
