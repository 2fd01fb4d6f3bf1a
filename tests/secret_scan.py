"""Everything the suite prints or produces, scanned for the API key and secret when the session
finishes (``tests/conftest.py``: :func:`pytest_sessionfinish` fails the session on a leak).

``conftest.py`` records each test's captured stdout/stderr/log and failure text; tests that run
subprocesses or write reports record those outputs explicitly with :func:`record`. Every file the
tests wrote under pytest's temporary folder is read at the end too (state stores' journals,
reports, Parquet).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

CAPTURED: list[tuple[str, str]] = []


def record(origin: str, text: str | bytes | None) -> None:
    if text is None:
        return
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    CAPTURED.append((origin, text))


def written_files(root: Path) -> list[tuple[str, str]]:
    """The text of every file under ``root`` (a state store: its journal's payloads too)."""
    out = []
    if not root.is_dir():
        return out
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".db" or path.name.endswith(".db-wal"):
            try:
                with sqlite3.connect(path) as db:
                    rows = db.execute("SELECT payload FROM journal").fetchall()
                out.append((str(path), "\n".join(r[0] for r in rows)))
            except sqlite3.DatabaseError:
                pass
        out.append((str(path), path.read_bytes().decode("utf-8", "replace")))
    return out


def leaks(texts: Iterable[tuple[str, str]], secrets: Iterable[str]) -> list[str]:
    """The origins of the texts that contain any of ``secrets``."""
    needles = [s for s in secrets if s]
    return [origin for origin, text in texts if any(n in text for n in needles)]
