"""Whole `btcn backtest` process on the 18 months 2023-10..2025-03 of real 5 m data (spot, perp,
funding from ../shared/data/real), including every report file. Goal: <= 3 s.

Usage: .venv/bin/python benchmarks/backtest_cli.py [--runs 5] [--data ../shared/data/real]
"""

from __future__ import annotations

import argparse
import glob
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BTCN = str(Path(sys.executable).parent / "btcn")


def command(data: Path, out: Path) -> list[str]:
    spot = sorted(glob.glob(str(data / "spot_5m/vision/BTCUSDT-5m-2023-1*.csv")))
    spot += sorted(glob.glob(str(data / "spot_5m/vision/BTCUSDT-5m-2024-*.csv")))
    spot += sorted(glob.glob(str(data / "spot_5m/vision/BTCUSDT-5m-2025-0[12].csv")))
    spot += [str(data / "spot_5m/ohlcv/BTCUSDT-5m-2025-03.csv")]
    perp = sorted(glob.glob(str(data / "perp_5m/ohlcv/BTCUSDT-5m-202[34]-*.csv")))
    perp += sorted(glob.glob(str(data / "perp_5m/vision/BTCUSDT-5m-2025-0[123].csv")))
    cmd = [BTCN, "-q", "backtest", "--out", str(out),
           "--funding", str(data / "funding/BTCUSDT-fundingRate-8h-2023-10_2025-03.csv")]  # fmt: skip
    for f in spot:
        cmd += ["--candles", f]
    for f in perp:
        cmd += ["--perp", f]
    return cmd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = command(args.data, Path(tmp) / "run")
        subprocess.run(cmd, check=True, capture_output=True)  # warm the page cache
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - t)
        size = sum(p.stat().st_size for p in (Path(tmp) / "run").iterdir()) / 1e6
    print(f"btcn backtest, 18 months of real 5 m data (157,824 bars), all reports ({size:.1f} MB)")
    print(
        f"median {statistics.median(times):.3f} s   min {min(times):.3f} s   max {max(times):.3f} s   runs {len(times)}   goal 3.0 s"
    )


if __name__ == "__main__":
    main()
