"""`btcn audit`: KPI comparison, proposals, targets file, Log.xlsx rules, exit codes, LibreOffice."""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from btcn.audit.compare import check, check_all, fmt_kpi, propose
from btcn.audit.targets import DEFAULT_TARGETS, ROADMAP_TARGETS, Target, load_targets
from btcn.audit.workbook import (
    KPI_COLUMNS,
    KPI_SHEET,
    PROPOSAL_SHEET,
    WorkbookError,
    read_sheet,
    update_log,
)
from btcn.cli.app import app
from btcn.core import kpis as K
from btcn.errors import InvalidInputError
from btcn.reports.runfolder import RunFolder
from tests.runfolder_fixture import make_run_folder
from tests.services import require_binary

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


# --- comparison -------------------------------------------------------------------------------
def test_direction_tolerance_and_status() -> None:
    hi = Target(target=1.34, better="higher")
    lo = Target(target=0.137, better="lower", hard_limit=0.20)
    assert check("sharpe_30d", 1.30, hi, 0.05).status == "ok"  # 3 % worse
    assert check("sharpe_30d", 1.20, hi, 0.05).status == "drift"  # 10 % worse
    assert check("sharpe_30d", 2.00, hi, 0.05).status == "better"
    assert check("sharpe_30d", 1.20, hi, 0.05).deviation == pytest.approx(0.14 / 1.34)
    assert check("max_drawdown", 0.140, lo, 0.05).status == "ok"
    assert check("max_drawdown", 0.150, lo, 0.05).status == "drift"
    assert check("max_drawdown", 0.210, lo, 0.05).status == "breach"
    assert check("max_drawdown", 0.050, lo, 0.05).status == "better"
    na = check("sharpe_30d", math.nan, hi, 0.05)
    assert na.status == "n/a" and not na.drifted and math.isnan(na.deviation)
    # A negative target (higher better) still measures relative to |target|.
    assert check("roi", -0.12, Target(target=-0.1, better="higher"), 0.05).status == "drift"
    assert fmt_kpi("max_drawdown", 0.137) == "13.70 %"
    assert fmt_kpi("fees_per_nav_per_day", 0.0028) == "0.2800 %"
    assert fmt_kpi("sharpe", math.nan) == "n/a"


def test_file_tolerance_overrides_setting() -> None:
    t = ROADMAP_TARGETS.model_copy(update={"tolerance": 0.5})
    checks = check_all({"sharpe_30d": 1.0}, t, 0.05)
    assert checks[0].status == "ok" and checks[0].tolerance == 0.5
    assert [c.status for c in checks[1:]] == ["n/a", "n/a"]


def test_proposals_are_concrete() -> None:
    cur = {"strategy.threshold_floor": 0.005, "strategy.cooldown_ms": 3_600_000,
           "guardrails.max_net_delta": 0.2}  # fmt: skip
    ev = {"fees": "100 USDT"}
    fees = propose(
        check("fees_per_nav_per_day", 0.0042, ROADMAP_TARGETS.kpis["fees_per_nav_per_day"], 0.05),
        cur,
        ev,
    )
    assert (fees.setting, fees.current, fees.suggested) == (
        "strategy.threshold_floor",
        "0.005",
        "0.0075",
    )
    assert "raise the threshold floor" in fees.change and fees.rule == "fee_drag_band"
    assert fees.evidence.startswith("fee_drag_band: ") and fees.evidence.endswith("| fees 100 USDT")
    huge = propose(
        check("fees_per_nav_per_day", 0.03, ROADMAP_TARGETS.kpis["fees_per_nav_per_day"], 0.05),
        cur,
        ev,
    )
    assert huge.suggested == "0.01"  # at most doubled in one step
    dd = propose(check("max_drawdown", 0.16, ROADMAP_TARGETS.kpis["max_drawdown"], 0.05), cur, ev)
    assert (dd.setting, dd.suggested, dd.severity) == (
        "guardrails.max_net_delta",
        "0.17",
        "warning",
    )
    breach = propose(
        check("max_drawdown", 0.25, ROADMAP_TARGETS.kpis["max_drawdown"], 0.05), cur, ev
    )
    assert breach.severity == "critical" and "stop live trading" in breach.change
    sh = propose(check("sharpe_30d", 0.5, ROADMAP_TARGETS.kpis["sharpe_30d"], 0.05), cur, ev)
    assert (sh.setting, sh.current, sh.suggested) == ("strategy.cooldown", "1h", "2h")
    other = propose(check("roi", -0.1, Target(target=0.1, better="higher"), 0.05), {}, {})
    assert other.setting == "(review)"


