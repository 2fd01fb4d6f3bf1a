"""A small set of valid inputs for every reader, built once; the fuzzer mutates copies of them.

Everything is synthetic and small (two days of 5-minute candles), so one command runs in a few
tens of milliseconds and the whole fuzz suite stays well under a minute.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from btcn.cli.app import app
from tests.helpers import BAR_MS, T0, write_binance_csv

BARS = 2 * 288  # two days of 5-minute bars

CONFIG = """\
[strategy]
threshold_floor = 0.005
atr_multiplier = 0.2
atr_window = "1h"
atr_periods = 4
cooldown = "60m"

[backtest]
initial_nav_usdt = 100000

[risk]
leverage = 3.0

[guardrails]
max_data_age = "30000d"
"""

GRID = """\
[grid]
"strategy.threshold_floor" = [0.004, 0.008]
"""

TARGETS = """\
tolerance = 0.05

[sharpe_30d]
target = 1.0
better = "higher"

[max_drawdown]
target = 0.2
better = "lower"
"""


@dataclass(frozen=True)
class Corpus:
    root: Path
    spot_csv: Path
    perp_csv: Path
    spot_parquet: Path
    funding_csv: Path
    funding_parquet: Path
    signals_csv: Path
    config: Path
    grid: Path
    targets: Path
    snapshot: Path
    plan: Path
    execution: Path
    run: Path
    history: Path

    def files(self) -> dict[str, bytes]:
        """Every file of the corpus and its bytes: no case may ever change one."""
        return {str(p): p.read_bytes() for p in sorted(self.root.rglob("*")) if p.is_file()}


def _invoke(args: list[str]) -> str:
    res = CliRunner().invoke(app, args)
    assert res.exit_code in (0, 5), (args, res.output)
    return res.stdout


def build(root: Path) -> Corpus:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(12)
    closes = 95_000 * np.exp(np.cumsum(rng.normal(0, 0.002, BARS)))
    spot = write_binance_csv(root / "spot.csv", closes)
    perp = write_binance_csv(root / "perp.csv", closes * 1.0003)
    ts = T0 + np.arange(BARS, dtype=np.int64) * BAR_MS
    spot_pq = root / "spot.parquet"
    pq.write_table(
        pa.table({
            "open_time": pa.array(ts, pa.int64()), "open": closes, "high": closes * 1.001,
            "low": closes * 0.999, "close": closes, "volume": np.ones(BARS),
        }), spot_pq,
    )  # fmt: skip
    hours = T0 + np.arange(0, BARS * BAR_MS, 8 * 3_600_000, dtype=np.int64)
    funding = root / "funding.csv"
    funding.write_text(
        "fundingTime,fundingRate,markPrice\n"
        + "".join(f"{t},0.0001,{closes[0]:.2f}\n" for t in hours)
    )
    funding_pq = root / "funding.parquet"
    pq.write_table(pa.table({"funding_time": pa.array(hours, pa.int64()),
                             "funding_rate": np.full(hours.shape, 0.0001)}), funding_pq)  # fmt: skip
    signals = root / "signals.csv"
    signals.write_text("timestamp,signal\n2025-01-01T06:00:00Z,BUY\n2025-01-01T18:00:00Z,HOLD\n")
    config = root / "btcn.toml"
    config.write_text(CONFIG)
    grid = root / "grid.toml"
    grid.write_text(GRID)
    targets = root / "targets.toml"
    targets.write_text(TARGETS)
    state = root / "scratch" / "state.db"
    snap_text = _invoke(["fetch", "snapshot", "--venue", "paper", "--candles", str(spot),
                         "--config", str(config), "--state", str(state)])  # fmt: skip
    snapshot = root / "snapshot.json"
    snapshot.write_text(snap_text)
    plan_text = _invoke(["plan", "--snapshot", str(snapshot), "--candles", str(spot),
                         "--config", str(config), "--state", str(state)])  # fmt: skip
    plan = root / "plan.json"
    plan.write_text(plan_text)
    execution = root / "execution.json"
    execution.write_text(_invoke(["execute", "--dry-run", str(plan), "--config", str(config),
                                  "--state", str(state)]))  # fmt: skip
    run = root / "run"
    _invoke(["-q", "backtest", "--candles", str(spot), "--perp", str(perp), "--funding",
             str(funding), "--signals", str(signals), "--config", str(config), "--out", str(run)])  # fmt: skip
    history = root / "history"
    _invoke(["-q", "report", "--run", str(history), "--snapshot", str(snapshot)])
    # the scratch state store is not an input of any case
    shutil.rmtree(state.parent, ignore_errors=True)
    json.loads(plan_text)
    return Corpus(root, spot, perp, spot_pq, funding, funding_pq, signals, config, grid, targets,
                  snapshot, plan, execution, run, history)  # fmt: skip
