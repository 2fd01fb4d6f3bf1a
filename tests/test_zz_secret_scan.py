"""Runs last (file name): no output of the whole suite contains the API key or secret.

Scanned: every test's captured stdout, stderr and log records and failure text (``conftest``),
CLI and subprocess outputs recorded explicitly (including ``--debug`` tracebacks and the fault
suite's killed and resumed executions), exception texts of deliberately failing calls, and every
file btcn wrote in the test folders (reports, state stores, Parquet).
"""

from __future__ import annotations

import io
import logging
import sqlite3
import traceback
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from btcn.contracts import Action, Leg
from btcn.errors import BtcnError
from btcn.exchange.credentials import Credentials
from btcn.exchange.live import LiveDeps, execute_live
from btcn.stages.execute import ExecuteRequest, plan_digest
from tests import secret_scan
from tests.fakes import FakeGate, FakeServer
from tests.helpers import KEY, SECRET, VirtualClock, gate_settings, make_plan, order


def _failing_calls(tmp_path: Path) -> list[str]:
    """Errors raised on purpose with the real key loaded: their text, repr and traceback."""
    texts: list[str] = []
    clock = VirtualClock()
    gate = FakeGate(KEY, SECRET, clock=clock.now_s)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("btcn").addHandler(handler)
    logging.getLogger("btcn").setLevel(logging.DEBUG)
    try:
        with FakeServer(gate) as srv:
            for secret, fault in ((SECRET + "x", None), (SECRET, "reset"), (SECRET, "status")):
                g = FakeGate(KEY, SECRET, clock=clock.now_s)
                srv._server.gate = g  # type: ignore[attr-defined]
                if fault:
                    g.add_fault(method="GET", path=".*", kind=fault, times=99)
                plan = make_plan([order(Leg.BTC_SPOT, Action.BUY, "0.1", "99999.9")])
                req = ExecuteRequest(plan, gate_settings(srv.gate_url, timeout="1s", max_retries=1),
                                     clock.now_ms(), live=True, state_path=tmp_path / "s.db")  # fmt: skip
                deps = LiveDeps(
                    clock=clock, credentials=Credentials(SecretStr(KEY), SecretStr(secret))
                )
                try:
                    execute_live(req, plan_digest(plan), deps)
                except BtcnError as exc:
                    texts += [
                        str(exc),
                        repr(exc),
                        exc.hint or "",
                        "".join(traceback.format_exception(exc)),
                    ]
                else:  # pragma: no cover - each case must fail
                    pytest.fail("expected an exchange error")
    finally:
        logging.getLogger("btcn").removeHandler(handler)
    texts.append(stream.getvalue())
    return texts


def _written_files(root: Path) -> list[tuple[str, str]]:
    out = []
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


def test_no_output_of_the_suite_contains_the_key_or_secret(tmp_path: Path,
                                                           tmp_path_factory: pytest.TempPathFactory) -> None:  # fmt: skip
    captured = list(secret_scan.CAPTURED)
    captured += [("failing call", t) for t in _failing_calls(tmp_path)]
    captured += _written_files(tmp_path_factory.getbasetemp())
    assert len(captured) > 50, "the scan must see the outputs of the suite"
    leaks = [origin for origin, text in captured if KEY in text or SECRET in text]
    assert leaks == []
    assert Decimal(len(captured)) > 0