# --- targets file -----------------------------------------------------------------------------
def test_example_targets_file_equals_the_defaults() -> None:
    t = load_targets(EXAMPLES / "targets.toml")
    assert t.kpis == DEFAULT_TARGETS.kpis and t.tolerance == 0.05
    assert load_targets(None) is DEFAULT_TARGETS and load_targets("") is DEFAULT_TARGETS
    assert set(ROADMAP_TARGETS.kpis) < set(DEFAULT_TARGETS.kpis)  # the roadmap's KPIs are kept


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[speed]\ntarget = 1\nbetter = 'higher'\n", "unknown KPI"),
        ("[sharpe]\ntarget = 1\nbetter = 'up'\n", "sharpe.better"),
        ("[sharpe]\ntarget = 1\nbetter = 'higher'\ncolour = 1\n", "sharpe.colour: unknown key"),
        ("[sharpe]\ntarget = 0\nbetter = 'higher'\n", "target of 0"),
        ("tolerance = 0.05\n", "no KPI targets"),
        ("[sharpe\n", "invalid TOML"),
    ],
)
def test_bad_targets_files(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "t.toml"
    f.write_text(text)
    with pytest.raises(InvalidInputError, match=match):
        load_targets(f)


def test_missing_targets_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not found"):
        load_targets(tmp_path / "nope.toml")


# --- workbook ---------------------------------------------------------------------------------
D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)


def kpi_row(day: dt.date, run: str, nav: float) -> list:
    return [day, run, dt.datetime(2025, 3, 1, 12), 30.0, nav, 0.01, 1.5, 1.4, 2.0, 0.05, 12.5,
            0.001, 3.0, 0, "ok"]  # fmt: skip


def prop_row(day: dt.date, run: str, kpi: str) -> list:
    return [day, run, kpi, 1.0, 1.34, "higher", 0.25, 0.05, "warning", "s", "1", "2", "c", "e"]


