"""End to end on the example data: backtest -> audit -> report, and equity.html in Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from btcn.audit.workbook import KPI_SHEET, PROPOSAL_SHEET, read_sheet
from tests.chromium import non_background_fraction, render
from tests.services import require_binary

ROOT = Path(__file__).resolve().parents[2]
EX = ROOT / "examples"
BTCN = str(Path(sys.executable).parent / "btcn")

pytestmark = pytest.mark.slow  # real processes, LibreOffice and Chromium: the slow lane

# The chain, with one change: audit exits 8 when it finds drift (one month of example data
# has a 30-day Sharpe far below 1.34), which would stop a plain `&&` chain; cron scripts that want
# the report regardless accept 8 explicitly.
CHAIN = f"""
set -eu
"{BTCN}" -q backtest --candles "{EX}/data/spot_5m" --perp "{EX}/data/perp_5m" \\
    --funding "{EX}/data/funding" --signals "{EX}/signals.csv" --config "{EX}/btcn.toml" \\
    --out run > backtest.json
rc=0; "{BTCN}" -q audit --run run --log Log.xlsx --config "{EX}/btcn.toml" > audit.json || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 8 ]
echo "$rc" > audit.rc
"{BTCN}" -q report --run run --config "{EX}/btcn.toml" > digest.json
"""


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCN_")}
    proc = subprocess.run(["bash", "-c", CHAIN], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return work


def test_backtest_audit_report_chain(e2e: Path) -> None:
    audit = json.loads((e2e / "audit.json").read_text())
    rc = int((e2e / "audit.rc").read_text())
    assert rc == (8 if audit["drift"] else 0)
    summary = json.loads((e2e / "backtest.json").read_text())
    kpis = {k["name"]: k for k in audit["kpis"]}
    # The audit's KPIs are the backtest's KPIs (one implementation).
    assert kpis["max_drawdown"]["actual"] == pytest.approx(summary["max_drawdown"], rel=1e-12)
    assert kpis["fees_per_nav_per_day"]["actual"] == pytest.approx(
        summary["fees_per_nav_per_day"], rel=1e-12
    )
    digest = json.loads((e2e / "digest.json").read_text())
    assert digest["day"] == "2025-01-31" and digest["roi_run"] == pytest.approx(summary["roi"])
    assert (e2e / "run" / "digest-2025-01-31.md").is_file()
    rows = [len(read_sheet(e2e / "Log.xlsx", s)) for s in (KPI_SHEET, PROPOSAL_SHEET)]
    assert rows[0] == 2
    # Same-day re-run: the workbook keeps the same number of rows.
    again = subprocess.run([BTCN, "-q", "audit", "--run", "run", "--log", "Log.xlsx", "--config",
                            str(EX / "btcn.toml")], cwd=e2e, capture_output=True, text=True,
                           check=False)  # fmt: skip
    assert again.returncode == rc
    assert [len(read_sheet(e2e / "Log.xlsx", s)) for s in (KPI_SHEET, PROPOSAL_SHEET)] == rows


def test_equity_html_renders_in_chromium(e2e: Path, tmp_path: Path) -> None:
    chromium = require_binary("chromium")
    # every panel: NAV, attribution, drawdown, net delta, liquidation (+ margin overlay), drift
    # and rebalances are plotly subplots (8 with the overlay axis)
    page = render(chromium, (e2e / "run" / "equity.html").as_uri(), tmp_path / "profile",
                  selector=".js-plotly-plot .cartesianlayer .subplot", height=1600)  # fmt: skip
    assert page.console_errors == [] and page.exceptions == []
    # Self-contained: nothing but the file itself (and inline data) is requested.
    assert [u for u in page.requests if not u.startswith(("file:", "data:", "blob:"))] == []
    assert page.selector_count >= 7, f"{page.selector_count} panels rendered"
    (tmp_path / "equity.png").write_bytes(page.png)
    drawn, colours = non_background_fraction(page.png)
    assert drawn > 0.03 and colours > 50, (drawn, colours)


BROKEN = """<!doctype html><html><body><div id="c"></div>
<script>
console.error("boom from console");
fetch("http://example.com/x").catch(() => {});
setTimeout(() => { throw new Error("late failure"); }, 0);
</script></body></html>"""

BLANK = "<!doctype html><html><body><div class='chart'></div></body></html>"


def test_chromium_harness_catches_errors_requests_and_blank_pages(tmp_path: Path) -> None:
    """The harness itself must be able to fail: a console error, an uncaught exception, a network
    request and a blank page are each detected."""
    chromium = require_binary("chromium")
    broken = tmp_path / "broken.html"
    broken.write_text(BROKEN)
    page = render(chromium, broken.as_uri(), tmp_path / "p1", selector="#c", timeout_s=20)
    assert any("boom from console" in e for e in page.console_errors)
    assert any("late failure" in e for e in page.exceptions)
    assert "http://example.com/x" in page.requests
    blank = tmp_path / "blank.html"
    blank.write_text(BLANK)
    page = render(chromium, blank.as_uri(), tmp_path / "p2", selector=".chart svg", timeout_s=3)
    assert page.selector_count == 0
    drawn, _ = non_background_fraction(page.png)
    assert drawn < 0.001
