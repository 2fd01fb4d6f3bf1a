"""The state store: one SQLite file (stdlib) holding the paper account, the time of the last
executed rebalance per venue, the digests of executed plans and the execution journal.

Writes that belong together happen in one ``BEGIN IMMEDIATE`` transaction, so a second btcn process
waits (up to ``busy_timeout``) instead of interleaving, and a crash leaves either all or nothing.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from btcn.core.book import Book
from btcn.errors import StateError

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

_DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS paper_account (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        spot_usdt TEXT NOT NULL, spot_btc TEXT NOT NULL, futures_usdt TEXT NOT NULL,
        long_contracts TEXT NOT NULL, long_entry_usdt TEXT NOT NULL,
        short_contracts TEXT NOT NULL, short_entry_usdt TEXT NOT NULL,
        updated_ms INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS rebalances (
        plan_digest TEXT NOT NULL, venue TEXT NOT NULL, plan_as_of_ms INTEGER NOT NULL,
        recorded_ms INTEGER NOT NULL, PRIMARY KEY (plan_digest, venue))""",
    """CREATE TABLE IF NOT EXISTS executed_plans (
        plan_digest TEXT NOT NULL, venue TEXT NOT NULL, executed_ms INTEGER NOT NULL,
        status TEXT NOT NULL, report_json TEXT NOT NULL, PRIMARY KEY (plan_digest, venue))""",
    """CREATE TABLE IF NOT EXISTS journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        plan_digest TEXT NOT NULL, client_order_id TEXT NOT NULL, venue TEXT NOT NULL,
        event TEXT NOT NULL, payload TEXT NOT NULL, ts_ms INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS journal_cid ON journal (client_order_id)",
    # Alert de-duplication (btcn.monitoring.alert_store): one row per alert key.
    """CREATE TABLE IF NOT EXISTS alerts (
        key TEXT PRIMARY KEY, active INTEGER NOT NULL, since_ms INTEGER,
        last_sent_ms INTEGER, detail TEXT NOT NULL DEFAULT '', updated_ms INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS journal_plan ON journal (plan_digest, venue, seq)",
]


@functools.cache
def _expected_columns() -> dict[str, list[str]]:
    """The columns of every btcn table, read from the DDL itself (an in-memory database)."""
    db = sqlite3.connect(":memory:")
    try:
        for stmt in _DDL:
            db.execute(stmt)
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: [r[1] for r in db.execute(f"PRAGMA table_info('{n}')")] for n in names
                if not n.startswith("sqlite_")}  # fmt: skip
    finally:
        db.close()


@dataclass(frozen=True)
class JournalEvent:
    """One line of the execution journal: an intent before a request, an outcome after it."""

    seq: int
    plan_digest: str
    client_order_id: str
    venue: str
    event: str
    payload: dict[str, Any]
    ts_ms: int