def test_workbook_layout(tmp_path: Path) -> None:
    log = tmp_path / "Log.xlsx"
    update_log(log, D1, "run", [kpi_row(D1, "run", 100.0)], [prop_row(D1, "run", "sharpe")])
    wb = load_workbook(log)
    ws = wb[KPI_SHEET]
    assert [c.value for c in ws[1]] == [c.name for c in KPI_COLUMNS]
    assert ws.freeze_panes == "A2" and wb[PROPOSAL_SHEET].freeze_panes == "A2"
    assert ws["A1"].font.b
    fmts = {c.name: ws.cell(row=2, column=i + 1).number_format for i, c in enumerate(KPI_COLUMNS)}
    assert fmts["roi"] == "0.00%" and fmts["date"] == "yyyy-mm-dd"
    assert fmts["nav_end_usdt"] == "#,##0.00" and fmts["fees_per_nav_per_day"] == "0.0000%"
    assert oct(log.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_same_day_replaces_other_days_and_sheets_kept(tmp_path: Path) -> None:
    log = tmp_path / "Log.xlsx"
    wb = Workbook()
    wb.active.title = "Notes"
    wb.active["A1"] = "my notes"
    wb.save(log)
    log.chmod(0o640)
    update_log(
        log,
        D1,
        "run",
        [kpi_row(D1, "run", 1.0)],
        [prop_row(D1, "run", "a"), prop_row(D1, "run", "b")],
    )
    update_log(log, D1, "other", [kpi_row(D1, "other", 9.0)], [])
    update_log(log, D2, "run", [kpi_row(D2, "run", 2.0)], [prop_row(D2, "run", "c")])
    # Re-run of day 1 with fewer proposals: replaced, not appended.
    update_log(log, D1, "run", [kpi_row(D1, "run", 3.0)], [prop_row(D1, "run", "a")])
    kpis = read_sheet(log, KPI_SHEET)[1:]
    assert sorted((r[0].date(), r[1], r[4]) for r in kpis) == [
        (D1, "other", 9.0), (D1, "run", 3.0), (D2, "run", 2.0)
    ]  # fmt: skip
    props = read_sheet(log, PROPOSAL_SHEET)[1:]
    assert sorted((r[0].date(), r[2]) for r in props) == [(D1, "a"), (D2, "c")]
    assert read_sheet(log, "Notes") == [["my notes"]]
    assert log.stat().st_mode & 0o777 == 0o640  # permissions kept across the replace


@settings(max_examples=25)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from([D1, D2]), st.sampled_from(["r1", "r2"]),
                  st.floats(-1e9, 1e9, allow_nan=False), st.integers(0, 3)),
        min_size=1, max_size=6,
    )
)  # fmt: skip
def test_workbook_holds_exactly_the_last_write_per_day_and_run(tmp_path_factory, ops) -> None:
    """Idempotence: whatever the sequence of audits, the workbook holds one KPI row per (day, run)
    (the last one written) and exactly that write's proposals."""
    log = tmp_path_factory.mktemp("wb") / "Log.xlsx"
    last: dict[tuple[dt.date, str], tuple[float, int]] = {}
    for day, run, nav, n_props in ops:
        update_log(log, day, run, [kpi_row(day, run, nav)],
                   [prop_row(day, run, f"k{i}") for i in range(n_props)])  # fmt: skip
        last[(day, run)] = (nav, n_props)
    kpis = read_sheet(log, KPI_SHEET)[1:]
    # openpyxl stores 16 significant digits: equal to within one unit in the last place.
    got = {(r[0].date(), r[1]): r[4] for r in kpis}
    assert got == pytest.approx({k: v[0] for k, v in last.items()}, rel=1e-15, abs=1e-300)
    assert len(kpis) == len(last)
    props = read_sheet(log, PROPOSAL_SHEET)[1:]
    assert len(props) == sum(n for _, n in last.values())


def test_open_in_another_program_is_refused_untouched(tmp_path: Path) -> None:
    log = tmp_path / "Log.xlsx"
    update_log(log, D1, "run", [kpi_row(D1, "run", 1.0)], [])
    before = log.read_bytes()
    for lock in (tmp_path / ".~lock.Log.xlsx#", tmp_path / "~$Log.xlsx"):
        lock.write_text("user,host")
        with pytest.raises(WorkbookError, match="open in another program") as err:
            update_log(log, D2, "run", [kpi_row(D2, "run", 2.0)], [])
        assert "close the workbook" in (err.value.hint or "")
        lock.unlink()
    assert log.read_bytes() == before


