"""Alerts: the de-duplication state machine, the Telegram client against a local Bot API fake, and
`btcn monitor alerts` end to end (fires once, repeats suppressed, recovery sent, state kept)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.monitoring import alerts as A
from btcn.monitoring.errors import TelegramError
from btcn.monitoring.retry import service_policy
from btcn.monitoring.telegram import TelegramNotifier, truncate
from btcn.runtime.state import StateStore
from btcn.stages.monitor import evaluate_alerts
from tests.runfolder_fixture import make_run_folder
from tests.services import recording_server

TOKEN = "123456:ABC-secret-token"
H = 3_600_000


def bot_api(fail_with: list[tuple[int, dict]] | None = None):
    """A Telegram Bot API fake: /bot<token>/sendMessage, checks the token, records messages."""
    failures = list(fail_with or [])

    def respond(r):
        if failures:
            status, body = failures.pop(0)
            return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
        if r.path != f"/bot{TOKEN}/sendMessage":
            return 404, {}, json.dumps({"ok": False, "error_code": 404,
                                        "description": "Not Found"}).encode()  # fmt: skip
        body = r.json()
        if not body.get("chat_id") or not body.get("text"):
            return (
                400,
                {},
                json.dumps({"ok": False, "description": "Bad Request: text is empty"}).encode(),
            )
        return (
            200,
            {},
            json.dumps({"ok": True, "result": {"message_id": 7, "text": body["text"]}}).encode(),
        )

    return respond


def sent_texts(srv) -> list[str]:
    return [r.json()["text"] for r in srv.requests if r.path.endswith("/sendMessage")]


# --- state machine ----------------------------------------------------------------------------
def test_step_fires_suppresses_reminds_and_recovers() -> None:
    s = A.AlertState("margin")
    on, off = A.Condition("margin", True, "high"), A.Condition("margin", False, "ok")
    s, n = A.step(s, on, now_ms=0, cooldown_ms=6 * H, send_recovery=True)
    assert n is not None and n.kind == "firing" and s.active and s.since_ms == 0
    s, n = A.step(s, on, now_ms=1 * H, cooldown_ms=6 * H, send_recovery=True)
    assert n is None
    s, n = A.step(s, on, now_ms=6 * H, cooldown_ms=6 * H, send_recovery=True)
    assert n is not None and n.kind == "reminder" and s.since_ms == 0 and s.last_sent_ms == 6 * H
    s, n = A.step(s, off, now_ms=7 * H, cooldown_ms=6 * H, send_recovery=True)
    assert n is not None and n.kind == "resolved" and not s.active
    assert "active for 7 h 0 min" in n.text(7 * H)
    s, n = A.step(s, off, now_ms=8 * H, cooldown_ms=6 * H, send_recovery=True)
    assert n is None


def test_no_recovery_message_when_disabled() -> None:
    s = A.AlertState("x", True, 0, 0)
    s, n = A.step(s, A.Condition("x", False, ""), now_ms=1, cooldown_ms=1, send_recovery=False)
    assert n is None and not s.active


@given(
    seq=st.lists(st.tuples(st.booleans(), st.integers(0, 10 * H)), min_size=1, max_size=40),
    cooldown=st.integers(1, 12 * H),
)
def test_state_machine_invariants(seq: list[tuple[bool, int]], cooldown: int) -> None:
    """For any sequence of observations: every rising edge fires exactly once, every falling
    edge resolves exactly once, and two messages about one active episode are >= cooldown apart."""
    s, t = A.AlertState("k"), 0
    prev, last_msg = False, None
    for active, dt_ms in seq:
        t += dt_ms
        s, n = A.step(s, A.Condition("k", active, ""), now_ms=t, cooldown_ms=cooldown,
                      send_recovery=True)  # fmt: skip
        if active and not prev:
            assert n is not None and n.kind == "firing"
            last_msg = t
        elif active and prev:
            if n is not None:
                assert n.kind == "reminder" and t - last_msg >= cooldown
                last_msg = t
            else:
                assert t - last_msg < cooldown
        elif not active and prev:
            assert n is not None and n.kind == "resolved"
        else:
            assert n is None
        assert s.active == active
        prev = active


def test_conditions() -> None:
    assert A.funding_condition(0.0006, 8 * H, 5).active
    assert A.funding_condition(-0.0006, 8 * H, 5).active  # the short hedge pays: also a risk
    assert not A.funding_condition(0.0004, 8 * H, 5).active
    # 4 bps per 4 h is 8 bps per 8 h
    c = A.funding_condition(0.0004, 4 * H, 5)
    assert c.active and "+8.00 bps" in c.detail
    assert not A.funding_condition(0.1, 0, 5).active  # unknown interval: no claim
    assert A.margin_condition(71, 100, 0.70).active
    assert not A.margin_condition(70, 100, 0.70).active
    assert A.margin_condition(1, 0, 0.70).active  # no NAV and margin in use: alarming
    assert A.circuit_breaker_condition(True, ["max_net_delta"]).detail.endswith("max_net_delta")
    assert not A.circuit_breaker_condition(False, []).active
    assert A.execution_condition("partial", "1 of 2").active
    assert A.execution_condition("failed", "x").active
    assert not A.execution_condition("completed", "").active
    assert A.audit_condition(["a"]).active and not A.audit_condition([]).active


def test_notice_text_is_html_escaped() -> None:
    n = A.Notice("margin", "firing", "<b>x</b> & y", 0)
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in n.text(0)


# --- Telegram client --------------------------------------------------------------------------
def notifier(srv, client, **kw) -> TelegramNotifier:
    return TelegramNotifier(client, base_url=srv.url, token=TOKEN, chat_id="-100", **kw)


def test_send_message_payload() -> None:
    with recording_server(bot_api()) as srv, httpx.Client(trust_env=False) as c:
        assert notifier(srv, c).send("<b>hi</b>") == 7
        body = srv.requests[0].json()
    assert body == {"chat_id": "-100", "text": "<b>hi</b>", "disable_web_page_preview": True,
                    "parse_mode": "HTML"}  # fmt: skip


def test_errors_never_contain_the_token_and_4xx_is_not_retried() -> None:
    bad = bot_api([(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})])
    with recording_server(bad) as srv, httpx.Client(trust_env=False) as c:
        n = notifier(srv, c)
        assert TOKEN not in repr(n)
        with pytest.raises(TelegramError, match="HTTP 401: Unauthorized") as err:
            n.send("x")
        assert len(srv.requests) == 1
    assert TOKEN not in err.value.message and "bot token" in (err.value.hint or "")


def test_429_and_5xx_are_retried_with_retry_after() -> None:
    flaky = bot_api([(429, {"ok": False, "description": "Too Many Requests: retry after 1",
                            "parameters": {"retry_after": 1}}),
                     (502, {"ok": False, "description": "Bad Gateway"})])  # fmt: skip
    slept: list[float] = []
    with recording_server(flaky) as srv, httpx.Client(trust_env=False) as c:
        assert notifier(srv, c, policy=service_policy(retries=2), sleep=slept.append).send("x") == 7
        assert len(srv.requests) == 3
    assert len(slept) == 2


def test_network_error_message_has_no_url() -> None:
    with httpx.Client(trust_env=False, timeout=2) as c:
        n = TelegramNotifier(c, base_url="http://127.0.0.1:9", token=TOKEN, chat_id="1",
                             policy=service_policy(retries=0))  # fmt: skip
        with pytest.raises(TelegramError) as err:
            n.send("x")
    assert TOKEN not in str(err.value) and "network error" in str(err.value)


def test_empty_chat_and_truncation() -> None:
    with pytest.raises(TelegramError):
        TelegramNotifier(httpx.Client(), base_url="http://x", token="t", chat_id="")
    assert len(truncate("x" * 5000)) == 4096
    assert truncate("short") == "short"


# --- evaluate + persistence -----------------------------------------------------------------
class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.texts: list[str] = []
        self.fail = fail

    def send(self, text: str) -> int:
        if self.fail:
            raise TelegramError("down", retryable=True)
        self.texts.append(text)
        return 1


def test_failed_delivery_keeps_the_alert_pending(tmp_path: Path) -> None:
    cond = [A.Condition("margin", True, "high")]
    with StateStore(tmp_path / "s.db") as store:
        with pytest.raises(TelegramError):
            evaluate_alerts(cond, store=store, sender=Recorder(fail=True), now_ms=0,
                            cooldown_ms=H, send_recovery=True)  # fmt: skip
        rec = Recorder()
        run = evaluate_alerts(cond, store=store, sender=rec, now_ms=1, cooldown_ms=H,
                              send_recovery=True)  # fmt: skip
    assert [o.sent for o in run.outcomes] == ["firing"] and len(rec.texts) == 1


# --- CLI end to end ---------------------------------------------------------------------------
@pytest.fixture
def alert_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with recording_server(bot_api()) as srv:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("BTCN_TELEGRAM__BASE_URL", srv.url)
        monkeypatch.setenv("BTCN_TELEGRAM__CHAT_ID", "-100")
        monkeypatch.setenv("BTCN_NETWORK__TEST_MODE", "1")
        monkeypatch.setenv("BTCN_STATE__PATH", str(tmp_path / "state.db"))
        yield srv


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_each_condition_fires_once_repeats_suppressed_recovery_sent(
    alert_env, tmp_path: Path
) -> None:
    srv = alert_env
    hot = make_run_folder(tmp_path / "hot", days=3, margin_frac=0.75, funding_rate=0.0007)
    cool = make_run_folder(tmp_path / "cool", days=3, margin_frac=0.2, funding_rate=0.0001)
    audit_drift = tmp_path / "audit.json"
    audit_drift.write_text(json.dumps({
        "kind": "audit", "schema_version": 1, "as_of_ms": 1, "run": "r", "run_path": "r",
        "date": "2025-01-01", "created_at_ms": 1, "drift": True, "log_path": None, "proposals": [],
        "kpis": [{"name": "sharpe_30d", "actual": 0.5, "target": 1.34, "better": "higher",
                  "deviation": 0.63, "tolerance": 0.05, "hard_limit": None, "status": "drift"}],
    }))  # fmt: skip
    audit_ok = tmp_path / "audit_ok.json"
    ok = json.loads(audit_drift.read_text())
    ok["drift"] = False
    ok["kpis"][0].update(actual=1.4, deviation=-0.04, status="ok")
    audit_ok.write_text(json.dumps(ok))

    first = invoke("monitor", "alerts", "--run", str(hot), "--audit", str(audit_drift))
    assert first.exit_code == 0, first.output
    texts = sent_texts(srv)
    assert len(texts) == 3
    assert any("Used margin" in t for t in texts)
    assert any("Funding rate" in t and "+7.00 bps" in t for t in texts)
    assert any("Audit drift" in t and "sharpe_30d" in t for t in texts)
    assert all(t.startswith("<b>🔴 FIRING") for t in texts)
    out = json.loads(first.stdout)
    assert out["delivered_to_telegram"] is True

    # The same conditions on the next cron run: nothing new (cooldown 6 h by default).
    srv.clear()
    again = invoke("monitor", "alerts", "--run", str(hot), "--audit", str(audit_drift))
    assert again.exit_code == 0 and sent_texts(srv) == []
    assert all(a["sent"] is None for a in json.loads(again.stdout)["alerts"])

    # Cleared: one recovery per alert.
    srv.clear()
    cleared = invoke("monitor", "alerts", "--run", str(cool), "--audit", str(audit_ok))
    assert cleared.exit_code == 0
    texts = sent_texts(srv)
    assert len(texts) == 3 and all("RESOLVED" in t for t in texts)

    # And quiet again afterwards.
    srv.clear()
    invoke("monitor", "alerts", "--run", str(cool), "--audit", str(audit_ok))
    assert sent_texts(srv) == []


def test_plan_and_execution_conditions(alert_env, tmp_path: Path, examples: Path) -> None:
    srv = alert_env
    from btcn.contracts import dump_json
    from tests.helpers import snapshot

    # A plan in safe mode: its snapshot is far older than the data it needs.
    snap = tmp_path / "snap.json"
    snap.write_text(dump_json(snapshot(as_of_ms=1_800_000_000_000)))
    plan = invoke("plan", "--snapshot", str(snap), "--candles", str(examples / "data" / "spot_5m"))
    assert plan.exit_code == 5, plan.output
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan.stdout)
    report = {
        "kind": "execution_report", "schema_version": 1, "as_of_ms": 1, "venue": "paper",
        "plan_digest": "d", "plan_as_of_ms": 1, "dry_run": False, "live": False,
        "status": "partial", "rebalance_recorded": False, "orders": [], "note": "1 of 2 filled",
    }  # fmt: skip
    exe = tmp_path / "exe.json"
    exe.write_text(json.dumps(report))
    r = invoke("monitor", "alerts", "--plan", str(plan_file), "--execution", str(exe))
    assert r.exit_code == 0, r.output
    texts = sent_texts(srv)
    assert len(texts) == 2
    assert any("Circuit breaker" in t and "data_age" in t for t in texts)
    assert any("Execution partial" in t and "1 of 2 filled" in t for t in texts)


def test_alerts_without_telegram_go_to_stdout(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BTCN_STATE__PATH", str(tmp_path / "s.db"))
    run = make_run_folder(tmp_path / "r", days=2, margin_frac=0.9)
    r = invoke("monitor", "alerts", "--run", str(run))
    out = json.loads(r.stdout)
    assert out["delivered_to_telegram"] is False
    margin = next(a for a in out["alerts"] if a["key"] == "margin")
    assert margin["sent"] == "firing" and "Used margin" in margin["text"]


def test_alerts_needs_an_input() -> None:
    r = invoke("monitor", "alerts")
    assert r.exit_code == 2 and "at least one" in r.output


def test_funding_file_condition(alert_env, tmp_path: Path, examples: Path) -> None:
    r = invoke("monitor", "alerts", "--funding", str(examples / "data" / "funding"))
    assert r.exit_code == 0, r.output
    funding = json.loads(r.stdout)["alerts"][0]
    assert funding["key"] == "funding" and "bps per 8 h" in funding["detail"]
    assert math.isfinite(float(funding["detail"].split()[1]))


def test_telegram_token_missing_is_a_config_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BTCN_TELEGRAM__CHAT_ID", "-1")
    monkeypatch.setenv("BTCN_STATE__PATH", str(tmp_path / "s.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no default secrets file
    run = make_run_folder(tmp_path / "r", days=2)
    r = invoke("monitor", "alerts", "--run", str(run))
    assert r.exit_code == 4
    assert "TELEGRAM_BOT_TOKEN" in r.output
