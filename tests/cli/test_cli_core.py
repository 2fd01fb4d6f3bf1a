from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from btcn.cli.app import app
from btcn.errors import ExitCode
from tests.conftest import EXAMPLES, ROOT
from tests.helpers import seed_paper_account

runner = CliRunner()
SNAP = str(EXAMPLES / "snapshot.json")
SPOT = str(EXAMPLES / "data" / "spot_5m")
SIGNALS = str(EXAMPLES / "signals.csv")
BTCN = str(Path(sys.executable).parent / "btcn")


def invoke(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin)


def test_every_command_has_help() -> None:
    top = invoke("--help")
    assert top.exit_code == 0 and "Exit codes" in top.stdout
    commands = [
        line.split()[0] for line in top.stdout.split("Commands:")[1].splitlines() if line.strip()
    ]
    assert {"weights", "plan", "execute", "schema"} <= set(commands)
    for cmd in commands:
        res = invoke(cmd, "--help")
        assert res.exit_code == 0, cmd
        body = res.stdout.split("Options")[0]
        assert len(body.strip().splitlines()) >= 2, f"{cmd} --help does not explain itself"


def test_version() -> None:
    res = invoke("--version")
    assert res.exit_code == 0 and res.stdout.startswith("btcn ")


def test_plan_from_file_and_from_stdin_are_identical() -> None:
    a = invoke("plan", "--snapshot", SNAP, "--candles", SPOT, "--signals", SIGNALS)
    assert a.exit_code == 0, a.stderr
    b = invoke("plan", "--snapshot", "-", "--candles", SPOT, "--signals", SIGNALS,
               stdin=(EXAMPLES / "snapshot.json").read_text())  # fmt: skip
    assert b.exit_code == 0
    assert a.stdout == b.stdout
    plan = json.loads(a.stdout)
    assert plan["kind"] == "plan" and plan["orders"]
    assert "plan rebalance" in a.stderr  # the table goes to stderr


def test_weights_command() -> None:
    res = invoke("weights", "--snapshot", SNAP)
    assert res.exit_code == 0
    w = json.loads(res.stdout)
    assert w["kind"] == "weights" and [x["leg"] for x in w["legs"]] == [
        "BTC_SPOT",
        "BTC_PERP_LONG",
        "BTC_PERP_SHORT",
    ]
    assert abs(w["net_delta_pct_nav"]) < 1


def test_quiet_suppresses_tables() -> None:
    res = invoke("-q", "weights", "--snapshot", SNAP)
    assert res.exit_code == 0 and res.stderr == ""


def test_execute_reads_plan_from_stdin(tmp_path: Path) -> None:
    plan = invoke("plan", "--snapshot", SNAP, "--candles", SPOT).stdout
    res = invoke("execute", "--dry-run", "--state", str(tmp_path / "s.db"), stdin=plan)
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["dry_run"] is True
    assert not (tmp_path / "s.db").exists()


def test_paper_execution_is_idempotent_through_the_cli(tmp_path: Path) -> None:
    state = str(tmp_path / "s.db")
    seed_paper_account(state, SNAP)
    plan = invoke("plan", "--snapshot", SNAP, "--candles", SPOT).stdout
    first = json.loads(invoke("execute", "--state", state, stdin=plan).stdout)
    second = json.loads(invoke("execute", "--state", state, stdin=plan).stdout)
    assert first["status"] == "completed" and second["status"] == "already_executed"
    # and the next plan sees the cooldown
    res = invoke("plan", "--snapshot", SNAP, "--candles", SPOT, "--state", state)
    assert json.loads(res.stdout)["status"] == "cooldown"


@pytest.mark.parametrize(
    ("args", "stdin", "code", "needle"),
    [
        (
            ("plan", "--snapshot", "/nope.json", "--candles", SPOT),
            None,
            ExitCode.INVALID_INPUT,
            "file not found",
        ),
        (
            ("plan", "--snapshot", SNAP, "--candles", "/nope/"),
            None,
            ExitCode.INVALID_INPUT,
            "file not found",
        ),
        (("execute",), "{bad", ExitCode.INVALID_INPUT, "malformed JSON"),
        (("execute",), "", ExitCode.INVALID_INPUT, "empty input"),
        (
            ("execute", "-"),
            '{"kind": "snapshot", "schema_version": 1}',
            ExitCode.INVALID_INPUT,
            "expected kind 'plan'",
        ),
        (("execute", "--dry-run", "--live"), "{}", ExitCode.USAGE, "exclude each other"),
        (("schema", "nonsense"), None, ExitCode.USAGE, "unknown kind"),
        (("weights", "--snapshot", str(EXAMPLES)), None, ExitCode.INVALID_INPUT, "is a folder"),
    ],
)
def test_user_errors_are_one_line_with_documented_code(args, stdin, code, needle) -> None:
    res = invoke(*args, stdin=stdin)
    assert res.exit_code == code, (res.stdout, res.stderr)
    assert needle in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert res.stderr.startswith("error: ")


