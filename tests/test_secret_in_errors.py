"""Errors raised on purpose with the real key loaded never show the key or the secret.

Their texts are also handed to the suite's secret scan, which runs when the session finishes
(``tests/conftest.py``: :func:`pytest_sessionfinish`) over everything the suite printed and wrote.
"""

from __future__ import annotations

import io
import logging
import traceback
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


def test_deliberate_failures_never_show_the_key_or_secret(tmp_path: Path) -> None:
    texts = _failing_calls(tmp_path)
    assert len(texts) == 13  # 3 failures x (str, repr, hint, traceback), and the log
    for text in texts:
        secret_scan.record("failing call", text)
    assert [t for t in texts if KEY in t or SECRET in t] == []
