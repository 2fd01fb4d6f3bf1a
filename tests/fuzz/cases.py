"""Malformed inputs for every reader and every command, and the checks every answer must pass.

A *case* is one command line over mutated copies of the corpus files (see ``corpus.py``). The
mutations are drawn from a ``random.Random``: the test suite gets it from hypothesis (seeded,
bounded), ``benchmarks/fuzz.py`` from a plain seed, so both run exactly the same generators.

What every answer must satisfy (:func:`check`):

* no traceback (only ``--debug`` shows one) and no internal error (exit 1);
* an exit code of the documented table, and one the case allows (e.g. 3 or 4 for a bad file,
  0 when the mutation happened to keep the input valid);
* stdout empty or one valid JSON document (``monitor push --dry-run`` prints line protocol);
* no temporary file or folder left behind (``.btcn-run-*``, ``*.tmp``);
* after a failure, every file that existed before is unchanged; the corpus is never changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from btcn.errors import ExitCode
from tests.fuzz.corpus import Corpus

DOCUMENTED = {int(c) for c in ExitCode}
BAD_INPUT = {int(ExitCode.INVALID_INPUT), int(ExitCode.CONFIG), int(ExitCode.USAGE)}


@dataclass
class Case:
    command: str
    argv: list[str]
    allowed: set[int]
    what: str
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None
    json_stdout: bool = True
    exit_code: int | None = None  # set by run_case


# --- value and byte mutations -----------------------------------------------------------------

EVIL_JSON: list[Any] = [
    None, "", "x", -1, 0, 1e308, "1e400", "-1e400", "NaN", "Infinity", 10**30, "1" * 40, [], {},
    True, "2025-13-45", -(10**25), 1e-320, "0E-1000",
]  # fmt: skip
EVIL_CELL = ["", "nan", "inf", "-inf", "-1", "0", "1e400", "9" * 30, "x", "1,2", '"', "\u00e9",
             "1e-400", " ", "2009-01-01", "3000-01-01T00:00:00Z", "NULL"]  # fmt: skip
EVIL_TOML = ["nan", "inf", "-inf", '"0s"', '"-5m"', '"' + "9" * 400 + 's"', "-1", '""', "[]", "{}",
             '"x"', "1e400", "0", "true", '"1.5ms"', "[1, [2, [3]]]", "1e300"]  # fmt: skip
EVIL_ENV = ["notjson", "nan", "inf", "-1", "", "0s", "9" * 400 + "s", "[", "{}", '{"X": 1}']


def deep(n: int, open_: str = "[", close: str = "]") -> str:
    return open_ * n + close * n


def mutate_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    kind = rng.choice(["truncate", "latin1", "garbage", "empty", "bom", "nul", "dup", "huge"])
    if kind == "truncate":
        return data[: rng.randrange(max(len(data), 1))], "truncated"
    if kind == "latin1":
        i = rng.randrange(max(len(data), 1))
        return data[:i] + b"\xe9\xff" + data[i:], "not UTF-8"
    if kind == "garbage":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))), "garbage"
    if kind == "empty":
        return b"", "empty"
    if kind == "bom":
        return b"\xef\xbb\xbf" + data, "BOM"
    if kind == "nul":
        i = rng.randrange(max(len(data), 1))
        return data[:i] + b"\x00" + data[i:], "NUL byte"
    if kind == "dup":
        return data + data, "twice"
    return data[:200] + b"1" * 140_000 + data[200:], "a 140 KB field"


def mutate_json(rng: random.Random, text: str) -> tuple[str, str]:
    if rng.random() < 0.15:
        data, what = mutate_bytes(rng, text.encode())
        return data.decode("utf-8", "surrogateescape"), what
    obj = json.loads(text)
    if rng.random() < 0.1:
        return deep(rng.choice([65, 500, 100_000]), "[", "]"), "deeply nested"
    if isinstance(obj, dict) and isinstance(obj.get("as_of_ms"), int) and rng.random() < 0.08:
        obj["as_of_ms"] //= 1000  # seconds where milliseconds belong (issue 17)
        return json.dumps(obj), "as_of_ms in seconds"
    paths: list[tuple[Any, Any]] = []
    stack = [obj]
    while stack:
        node = stack.pop()
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else []
        )
        for k, v in list(items):
            paths.append((node, k))
            stack.append(v)
    if not paths:
        return "[]", "not an object"
    node, key = rng.choice(paths)
    op = rng.random()
    if op < 0.15 and isinstance(node, dict):
        del node[key]
        what = f"dropped {key}"
    elif op < 0.25:
        n = rng.choice([10, 70, 2000])
        node[key] = "__deep__"
        return json.dumps(obj).replace('"__deep__"', deep(n), 1), f"{key} nested {n} deep"
    else:
        node[key] = rng.choice(EVIL_JSON)
        what = f"{key}={node[key]!r}"[:60]
    return json.dumps(obj), what


def mutate_csv(rng: random.Random, text: str) -> tuple[str, str]:
    if rng.random() < 0.2:
        data, what = mutate_bytes(rng, text.encode())
        return data.decode("utf-8", "surrogateescape"), what
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    op = rng.random()
    if op < 0.15 and len(lines) > 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines) + "\n", "rows swapped"
    if op < 0.25:
        lines.insert(i, lines[i])
        return "\n".join(lines) + "\n", "row repeated"
    if op < 0.3:
        return "\n".join(lines[:2]) + "\n", "one row"
    cells = lines[i].split(",")
    c = rng.randrange(len(cells))
    cells[c] = rng.choice(EVIL_CELL)
    lines[i] = ",".join(cells)
    return "\n".join(lines) + "\n", f"line {i + 1} cell {c}={cells[c]!r}"[:60]


TOML_KEYS = {
    "strategy": ["threshold_floor", "atr_multiplier", "atr_window", "atr_periods", "cooldown",
                 "targets", "signal_max_age", "apply_signal_logic"],
    "backtest": ["initial_nav_usdt", "slippage", "maintenance_margin_rate"],
    "risk": ["leverage", "margin_buffer", "transfer_band", "min_liquidation_distance"],
    "guardrails": ["max_data_age", "max_price_deviation", "max_order_notional_usdt"],
    "execution": ["post_only_window", "slippage", "paper_maker_fill_fraction"],
    "paper": ["spot_usdt", "futures_usdt"],
    "watchdog": ["max_rss_mb", "check_interval"],
}  # fmt: skip


def mutate_config(rng: random.Random, text: str) -> tuple[str, str]:
    op = rng.random()
    if op < 0.15:
        data, what = mutate_bytes(rng, text.encode())
        return data.decode("utf-8", "surrogateescape"), what
    if op < 0.22:
        return text + f"\n[deep]\nx = {deep(rng.choice([65, 3000]))}\n", "deeply nested"
    section = rng.choice(list(TOML_KEYS))
    key = rng.choice(TOML_KEYS[section])
    value = rng.choice(EVIL_TOML)
    body = text.replace(f"[{section}]\n", "")  # one table per section
    return body + f"\n[{section}]\n{key} = {value}\n", f"{section}.{key} = {value}"[:60]


def mutate_grid(rng: random.Random, text: str) -> tuple[str, str]:
    if rng.random() < 0.3:
        return mutate_config(rng, text)
    key = rng.choice([k for keys in TOML_KEYS.values() for k in keys][:12])
    section = next(s for s, keys in TOML_KEYS.items() if key in keys)
    values = ", ".join(rng.choice(EVIL_TOML) for _ in range(rng.randint(1, 3)))
    return f'[grid]\n"{section}.{key}" = [{values}]\n', f"grid {section}.{key} = [{values}]"[:60]


def mutate_parquet(rng: random.Random, src: Path, dst: Path) -> str:
    table = pq.read_table(src)
    name = rng.choice(table.column_names)
    i = table.column_names.index(name)
    n = table.num_rows
    kind = rng.choice(["text", "null", "nan", "inf", "huge", "drop", "empty", "bytes", "twice"])
    if kind == "bytes":
        data, what = mutate_bytes(rng, src.read_bytes())
        dst.write_bytes(data)
        return what
    if kind == "text":
        table = table.set_column(i, name, pa.array(["x"] * n))
    elif kind == "null":
        table = table.set_column(i, name, pa.nulls(n, table.schema.field(name).type))
    elif kind in ("nan", "inf"):
        value = float(kind)
        table = table.set_column(i, name, pa.array([value] * n, pa.float64()))
    elif kind == "huge":
        table = table.set_column(i, name, pa.array([10**18] * n, pa.int64()))
    elif kind == "drop":
        table = table.remove_column(i)
    elif kind == "twice":  # the same column name two times (issue 17)
        table = table.append_column(name, table.column(i))
    else:
        table = table.slice(0, 0)
    pq.write_table(table, dst)
    return f"{name}: {kind}"


# --- the cases ---------------------------------------------------------------------------------


def _write(work: Path, name: str, data: str | bytes) -> Path:
    p = work / name
    if isinstance(data, str):
        p.write_bytes(data.encode("utf-8", "surrogateescape"))
    else:
        p.write_bytes(data)
    return p


def _config_or_env(
    rng: random.Random, c: Corpus, work: Path
) -> tuple[list[str], dict[str, str], str]:
    """Mostly the valid config; sometimes a mutated one, or a bad BTCN_* variable."""
    r = rng.random()
    if r < 0.7:
        return ["--config", str(c.config)], {}, ""
    if r < 0.88:
        text, what = mutate_config(rng, c.config.read_text())
        return ["--config", str(_write(work, "btcn.toml", text))], {}, f"config: {what}"
    if r < 0.93:  # a name that sets nothing, or a state store that cannot exist (issue 17)
        name, value = rng.choice([("BTCN_STRATEGY_COOLDOWN", "30m"), ("BTCN_NOSUCH__KEY", "1"),
                                  ("BTCN_STATE__PATH", "/proc/nope/state.db")])  # fmt: skip
        return ["--config", str(c.config)], {name: value}, f"env {name}={value}"
    section = rng.choice(list(TOML_KEYS))
    name = f"BTCN_{section.upper()}__{rng.choice(TOML_KEYS[section]).upper()}"
    value = rng.choice(EVIL_ENV)
    return ["--config", str(c.config)], {name: value}, f"env {name}={value[:20]!r}"


def _mutated(rng: random.Random, c: Corpus, work: Path, src: Path, kind: str) -> tuple[Path, str]:
    dst = work / src.name
    if kind == "json":
        text, what = mutate_json(rng, src.read_text())
        _write(work, src.name, text)
    elif kind == "csv":
        text, what = mutate_csv(rng, src.read_text())
        _write(work, src.name, text)
    else:
        what = mutate_parquet(rng, src, dst)
    return dst, f"{src.name}: {what}"


def case_weights(rng: random.Random, c: Corpus, work: Path) -> Case:
    snap, what = _mutated(rng, c, work, c.snapshot, "json")
    cfg, env, cwhat = _config_or_env(rng, c, work)
    return Case("weights", ["weights", "--snapshot", str(snap), *cfg], BAD_INPUT | {0},
                f"{what} {cwhat}", env)  # fmt: skip


def case_plan(rng: random.Random, c: Corpus, work: Path) -> Case:
    snap, candles, signals = c.snapshot, c.spot_csv, c.signals_csv
    target = rng.choice(["snapshot", "candles", "parquet", "signals", "state", "config"])
    what = ""
    if target == "snapshot":
        snap, what = _mutated(rng, c, work, c.snapshot, "json")
    elif target == "candles":
        candles, what = _mutated(rng, c, work, c.spot_csv, "csv")
    elif target == "parquet":
        candles, what = _mutated(rng, c, work, c.spot_parquet, "parquet")
    elif target == "signals":
        signals, what = _mutated(rng, c, work, c.signals_csv, "csv")
    state = work / "state.db"
    if target == "state":
        state.write_bytes(rng.choice([b"not sqlite" * 50, b"SQLite format 3\x00" + b"\x00" * 90]))
        what = "state store damaged"
    cfg, env, cwhat = _config_or_env(rng, c, work) if target == "config" else (
        ["--config", str(c.config)], {}, "")  # fmt: skip
    argv = ["plan", "--snapshot", str(snap), "--candles", str(candles), "--signals", str(signals),
            "--state", str(state), *cfg]  # fmt: skip
    return Case("plan", argv, BAD_INPUT | {0, 5}, f"{what}{cwhat}", env)


def case_execute(rng: random.Random, c: Corpus, work: Path) -> Case:
    plan, what = _mutated(rng, c, work, c.plan, "json")
    mode = rng.choice(["--dry-run", None])
    state = work / "state.db"
    cfg, env, cwhat = _config_or_env(rng, c, work)
    if rng.random() < 0.1:  # btcn's table names with other columns (issue 17)
        import sqlite3

        with contextlib.closing(sqlite3.connect(state)) as db:
            db.execute("CREATE TABLE rebalances (plan TEXT, y INT)")
            db.commit()
        cwhat += " state store with foreign columns"
    argv = ["execute", str(plan), "--state", str(state), *cfg]
    if mode:
        argv.append(mode)
    stdin = None
    if rng.random() < 0.2:  # the same plan through a pipe
        argv[1] = "-"
        stdin = plan.read_bytes().decode("utf-8", "replace")
    return Case("execute", argv, BAD_INPUT | {0, 7}, f"{what} {cwhat}".strip(), env, stdin=stdin)


def _backtest_inputs(
    rng: random.Random, c: Corpus, work: Path
) -> tuple[list[str], str, dict[str, str]]:
    args = ["--candles", str(c.spot_csv), "--perp", str(c.perp_csv), "--funding", str(c.funding_csv),
            "--signals", str(c.signals_csv)]  # fmt: skip
    target = rng.choice(["candles", "perp", "funding", "funding_pq", "signals", "config", "bounds",
                         "twice", "parquet"])  # fmt: skip
    what, env = "", {}
    if target in ("candles", "perp", "signals"):
        src = {"candles": c.spot_csv, "perp": c.perp_csv, "signals": c.signals_csv}[target]
        path, what = _mutated(rng, c, work, src, "csv")
        args[args.index(str(src))] = str(path)
    elif target == "funding":
        path, what = _mutated(rng, c, work, c.funding_csv, "csv")
        args[args.index(str(c.funding_csv))] = str(path)
    elif target == "funding_pq":
        path, what = _mutated(rng, c, work, c.funding_parquet, "parquet")
        args[args.index(str(c.funding_csv))] = str(path)
    elif target == "parquet":
        path, what = _mutated(rng, c, work, c.spot_parquet, "parquet")
        args[args.index(str(c.spot_csv))] = str(path)
    elif target == "twice":
        one = _write(work, "one.csv", c.spot_csv.read_text().splitlines()[0] + "\n")
        args[1:2] = [str(one), "--candles", str(one)]
        what = "one-row file twice"
    elif target == "bounds":
        bound = rng.choice(
            ["9" * 30, "1e25", "2025-02-30", "-1", "", "3000-01-01", "2025-01-01T99"]
        )
        args += [rng.choice(["--start", "--end"]), bound]
        what = f"bound {bound!r}"
    cfg, env, cwhat = _config_or_env(rng, c, work) if target == "config" else (
        ["--config", str(c.config)], {}, "")  # fmt: skip
    return args + cfg, what + cwhat, env


def _out_folder(rng: random.Random, work: Path, kind: str) -> tuple[str, str]:
    r = rng.random()
    if r < 0.6:
        return str(work / "out"), ""
    if r < 0.7:
        (work / "afile").write_text("keep me")
        return str(work / "afile"), "--out is a file"
    if r < 0.8:
        (work / "afile").write_text("keep me")
        return str(work / "afile" / "sub"), "--out under a file"
    if r < 0.85:
        return "", "--out ''"
    foreign = work / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("my notes")
    return str(foreign), f"--out is a foreign folder ({kind})"


def case_backtest(rng: random.Random, c: Corpus, work: Path) -> Case:
    args, what, env = _backtest_inputs(rng, c, work)
    out, owhat = _out_folder(rng, work, "backtest")
    return Case("backtest", ["-q", "backtest", *args, "--out", out], BAD_INPUT | {0},
                f"{what} {owhat}".strip(), env)  # fmt: skip


def case_sweep(rng: random.Random, c: Corpus, work: Path) -> Case:
    grid = c.grid
    if rng.random() < 0.6:
        text, gwhat = mutate_grid(rng, c.grid.read_text())
        grid = _write(work, "grid.toml", text)
        args = ["--candles", str(c.spot_csv), "--config", str(c.config)]
        what, env = gwhat, {}
    else:
        args, what, env = _backtest_inputs(rng, c, work)
    out, owhat = _out_folder(rng, work, "sweep")
    argv = ["-q", "sweep", *args, "--grid", str(grid), "--out", out, "--workers", "1"]
    if rng.random() < 0.2:
        argv += ["--walk-forward", rng.choice(["1d:12h", "0d:1d", "x", "99d:1d", "1d:" + "9" * 40])]
        what += f" {argv[-1]!r}"
    return Case("sweep", argv, BAD_INPUT | {0, 7}, f"{what} {owhat}".strip(), env)


def _run_copy(rng: random.Random, src: Path, work: Path) -> tuple[Path, str]:
    run = work / src.name
    shutil.copytree(src, run)
    target = rng.choice(["equity.parquet", "trades.parquet", "run.json", "summary.csv", "none",
                         "missing"])  # fmt: skip
    if target == "none":
        return run, ""
    if target == "missing":
        name = rng.choice(["run.json", "equity.parquet", "summary.csv", "trades.parquet"])
        (run / name).unlink(missing_ok=True)
        return run, f"no {name}"
    if not (run / target).exists():
        return run, ""
    if target.endswith(".parquet"):
        what = mutate_parquet(rng, run / target, run / target)
    elif target.endswith(".json"):
        text, what = mutate_json(rng, (run / target).read_text())
        _write(run, target, text)
    else:
        text, what = mutate_csv(rng, (run / target).read_text())
        _write(run, target, text)
    return run, f"{target}: {what}"


def case_audit(rng: random.Random, c: Corpus, work: Path) -> Case:
    run, what = _run_copy(rng, c.run, work)
    targets = c.targets
    if rng.random() < 0.3:
        text, twhat = mutate_config(rng, c.targets.read_text())
        if rng.random() < 0.5:
            text, twhat = f"[sharpe]\ntarget = {rng.choice(EVIL_TOML)}\n", "target evil"
        targets = _write(work, "targets.toml", text)
        what += f" targets: {twhat}"
    log = work / "Log.xlsx"
    r = rng.random()
    if r < 0.15:
        log.write_bytes(b"not a workbook")
        what += " Log.xlsx garbage"
    elif r < 0.3:
        from openpyxl import Workbook

        wb = Workbook()
        wb.active.title = "KPIs"
        wb.active.append(["someone", "else's", "sheet"])
        wb.save(log)
        what += " Log.xlsx of another kind"
    argv = ["audit", "--run", str(run), "--targets", str(targets), "--log", str(log),
            "--config", str(c.config)]  # fmt: skip
    return Case("audit", argv, BAD_INPUT | {0, 8}, what)


def case_report(rng: random.Random, c: Corpus, work: Path) -> Case:
    r = rng.random()
    if r < 0.55:
        run, what = _run_copy(rng, c.run, work)
        argv = ["report", "--run", str(run)]
        if rng.random() < 0.3:
            out, owhat = _out_folder(rng, work, "digests")
            argv += ["--out-dir", out]
            what += f" {owhat}"
        if rng.random() < 0.2:
            argv += ["--day", rng.choice(["2025-01-01", "2099-01-01", "x", "9" * 30])]
        return Case("report", argv, BAD_INPUT | {0}, what)
    # the live history: a snapshot and/or an execution report recorded into --run
    run, what = _run_copy(rng, c.history if r < 0.8 else c.run, work)
    snap, swhat = (
        _mutated(rng, c, work, c.snapshot, "json") if rng.random() < 0.6 else (c.snapshot, "")
    )
    argv = ["report", "--run", str(run), "--snapshot", str(snap)]
    if rng.random() < 0.4:
        exe, ewhat = _mutated(rng, c, work, c.execution, "json")
        argv += ["--execution", str(exe)]
        swhat += f" {ewhat}"
    return Case("report", argv, BAD_INPUT | {0}, f"history {what} {swhat}".strip())


def case_monitor(rng: random.Random, c: Corpus, work: Path) -> Case:
    run, what = _run_copy(rng, c.run, work)
    if rng.random() < 0.5:
        argv = ["monitor", "push", "--run", str(run), "--dry-run"]
        if rng.random() < 0.3:
            argv += ["--since", rng.choice(["2d", "0s", "9" * 400 + "s", "x"])]
        return Case("monitor push", argv, BAD_INPUT | {0}, what, json_stdout=False)
    argv = ["monitor", "alerts", "--run", str(run), "--state", str(work / "state.db"),
            "--config", str(c.config)]  # fmt: skip
    extra = rng.choice(["plan", "execution", "funding", None])
    if extra == "plan":
        plan, pwhat = _mutated(rng, c, work, c.plan, "json")
        argv += ["--plan", str(plan)]
        what += f" {pwhat}"
    elif extra == "execution":
        exe, ewhat = _mutated(rng, c, work, c.execution, "json")
        argv += ["--execution", str(exe)]
        what += f" {ewhat}"
    elif extra == "funding":
        fund, fwhat = _mutated(rng, c, work, c.funding_csv, "csv")
        argv += ["--funding", str(fund)]
        what += f" {fwhat}"
    return Case("monitor alerts", argv, BAD_INPUT | {0}, what)


def case_fetch_snapshot(rng: random.Random, c: Corpus, work: Path) -> Case:
    candles, what = _mutated(rng, c, work, c.spot_csv, rng.choice(["csv", "csv"]))
    cfg, env, cwhat = _config_or_env(rng, c, work)
    argv = ["fetch", "snapshot", "--venue", "paper", "--candles", str(candles),
            "--state", str(work / "state.db"), *cfg]  # fmt: skip
    return Case("fetch snapshot", argv, BAD_INPUT | {0}, f"{what} {cwhat}".strip(), env)


def case_schema(rng: random.Random, c: Corpus, work: Path) -> Case:
    kind = rng.choice(["plan", "snapshot", "x", "", "weights" * 50, "execution_report"])
    return Case("schema", ["schema", kind], BAD_INPUT | {0}, repr(kind)[:40])


GENERATORS: dict[str, Callable[[random.Random, Corpus, Path], Case]] = {
    "weights": case_weights,
    "plan": case_plan,
    "execute": case_execute,
    "backtest": case_backtest,
    "sweep": case_sweep,
    "audit": case_audit,
    "report": case_report,
    "monitor": case_monitor,
    "fetch snapshot": case_fetch_snapshot,
    "schema": case_schema,
}


# --- running and checking ----------------------------------------------------------------------


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }  # fmt: skip


def leftovers(folder: Path) -> list[str]:
    return [str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.name.startswith(".btcn-run-") or p.name.endswith((".tmp", ".btcn-lock"))]  # fmt: skip


def run_case(case: Case, work: Path, corpus: Corpus) -> list[str]:
    """Run one case in-process; return what went wrong (empty when every check passed)."""
    from typer.testing import CliRunner

    from btcn.cli.app import app
    from btcn.cli.context import STATE

    before = _digest(work)
    STATE.debug = STATE.quiet = False
    res = CliRunner().invoke(app, case.argv, input=case.stdin, env=case.env or None)
    problems = []
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        problems.append(f"uncaught {type(res.exception).__name__}: {res.exception}")
    if "Traceback" in res.stderr or "Traceback" in res.stdout:
        problems.append("traceback shown")
    code = case.exit_code = res.exit_code
    if code not in DOCUMENTED:
        problems.append(f"exit {code} is not in the documented table")
    elif code not in case.allowed:
        tail = res.stderr.strip().splitlines()[-2:]
        problems.append(f"exit {code} not plausible here ({sorted(case.allowed)}): {tail}")
    out = res.stdout.strip()
    if out and case.json_stdout:
        try:
            json.loads(out, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
        except ValueError as exc:
            problems.append(f"stdout is not strict JSON: {exc}: {out[:80]!r}")
    left = leftovers(work)
    if left:
        problems.append(f"temporary files left: {left}")
    if code != 0:
        after = _digest(work)
        changed = sorted(k for k, v in before.items() if after.get(k) != v)
        if changed:
            problems.append(f"a failing command changed or removed {changed}")
    return problems


def new_work(base: Path, n: int) -> Path:
    work = base / f"case-{n:05d}"
    work.mkdir(parents=True)
    return work
