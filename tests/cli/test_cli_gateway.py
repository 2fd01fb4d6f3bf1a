"""``btcn fetch`` and ``btcn execute --live`` through the CLI: exit codes, stdout/stderr, pipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.contracts import Action, ExecutionReport, Leg, Plan, Snapshot, dump_json, parse_artifact
from tests import secret_scan
from tests.fakes import FakeBinance, FakeGate, FakeServer
from tests.fakes.binance_fake import price_at
from tests.helpers import KEY, SECRET, make_plan, order

D = Decimal
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def invoke(args: list[str], env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, args, env=env, input=input)
    secret_scan.record(f"cli {' '.join(args)} [stdout]", result.stdout)
    secret_scan.record(f"cli {' '.join(args)} [stderr]", result.stderr)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        secret_scan.record("cli exception", repr(result.exception))
    return result


@pytest.fixture
def live_server() -> Iterator[FakeServer]:
    """Real clock (the CLI reads the wall clock); Gate's book around the Binance price."""
    now = time.time()
    mid = D(str(round(price_at(int(now * 1000) // 60_000 * 60_000 - 60_000, "spot"), 1)))
    gate = FakeGate(KEY, SECRET, mid=str(mid))
    with FakeServer(gate, FakeBinance()) as srv:
        yield srv


def env_for(srv: FakeServer, **extra: str) -> dict[str, str]:
    env = {
        "BTCN_GATE__BASE_URL": srv.gate_url,
        "BTCN_BINANCE__BASE_URL": srv.binance_url,
        "BTCN_BINANCE__FUTURES_BASE_URL": srv.binance_url,
        "BTCN_GATE__TIMEOUT": "2s",
        "BTCN_GATE__REQUEST_EXPIRY": "2s",
        "BTCN_EXECUTION__POST_ONLY_WINDOW": "200ms",
        "GATE_API_KEY": KEY,
        "GATE_API_SECRET": SECRET,
    }
    env.update(extra)
    return env


def test_fetch_candles_cli_prints_a_summary_and_writes_parquet(
    live_server: FakeServer, tmp_path: Path
) -> None:
    out = tmp_path / "spot.parquet"
    start = str(int(time.time()) - 2 * 86400)
    r = invoke(["fetch", "candles", "--out", str(out), "--start", start, "--interval", "15m"],
               env=env_for(live_server))  # fmt: skip
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["kind"] == "fetch_candles" and summary["rows_total"] >= 190
    assert f"{out}: {summary['rows_added']} new row(s)" in r.stderr
    r2 = invoke(["-q", "fetch", "candles", "--out", str(out), "--start", start, "--interval", "15m"],
                env=env_for(live_server))  # fmt: skip
    assert r2.exit_code == 0 and json.loads(r2.stdout)["rows_added"] <= 1 and r2.stderr == ""


def test_fetch_funding_cli(live_server: FakeServer, tmp_path: Path) -> None:
    out = tmp_path / "funding.parquet"
    r = invoke(["fetch", "funding", "--out", str(out), "--start", "2025-01-01", "--end", "2025-01-10"],
               env=env_for(live_server))  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["rows_total"] == 27


def test_fetch_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    out = str(tmp_path / "x.parquet")
    r = invoke(["fetch", "candles", "--out", out, "--start", "2025-01-01", "--interval", "7m"])
    assert r.exit_code == 2 and r.stderr.startswith("error: binance-spot does not serve interval")
    r = invoke(["fetch", "candles", "--out", out, "--start", "yesterday"])
    assert r.exit_code == 2 and "--start: not a timestamp" in r.stderr
    dead = {"BTCN_BINANCE__BASE_URL": "http://127.0.0.1:9", "BTCN_BINANCE__MAX_RETRIES": "0"}
    r = invoke(["fetch", "candles", "--out", out, "--start", "2025-01-01"], env=dead)
    assert r.exit_code == 6
    assert r.stderr.splitlines()[0].startswith("error: binance: GET /api/v3/klines: cannot connect")
    assert "Traceback" not in r.stderr
    r = invoke(["fetch", "snapshot", "--venue", "kraken"])
    assert r.exit_code == 2 and "--venue must be gate or paper" in r.stderr
    r = invoke(["fetch", "snapshot", "--venue", "gate"])
    assert r.exit_code == 4 and "GATE_API_KEY and GATE_API_SECRET not set" in r.stderr
    r = invoke(["fetch", "snapshot", "--venue", "gate", "--candles", "x.csv"])
    assert r.exit_code == 2


def test_offline_paper_snapshot_feeds_plan(tmp_path: Path) -> None:
    r = invoke(["fetch", "snapshot", "--venue", "paper", "--candles", str(EXAMPLES / "data/spot_5m"),
                "--perp", str(EXAMPLES / "data/perp_5m"), "--state", str(tmp_path / "s.db")])  # fmt: skip
    assert r.exit_code == 0, r.stderr
    snap = parse_artifact(r.stdout, Snapshot)
    assert snap.venue == "paper" and snap.as_of_ms == 1738368000000
    plan = invoke(["plan", "--snapshot", "-", "--candles", str(EXAMPLES / "data/spot_5m"),
                   "--state", str(tmp_path / "s.db")], input=r.stdout)  # fmt: skip
    assert plan.exit_code == 0, plan.stderr
    assert parse_artifact(plan.stdout, Plan).status == "rebalance"


def test_live_execute_of_a_paper_plan_is_a_usage_error(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(
        dump_json(make_plan([order(Leg.BTC_SPOT, Action.BUY, "0.1", "100000")], venue="paper"))
    )
    r = invoke(["execute", "--live", str(plan)])
    assert r.exit_code == 2 and "this plan is for venue 'paper'" in r.stderr


@pytest.mark.slow
def test_gate_pipeline_end_to_end(live_server: FakeServer, tmp_path: Path) -> None:
    """fetch candles + fetch snapshot --venue gate | plan | execute --live, as real processes."""
    gate = live_server.gate
    gate.spot["BTC"][0] = D("0.2")  # under-invested and unhedged: buy spot, open the short
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("BTCN_", "GATE_"))},
           **env_for(live_server), "BTCN_STATE__PATH": str(tmp_path / "state.db")}  # fmt: skip
    btcn = [sys.executable, "-m", "btcn"]

    def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(btcn + args, check=False, env=env, input=stdin, capture_output=True, text=True,
                              timeout=120, cwd=tmp_path)  # fmt: skip
        secret_scan.record(f"subprocess {args[:2]} [stdout]", proc.stdout)
        secret_scan.record(f"subprocess {args[:2]} [stderr]", proc.stderr)
        return proc

    candles = tmp_path / "spot.parquet"
    start = str(int(time.time()) - 3 * 86400)
    assert run(["fetch", "candles", "--out", str(candles), "--start", start]).returncode == 0
    snap = run(["fetch", "snapshot", "--venue", "gate"])
    assert snap.returncode == 0, snap.stderr
    assert parse_artifact(snap.stdout, Snapshot).balances.spot_btc == D("0.2")
    plan = run(["plan", "--snapshot", "-", "--candles", str(candles)], snap.stdout)
    assert plan.returncode == 0, plan.stderr
    parsed = parse_artifact(plan.stdout, Plan)
    assert parsed.status == "rebalance" and {o.leg for o in parsed.orders} == {
        Leg.BTC_SPOT,
        Leg.BTC_PERP_SHORT,
    }
    (tmp_path / "plan.json").write_text(plan.stdout)
    done = run(["execute", "--live", "plan.json"])
    assert done.returncode == 0, done.stderr
    report = parse_artifact(done.stdout, ExecutionReport)
    assert report.status == "completed" and report.live and report.rebalance_recorded
    short = next(o for o in parsed.orders if o.leg is Leg.BTC_PERP_SHORT)
    assert gate.pos["short"][0] == short.qty_venue
    assert gate.duplicate_texts() == {}
    again = run(["execute", "--live", "plan.json"])
    assert (
        again.returncode == 0
        and parse_artifact(again.stdout, ExecutionReport).status == "already_executed"
    )
    snap2 = run(["fetch", "snapshot", "--venue", "gate"])
    plan2 = run(["plan", "--snapshot", "-", "--candles", str(candles)], snap2.stdout)
    assert parse_artifact(plan2.stdout, Plan).status in ("cooldown", "no_action")


def test_debug_output_never_shows_keys(live_server: FakeServer, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(dump_json(make_plan([order(Leg.BTC_SPOT, Action.BUY, "0.1", "99999.9")],
                                        as_of_ms=int(time.time() * 1000))))  # fmt: skip
    wrong = "wrong-secret-do-not-print"
    r = invoke(["--debug", "--log-level", "DEBUG", "execute", "--live", str(plan), "--state",
                str(tmp_path / "s.db")], env=env_for(live_server, GATE_API_SECRET=wrong))  # fmt: skip
    assert r.exit_code == 6
    assert "Traceback" in r.stderr and "INVALID_SIGNATURE" in r.stderr
    for secret in (wrong, KEY, SECRET):
        assert secret not in r.stdout + r.stderr
    secret_scan.record("debug run with a wrong secret", r.stderr)


def test_offline_paper_pipeline_round_trip(tmp_path: Path) -> None:
    """paper snapshot (offline) | plan | execute (paper account) → the next snapshot shows the trades."""
    state = str(tmp_path / "state.db")
    candles = ["--candles", str(EXAMPLES / "data/spot_5m")]
    snap = invoke(["fetch", "snapshot", "--venue", "paper", *candles, "--perp", str(EXAMPLES / "data/perp_5m"),
                   "--state", state])  # fmt: skip
    plan = invoke(["plan", "--snapshot", "-", *candles, "--state", state], input=snap.stdout)
    done = invoke(["execute", "--state", state], input=plan.stdout)
    assert done.exit_code == 0, done.stderr
    report = parse_artifact(done.stdout, ExecutionReport)
    assert report.status == "completed" and not report.live and "execution completed" in done.stderr
    after = parse_artifact(
        invoke(["fetch", "snapshot", "--venue", "paper", *candles, "--state", state]).stdout,
        Snapshot,
    )
    before = parse_artifact(snap.stdout, Snapshot)
    assert after.balances != before.balances
    assert after.positions.BTC_PERP_SHORT.size_contracts > 0
    again = invoke(["execute", "--state", state], input=plan.stdout)
    assert parse_artifact(again.stdout, ExecutionReport).status == "already_executed"


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from btcn.cli import cmd_fetch, console

    buffer = io.StringIO()
    fake = Console(file=buffer, force_terminal=True, width=80)
    monkeypatch.setattr(console, "err_console", lambda: fake)

    def work(progress):  # type: ignore[no-untyped-def]
        for done in range(0, 101, 20):
            progress(done, 100)
        return "result"

    assert cmd_fetch._run_with_progress("binance-spot 5m", work) == "result"
    assert "binance-spot 5m" in buffer.getvalue()
