"""Median wall time of whole `btcn` processes (issue 2 goals: --help <= 0.25 s, plan <= 0.6 s).

Usage: .venv/bin/python benchmarks/cli_latency.py [--runs 15]
Runs `btcn --help` and `btcn plan` on the bundled 31 days of 5 m candles (8,928 bars) as separate
processes, several times each, and prints the median, min and max.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BTCN = str(Path(sys.executable).parent / "btcn")
EX = ROOT / "examples"


def timed(cmd: list[str], runs: int) -> list[float]:
    subprocess.run(cmd, capture_output=True, check=False)  # warm the page cache
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    cases = {
        "btcn --help": ([BTCN, "--help"], 0.25),
        "btcn plan (31 d of 5 m candles)": (
            [BTCN, "-q", "plan", "--snapshot", str(EX / "snapshot.json"), "--candles",
             str(EX / "data" / "spot_5m"), "--signals", str(EX / "signals.csv"),
             "--state", "/nonexistent/state.db"],
            0.6,
        ),
    }  # fmt: skip
    print(f"{'command':40} {'median s':>9} {'min s':>7} {'max s':>7} {'goal s':>7}")
    for name, (cmd, goal) in cases.items():
        t = timed(cmd, args.runs)
        print(f"{name:40} {statistics.median(t):9.3f} {min(t):7.3f} {max(t):7.3f} {goal:7.2f}")


if __name__ == "__main__":
    main()