class StateStore:
    """A handle on the state database. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        try:
            if read_only:
                self._db = self._open_read_only()
                self._check_tables()
                self._check_columns()
                return
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            self._check_columns()  # before anything is written into the file
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            for stmt in _DDL:
                self._db.execute(stmt)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise StateError(
                    f"state store {self.path} was written by a newer btcn (schema {row[0]})"
                )
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot open state store {self.path}: {exc}") from exc
        except OSError as exc:  # e.g. its folder cannot be created (/proc/..., read-only disk)
            raise StateError(
                f"cannot open state store {self.path}: {exc.strerror or exc}",
                hint="set [state] path (or BTCN_STATE__PATH) to a writable location",
            ) from exc

    def _check_tables(self) -> None:
        # A read-only open creates nothing, so a foreign or damaged file must be refused here,
        # not by the first query that needs a table.
        tables = {
            r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        wanted = {"meta", "rebalances", "executed_plans"}
        if not wanted <= tables:
            raise StateError(
                f"cannot open state store {self.path}: not a btcn state store "
                f"(no {', '.join(sorted(wanted - tables))} table)"
            )

    def _open_read_only(self) -> sqlite3.Connection:
        """A connection that never creates the file and never writes (``query_only``). It is
        opened read-write when the file allows it: SQLite removes a WAL database's ``-wal`` and
        ``-shm`` files when the last connection closes, which a ``mode=ro`` connection cannot do
        (they would be left behind). A file we may not write is opened ``mode=ro``."""
        from urllib.parse import quote

        uri = f"file:{quote(str(self.path))}"
        for mode in ("rw", "ro"):
            try:
                db = sqlite3.connect(f"{uri}?mode={mode}", uri=True,
                                     timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)  # fmt: skip
                db.execute("PRAGMA query_only=ON")
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return db
            except sqlite3.OperationalError:
                if mode == "ro":
                    raise
        raise AssertionError("unreachable")

    def _check_columns(self) -> None:
        """A table with a btcn name must have btcn's columns: a damaged or foreign file is one
        clear refusal, not a query failing half-way through a command."""
        found = {}
        for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            if name in _expected_columns():
                found[name] = [r[1] for r in self._db.execute(f"PRAGMA table_info('{name}')")]
        for name, cols in sorted(found.items()):
            missing = [c for c in _expected_columns()[name] if c not in cols]
            if missing:
                raise StateError(
                    f"cannot open state store {self.path}: table {name} lacks the column(s) "
                    f"{', '.join(missing)} (it has {', '.join(cols)}): a damaged or foreign file",
                    hint="point [state] path at a btcn state store, or at a new file",
                )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One exclusive write transaction; rolled back on any error."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StateError(
                f"state store {self.path} is locked by another btcn process", hint="retry later"
            ) from exc
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    # --- paper account -------------------------------------------------------------------
    def paper_book(self, db: sqlite3.Connection | None = None) -> Book | None:
        row = (
            (db or self._db)
            .execute(
                "SELECT spot_usdt, spot_btc, futures_usdt, long_contracts, long_entry_usdt,"
                " short_contracts, short_entry_usdt FROM paper_account WHERE id = 1"
            )
            .fetchone()
        )
        if row is None:
            return None
        return Book(*(Decimal(v) for v in row))

    def save_paper_book(
        self, book: Book, now_ms: int, db: sqlite3.Connection | None = None
    ) -> None:
        conn = db or self._db
        conn.execute(
            "INSERT OR REPLACE INTO paper_account VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(book.spot_usdt), str(book.spot_btc), str(book.futures_usdt),
                str(book.long_contracts), str(book.long_entry_usdt),
                str(book.short_contracts), str(book.short_entry_usdt), now_ms,
            ),
        )  # fmt: skip

    # --- rebalances and executed plans ---------------------------------------------------------
    def last_rebalance_ms(self, venue: str) -> int | None:
        row = self._db.execute(
            "SELECT max(plan_as_of_ms) FROM rebalances WHERE venue = ?", (venue,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def record_rebalance(
        self, plan_digest: str, venue: str, plan_as_of_ms: int, now_ms: int,
        db: sqlite3.Connection | None = None,
    ) -> None:  # fmt: skip
        (db or self._db).execute(
            "INSERT OR IGNORE INTO rebalances VALUES (?, ?, ?, ?)",
            (plan_digest, venue, plan_as_of_ms, now_ms),
        )

    def executed_report(self, plan_digest: str, venue: str) -> str | None:
        row = self._db.execute(
            "SELECT report_json FROM executed_plans WHERE plan_digest = ? AND venue = ?",
            (plan_digest, venue),
        ).fetchone()
        return None if row is None else str(row[0])

    def record_execution(
        self, plan_digest: str, venue: str, now_ms: int, status: str, report_json: str,
        db: sqlite3.Connection | None = None,
    ) -> None:  # fmt: skip
        (db or self._db).execute(
            "INSERT OR REPLACE INTO executed_plans VALUES (?, ?, ?, ?, ?)",
            (plan_digest, venue, now_ms, status, report_json),
        )

    # --- execution journal -------------------------------------------------------------------
    def journal_append(
        self, plan_digest: str, venue: str, entries: list[tuple[str, str, dict[str, Any]]],
        ts_ms: int, db: sqlite3.Connection | None = None,
    ) -> None:  # fmt: skip
        """Append ``(client_order_id, event, payload)`` entries in one durable transaction.

        The transaction is committed (WAL + ``synchronous=FULL``) before this returns, so an
        intent written here survives a ``kill -9`` that happens while its request is in flight.
        """
        rows = [
            (
                plan_digest,
                cid,
                venue,
                event,
                json.dumps(payload, sort_keys=True, default=str),
                ts_ms,
            )
            for cid, event, payload in entries
        ]
        sql = (
            "INSERT INTO journal (plan_digest, client_order_id, venue, event, payload, ts_ms)"
            " VALUES (?, ?, ?, ?, ?, ?)"
        )
        if db is not None:
            db.executemany(sql, rows)
            return
        with self.transaction() as conn:
            conn.executemany(sql, rows)

    def journal_events(self, plan_digest: str, venue: str) -> list[JournalEvent]:
        rows = self._db.execute(
            "SELECT seq, plan_digest, client_order_id, venue, event, payload, ts_ms FROM journal"
            " WHERE plan_digest = ? AND venue = ? ORDER BY seq",
            (plan_digest, venue),
        ).fetchall()
        return [
            JournalEvent(int(r[0]), r[1], r[2], r[3], r[4], json.loads(r[5]), int(r[6]))
            for r in rows
        ]

    @contextlib.contextmanager
    def run_lock(self, venue: str) -> Iterator[None]:
        """One live execution per state store and venue at a time (released even on kill -9)."""
        from btcn.runtime.files import LockBusy, exclusive_lock

        lock = exclusive_lock(self.path.with_name(f"{self.path.name}.{venue}.lock"))
        try:
            lock.__enter__()
        except LockBusy:
            raise StateError(
                f"another btcn process is executing on {venue} with state store {self.path}",
                hint="wait for it to finish; two executions must never interleave",
            ) from None
        try:
            yield
        finally:
            lock.__exit__(None, None, None)