def test_bad_log_level_is_a_usage_error() -> None:
    res = invoke("--log-level", "LOUD", "weights")
    assert res.exit_code == ExitCode.USAGE and "LOUD" in res.stderr


def test_bad_config_exit_code(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[strategy]\nthreshhold_floor = 0.01\n")
    res = invoke("weights", "--snapshot", SNAP, "--config", str(cfg))
    assert res.exit_code == ExitCode.CONFIG
    assert "unknown key 'strategy.threshhold_floor'" in res.stderr


def test_guardrail_exit_code_still_prints_the_plan(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[guardrails]\nmax_data_age = "1m"\n')
    snap = json.loads((EXAMPLES / "snapshot.json").read_text())
    snap["as_of_ms"] += 3_600_000  # an hour after the last candle
    res = invoke(
        "plan", "--snapshot", "-", "--candles", SPOT, "--config", str(cfg), stdin=json.dumps(snap)
    )
    assert res.exit_code == ExitCode.GUARDRAIL
    plan = json.loads(res.stdout)
    assert plan["safe_mode"] and plan["orders"] == [] and "stale" in res.stderr


def test_schema_command_prints_json_schema() -> None:
    res = invoke("schema", "plan")
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert "orders" in schema["properties"]


def test_internal_error_is_one_line_and_debug_shows_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from btcn.stages import weights as stage

    def boom(*_a, **_k):
        raise ZeroDivisionError("kaput")

    monkeypatch.setattr(stage, "run", boom)
    res = invoke("weights", "--snapshot", SNAP)
    assert res.exit_code == ExitCode.INTERNAL
    assert (
        "internal error: ZeroDivisionError: kaput" in res.stderr and "Traceback" not in res.stderr
    )
    res = invoke("--debug", "weights", "--snapshot", SNAP)
    assert "Traceback" in res.stderr
    from btcn.cli.context import STATE

    STATE.debug = False


def test_pipeline_script_prints_only_the_report() -> None:
    env = {**os.environ, "BTCN": BTCN}
    out = subprocess.run(["bash", str(EXAMPLES / "pipeline.sh")], capture_output=True, text=True, env=env,
                         check=True, timeout=120)  # fmt: skip
    report = json.loads(out.stdout)  # stdout is exactly one JSON document
    assert report["kind"] == "execution_report" and report["dry_run"] is True
    assert report["status"] == "completed" and len(report["orders"]) == 2
    assert "plan rebalance" in out.stderr


def test_real_pipe_between_processes(tmp_path: Path) -> None:
    cmd = f"'{BTCN}' plan --snapshot '{SNAP}' --candles '{SPOT}' | '{BTCN}' execute --dry-run --state '{tmp_path}/s.db'"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, check=True,
                         timeout=120, cwd=ROOT)  # fmt: skip
    assert json.loads(out.stdout)["kind"] == "execution_report"


def test_stdin_terminal_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from btcn.cli import console
    from btcn.errors import InvalidInputError

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(console.sys, "stdin", Tty())
    with pytest.raises(InvalidInputError, match="stdin is a terminal"):
        console.read_text_input("-", "plan")


def test_rerun_of_a_partial_plan_still_exits_partial(tmp_path: Path) -> None:
    from decimal import Decimal

    from btcn.core.book import Book
    from btcn.runtime.state import StateStore

    state = str(tmp_path / "s.db")
    with StateStore(state) as st:  # too little USDT: the spot buy fills only in part
        st.save_paper_book(
            Book(spot_usdt=Decimal(500), spot_btc=Decimal(0), futures_usdt=Decimal(50_000)), 0
        )
    plan = invoke("plan", "--snapshot", SNAP, "--candles", SPOT).stdout
    first = invoke("execute", "--state", state, "--force", stdin=plan)  # not the plan's book
    assert first.exit_code == ExitCode.PARTIAL and json.loads(first.stdout)["status"] == "partial"
    again = invoke("execute", "--state", state, "--force", stdin=plan)
    report = json.loads(again.stdout)
    assert report["status"] == "already_executed" and report["previous_status"] == "partial"
    assert again.exit_code == ExitCode.PARTIAL


def test_paper_execute_of_a_plan_from_another_book_is_refused_then_the_paper_flow_works(
    tmp_path: Path,
) -> None:
    state = str(tmp_path / "s.db")
    plan = invoke("plan", "--snapshot", SNAP, "--candles", SPOT).stdout
    refused = invoke("execute", "--state", state, stdin=plan)
    assert refused.exit_code == ExitCode.INVALID_INPUT and refused.stdout == ""
    assert "the paper account does not match the plan's snapshot" in refused.stderr
    assert "btcn fetch snapshot --venue paper" in refused.stderr
    snap = invoke("fetch", "snapshot", "--venue", "paper", "--candles", SPOT, "--state", state)
    plan = invoke("plan", "--snapshot", "-", "--candles", SPOT, "--state", state, stdin=snap.stdout)
    done = invoke("execute", "--state", state, stdin=plan.stdout)
    assert done.exit_code == 0 and json.loads(done.stdout)["status"] in (
        "completed",
        "nothing_to_do",
    )