def test_corrupt_workbook_is_never_truncated(tmp_path: Path) -> None:
    log = tmp_path / "Log.xlsx"
    log.write_bytes(b"PK\x03\x04 this is not really a workbook")
    before = log.read_bytes()
    with pytest.raises(WorkbookError, match=r"not a readable .xlsx workbook"):
        update_log(log, D1, "run", [kpi_row(D1, "run", 1.0)], [])
    assert log.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_foreign_headers_and_locks_and_readonly(tmp_path: Path) -> None:
    log = tmp_path / "Log.xlsx"
    wb = Workbook()
    wb.active.title = KPI_SHEET
    wb.active.append(["day", "value"])
    wb.save(log)
    with pytest.raises(WorkbookError, match="unexpected headers"):
        update_log(log, D1, "run", [kpi_row(D1, "run", 1.0)], [])
    log.unlink()
    update_log(log, D1, "run", [kpi_row(D1, "run", 1.0)], [])
    assert not (tmp_path / ".Log.xlsx.btcn-lock").exists()  # no lock file is left behind
    fd = os.open(tmp_path / ".Log.xlsx.btcn-lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(WorkbookError, match="another btcn process"):
            update_log(log, D1, "run", [kpi_row(D1, "run", 1.0)], [])
    finally:
        os.close(fd)
    if os.geteuid() != 0:  # root can write anything
        log.chmod(0o444)
        with pytest.raises(WorkbookError, match="read-only"):
            update_log(log, D1, "run", [kpi_row(D1, "run", 1.0)], [])
    d = tmp_path / "dir.xlsx"
    d.mkdir()
    with pytest.raises(WorkbookError, match="not a file"):
        update_log(d, D1, "run", [kpi_row(D1, "run", 1.0)], [])


# --- the stage and the command ----------------------------------------------------------------
def test_audit_kpis_are_the_core_kpis(tmp_path: Path) -> None:
    run = make_run_folder(tmp_path / "run", days=35)
    r = invoke("audit", "--run", str(run), "--log", str(tmp_path / "Log.xlsx"))
    out = json.loads(r.stdout)
    rf = RunFolder.load(run)
    ts, nav = rf.ts_ms, rf.nav
    _, day_nav = K.daily_nav(ts, nav, rf.bar_ms)
    rets = K.daily_returns(100_000.0, day_nav)
    kp = {k["name"]: k for k in out["kpis"]}
    assert kp["sharpe_30d"]["actual"] == pytest.approx(K.sharpe(rets[-30:]), rel=1e-12)
    assert len(rets) == 35
    assert kp["max_drawdown"]["actual"] == pytest.approx(
        K.max_drawdown(np.concatenate([[1e5], nav]))
    )
    with open(run / "summary.csv") as fh:
        summary = next(csv.DictReader(fh))
    assert kp["fees_per_nav_per_day"]["actual"] == pytest.approx(
        float(summary["fees_per_nav_per_day"])
    )


def test_audit_exit_codes_and_same_day_rerun(tmp_path: Path) -> None:
    bad = make_run_folder(tmp_path / "bad", days=35, drift_per_bar=-2e-6)
    good = make_run_folder(tmp_path / "good", days=35, drift_per_bar=3e-5, fee_per_trade=1.0)
    log = tmp_path / "Log.xlsx"
    r = invoke("audit", "--run", str(bad), "--log", str(log))
    assert r.exit_code == 8, r.output
    out = json.loads(r.stdout)
    assert out["kind"] == "audit" and out["drift"] is True and out["proposals"]
    assert "proposal" in r.stderr and "drift" in r.stderr
    rows = (len(read_sheet(log, KPI_SHEET)), len(read_sheet(log, PROPOSAL_SHEET)))
    assert invoke("audit", "--run", str(bad), "--log", str(log)).exit_code == 8
    assert (len(read_sheet(log, KPI_SHEET)), len(read_sheet(log, PROPOSAL_SHEET))) == rows
    ok = invoke("audit", "--run", str(good), "--log", str(log))
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["drift"] is False
    assert len(read_sheet(log, KPI_SHEET)) == rows[0] + 1


def test_audit_options(tmp_path: Path, monkeypatch) -> None:
    run = make_run_folder(tmp_path / "run", days=10, drift_per_bar=-2e-6, with_run_json=False)
    t = tmp_path / "t.toml"
    t.write_text("[roi]\ntarget = -0.5\nbetter = 'higher'\n")
    r = invoke("audit", "--run", str(run), "--log", "-", "--targets", str(t))
    assert r.exit_code == 0 and json.loads(r.stdout)["log_path"] is None
    assert not (tmp_path / "Log.xlsx").exists()
    # A huge tolerance from the command line wins over the targets file and the settings.
    r = invoke("audit", "--run", str(run), "--log", "-", "--tolerance", "1000")
    assert r.exit_code == 0
    # [audit] settings: targets and log path.
    monkeypatch.setenv("BTCN_AUDIT__TARGETS", str(t))
    monkeypatch.setenv("BTCN_AUDIT__LOG_PATH", str(tmp_path / "from-settings.xlsx"))
    assert invoke("audit", "--run", str(run)).exit_code == 0
    assert (tmp_path / "from-settings.xlsx").is_file()


def test_audit_errors(tmp_path: Path) -> None:
    r = invoke("audit", "--run", str(tmp_path / "nope"))
    assert r.exit_code == 3 and "run folder not found" in r.stderr
    (tmp_path / "empty").mkdir()
    r = invoke("audit", "--run", str(tmp_path / "empty"))
    assert r.exit_code == 3 and "no equity.parquet" in r.stderr
    run = make_run_folder(tmp_path / "run", days=2)
    log = tmp_path / "Log.xlsx"
    log.write_text("not a zip")
    r = invoke("audit", "--run", str(run), "--log", str(log))
    assert r.exit_code == 3 and "left untouched" in r.stderr
    assert log.read_text() == "not a zip"


def test_audit_notify_sends_drift_alert(tmp_path: Path, monkeypatch) -> None:
    from tests.monitoring.test_alerts import TOKEN, bot_api, sent_texts
    from tests.services import recording_server

    run = make_run_folder(tmp_path / "run", days=35, drift_per_bar=-2e-6)
    with recording_server(bot_api()) as srv:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("BTCN_TELEGRAM__BASE_URL", srv.url)
        monkeypatch.setenv("BTCN_TELEGRAM__CHAT_ID", "-1")
        args = (
            "audit",
            "--run",
            str(run),
            "--log",
            "-",
            "--notify",
            "--state",
            str(tmp_path / "s.db"),
        )
        assert invoke(*args).exit_code == 8
        assert invoke(*args).exit_code == 8
        texts = sent_texts(srv)
    assert len(texts) == 1 and "Audit drift" in texts[0] and "sharpe_30d" in texts[0]


# --- LibreOffice opens the workbook ------------------------------------------------------------
def _lo_value(text: str):
    if text.endswith("%"):
        return float(text[:-1]) / 100
    try:
        return float(text)
    except ValueError:
        return text


def test_libreoffice_reads_the_workbook(tmp_path: Path) -> None:
    soffice = require_binary("soffice")
    run = make_run_folder(tmp_path / "run", days=35, drift_per_bar=-2e-6)
    log = tmp_path / "Log.xlsx"
    assert invoke("audit", "--run", str(run), "--log", str(log)).exit_code == 8
    wb = Workbook()
    wb.active.title = "Mine"
    out = tmp_path / "csv"
    # All sheets to CSV (sheet parameter -1, LibreOffice >= 7.2), values not "as shown".
    proc = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
         "--norestore", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
         "--outdir", str(out), str(log)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for sheet in (KPI_SHEET, PROPOSAL_SHEET):
        with open(out / f"Log-{sheet}.csv", newline="", encoding="utf-8") as fh:
            lo_rows = list(csv.reader(fh))
        py_rows = read_sheet(log, sheet)
        assert lo_rows[0] == list(py_rows[0])
        assert len(lo_rows) == len(py_rows) >= 2
        for lo_row, py_row in zip(lo_rows[1:], py_rows[1:], strict=True):
            for text, value in zip(lo_row, py_row, strict=True):
                if isinstance(value, dt.datetime):
                    fmt = (
                        "%Y-%m-%d"
                        if value.time() == dt.time() and len(text) == 10
                        else "%Y-%m-%d %H:%M:%S"
                    )
                    assert text == value.strftime(fmt)
                elif isinstance(value, int | float):
                    assert _lo_value(text) == pytest.approx(value, rel=1e-12, abs=1e-15)
                elif value is None:
                    assert text == ""
                else:
                    assert text == value
