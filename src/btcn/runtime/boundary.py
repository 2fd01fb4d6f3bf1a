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
