"""Signal files: CSV ``timestamp,signal`` with BUY, SELL or HOLD.

Timestamps are ISO-8601 (UTC; ``Z`` or an offset; naive means UTC) or epoch seconds/ms. Values are
case-insensitive. Rows must be sorted by time with no duplicate timestamps; an empty or unknown
value is an error naming the line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from btcn.contracts.enums import Signal
from btcn.data.timeparse import parse_data_timestamp_ms
from btcn.errors import InvalidInputError
from btcn.runtime.boundary import csv_rows

_ACCEPTED = {"BUY": Signal.BUY, "SELL": Signal.SELL, "HOLD": Signal.HOLD}


@dataclass(frozen=True)
class Signals:
    timestamps_ms: tuple[int, ...]
    values: tuple[Signal, ...]
    digest: str
    source: str

    def __len__(self) -> int:
        return len(self.timestamps_ms)


EMPTY_SIGNALS = Signals((), (), hashlib.sha256(b"").hexdigest(), "(none)")


def load_signals(path: str | Path) -> Signals:
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInputError(f"signals: file not found: {file}") from exc
    except OSError as exc:
        raise InvalidInputError(f"signals: cannot read {file}: {exc.strerror}") from exc
    return parse_signals(data, str(file))


def parse_signals(data: bytes, name: str) -> Signals:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{name}: not UTF-8 text") from exc
    rows = list(csv_rows(text, name))
    if not rows:
        raise InvalidInputError(f"{name}: the signal file is empty")
    header = [h.strip().lower() for h in rows[0]]
    if header[:2] != ["timestamp", "signal"]:
        raise InvalidInputError(
            f"{name}: expected the header 'timestamp,signal', got {','.join(rows[0])!r}"
        )
    stamps: list[int] = []
    values: list[Signal] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise InvalidInputError(f"{name}: line {lineno}: expected 'timestamp,signal'")
        try:
            ts = parse_data_timestamp_ms(row[0])
        except ValueError as exc:
            raise InvalidInputError(f"{name}: line {lineno}: {exc}") from exc
        raw = row[1].strip().upper()
        if not raw:
            raise InvalidInputError(
                f"{name}: line {lineno}: empty signal value", hint="use BUY, SELL or HOLD"
            )
        if raw not in _ACCEPTED:
            raise InvalidInputError(
                f"{name}: line {lineno}: unknown signal {row[1].strip()!r}",
                hint="use BUY, SELL or HOLD",
            )
        if stamps and ts <= stamps[-1]:
            what = "duplicate" if ts == stamps[-1] else "out-of-order"
            raise InvalidInputError(f"{name}: line {lineno}: {what} timestamp {row[0].strip()}")
        stamps.append(ts)
        values.append(_ACCEPTED[raw])
    return Signals(tuple(stamps), tuple(values), hashlib.sha256(data).hexdigest(), name)
