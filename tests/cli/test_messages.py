"""Messages a person can read: brackets shown literally on every path, times and durations for
people, tables never cut in a pipe, global options after the command."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from btcn.cli import console as console_mod
from btcn.cli.app import app, hoist_global_options
from btcn.cli.context import STATE
from btcn.contracts import (
    Action,
    CooldownInfo,
    DroppedOrder,
    ExecutionReport,
    GuardrailResult,
    Leg,
    Side,
)
from tests.helpers import START_MS, make_plan, order

SRC = Path(__file__).resolve().parents[2] / "src" / "btcn"
LITERAL = "see [guardrails] [bold]settings[/] [/]"


class Captured:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.text = ""

    def getvalue(self) -> str:
        self.text += self.capsys.readouterr().err
        return self.text


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[Captured]:
    """What the stderr console writes when stderr is not a terminal (a pipe, a log file)."""
    console_mod.err_console.cache_clear()
    yield Captured(capsys)
    console_mod.err_console.cache_clear()


def test_markup_is_interpreted_only_in_btcn_own_templates() -> None:
    """Every message path: the one console has markup off, and the only markup parsing is
    ``styled``, whose template is always a plain string literal (values are escaped)."""
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            if name in ("from_markup", "render_markup"):
                assert path.name == "console.py", f"markup parsed outside cli/console.py: {where}"
            if name == "Console":
                assert path.name == "console.py", f"a second console: {where}"
                kw = {k.arg: k.value for k in node.keywords}
                assert isinstance(kw.get("markup"), ast.Constant) and kw["markup"].value is False
            if name == "styled":
                first = node.args[0]
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"styled() template must be a literal: {where}"
                )
            if name == "TextColumn":
                kw = {k.arg: k.value for k in node.keywords}
                assert "markup" in kw or (node.args and isinstance(node.args[0], ast.Constant)), (
                    f"TextColumn with markup from a value: {where}"
                )


def test_no_markup_tag_outside_a_styled_template() -> None:
    """With markup off, a ``[yellow]…[/]`` written anywhere else would be printed as is."""
    import re

    tag = re.compile(r"\[/\]|\[(bold|dim|red|green|yellow|cyan|italic)\b")
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        templates = {id(n.args[0]) for n in ast.walk(tree) if isinstance(n, ast.Call)
                     and getattr(n.func, "id", getattr(n.func, "attr", "")) == "styled"}  # fmt: skip
        for node in ast.walk(tree):
            literal = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if literal and tag.search(node.value) and id(node) not in templates:
                assert path.name == "console.py", f"{path.relative_to(SRC)}:{node.lineno}"


def test_every_renderer_shows_brackets_literally(captured: Captured) -> None:
    from btcn.audit.compare import KpiCheck, Proposal
    from btcn.cli import render, render_ops
    from btcn.cli.errors import print_error

    print_error(f"error {LITERAL}", hint=f"hint {LITERAL}")
    console_mod.warn(f"warning {LITERAL}")
    plan = make_plan([order(Leg.BTC_SPOT, Action.BUY, "0.01", "100000")])
    plan = plan.model_copy(update={
        "guardrails": [GuardrailResult(name="data_age", ok=False, value="18576000000 ms",
                                       limit="900000 ms", effect="empty_plan", detail=LITERAL)],
        "dropped": [DroppedOrder(leg=Leg.BTC_PERP_SHORT, action=Action.OPEN_SHORT, side=Side.SELL,
                                 qty_btc=1, reason=LITERAL)],
        "cooldown": CooldownInfo(cooldown_ms=3_600_000, last_rebalance_ms=START_MS - 600_000,
                                 next_allowed_ms=START_MS + 3_000_000, active=True),
    })  # fmt: skip
    render.plan_table(plan)
    report = ExecutionReport(as_of_ms=START_MS, venue="paper", plan_digest="d", plan_as_of_ms=1,
                             dry_run=True, live=False, status="completed", note=LITERAL,
                             orders=[], rebalance_recorded=False)  # fmt: skip
    render.execution_table(report)
    render.summary_table({"start": "a", "end": "b", "bars": 2, "note": LITERAL}, {}, LITERAL)
    render_ops.audit_table(LITERAL, [KpiCheck("roi", 0.1, 0.1, "higher", 0.0, 0.1, None, "ok")],
                           [Proposal("roi", "warning", LITERAL, "1", "2", LITERAL, "e")])  # fmt: skip
    out = captured.getvalue()
    # each path: the error, its hint, a warning, a guardrail detail, a dropped order, the
    # execution note, a table cell, the file path, the audit title, the proposal setting and change
    assert out.count("[guardrails] [bold]settings[/] [/]") >= 11, out
    assert "\\[" not in out  # nothing escaped twice
    assert "stale" not in out or "18576000000" not in out
    assert (
        "215d vs limit 15m" in out and "ms" not in out.split("guardrail data_age")[1].split("\n")[0]
    )
    assert "cooldown active until 2026-01-01T00:50:00Z (50m after the plan)" in out


def test_audit_and_alert_cells_keep_their_colours_and_text(captured: Captured) -> None:
    from btcn.cli import render_ops
    from btcn.stages.monitor import AlertOutcome, AlertRun

    run = AlertRun(outcomes=[AlertOutcome(key="[k]", active=True, sent=None, detail=LITERAL)])
    render_ops.alerts_table(run)
    out = captured.getvalue()
    assert "[k]" in out and LITERAL in out and "active" in out


def test_tables_are_never_cut_when_stderr_is_not_a_terminal(captured: Captured) -> None:
    from btcn.cli import render

    long_leg = order(Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, "123456789", "102379.7")
    render.plan_table(make_plan([long_leg]))
    out = captured.getvalue()
    assert "OPEN_SHORT 123456789 contracts @ 102379.7" in out and "…" not in out


def test_width_wraps_instead_of_cutting(captured: Captured) -> None:
    from btcn.cli import render

    STATE.width = 50
    try:
        render.plan_table(make_plan([order(Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, "105", "1.5")]))
    finally:
        STATE.width = None
    lines = captured.getvalue().splitlines()
    assert max(len(line) for line in lines[1:]) <= 50 and "…" not in captured.getvalue()


def test_human_durations() -> None:
    from btcn.cli.render import human_duration_ms, human_ms

    cases = {0: "0ms", 250: "250ms", 12_500: "12.5s", 900_000: "15m", 3_723_000: "1h 2m",
             18_576_000_000: "215d", 90_061_000: "1d 1h", -900_000: "-15m"}  # fmt: skip
    for ms, text in cases.items():
        assert human_duration_ms(ms) == text
    assert human_ms("900000 ms") == "15m" and human_ms("0.25") == "0.25"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["plan", "-q", "--x", "1"], ["-q", "plan", "--x", "1"]),
        (["fetch", "candles", "--debug", "--log-level", "DEBUG"],
         ["--debug", "--log-level", "DEBUG", "fetch", "candles"]),
        (["backtest", "--width=120", "--out", "o"], ["--width=120", "backtest", "--out", "o"]),
        (["-q", "plan"], ["-q", "plan"]),
        (["plan", "--", "-q"], ["plan", "--", "-q"]),
    ],
)  # fmt: skip
def test_global_options_are_moved_before_the_command(argv: list[str], expected: list[str]) -> None:
    assert hoist_global_options(argv) == expected


def test_quiet_after_the_command_silences_the_tables(examples: Path) -> None:
    args = ["plan", "--snapshot", str(examples / "snapshot.json"), "--candles",
            str(examples / "data" / "spot_5m")]  # fmt: skip
    loud = subprocess.run(
        [sys.executable, "-m", "btcn", *args], capture_output=True, text=True, check=False
    )
    quiet = subprocess.run([sys.executable, "-m", "btcn", *args, "-q"], capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert loud.returncode == quiet.returncode == 0 and loud.stdout == quiet.stdout
    assert "leg" in loud.stderr and "leg" not in quiet.stderr


def test_an_error_naming_a_bracketed_path_keeps_it(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["plan", "--snapshot", str(tmp_path / "[guardrails]" / "s.json"),
                                   "--candles", str(tmp_path)])  # fmt: skip
    assert res.exit_code == 3 and "[guardrails]" in res.output
