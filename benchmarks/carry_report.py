"""`btcn report` on the 28-month run of the shared real data, and equity.html in headless Chromium.

Prints medians over ``--repeat`` runs: the wall time of ``btcn report`` regenerating summary.csv,
equity.html and blocked_trades_log.csv and writing the digest (a copy of the run folder without
those files each time), the size of equity.html, its load time in headless Chromium (navigation
start to the end of the load event: parsing plotly.js and drawing every panel happen inside it),
the panels drawn and the console errors; and the floor: a page holding only the inlined
plotly.js and one empty plot (what any self-contained plotly page weighs and costs to load).
``--src OTHER/src`` runs the same with another source
tree (e.g. ``git archive`` of an earlier commit) for a before/after comparison.

Usage:
  .venv/bin/python benchmarks/carry_report.py [--data ../shared/data/real] [--run DIR]
      [--src PATH] [--repeat 5]

Without ``--run`` the 28-month backtest (2023-10-01 .. 2026-02-18, April 2025 missing, default
settings) is run first into a temporary folder with the chosen source tree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chromium import non_background_fraction, render  # noqa: E402

REPORTS = ("summary.csv", "equity.html", "blocked_trades_log.csv")


def btcn(src: Path | None, *args: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCN_")}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "btcn", "-q", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - t


def backtest(data: Path, out: Path, src: Path | None) -> None:
    btcn(src, "backtest", "--candles", str(data / "spot_5m/vision"), "--candles",
         str(data / "spot_5m/ohlcv"), "--perp", str(data / "perp_5m/ohlcv"), "--perp",
         str(data / "perp_5m/vision"), "--funding", str(data / "funding"), "--out", str(out))  # fmt: skip


def floor_page(tmp: Path) -> Path:
    from importlib import resources

    js = resources.files("plotly").joinpath("package_data/plotly.min.js").read_text("utf-8")
    page = tmp / "floor.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><script>' + js
                    + '</script></head><body><div id="c"></div><script>Plotly.newPlot("c",'
                    '[{"x":[1,2],"y":[1,2]}],{});</script></body></html>', encoding="utf-8")  # fmt: skip
    return page


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/real")
    ap.add_argument("--run", type=Path)
    ap.add_argument("--src", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    chromium = shutil.which("chromium")
    with tempfile.TemporaryDirectory(prefix="btcn-carry-") as tmp_s:
        tmp = Path(tmp_s)
        run = args.run
        if run is None:
            run = tmp / "run28"
            backtest(args.data, run, args.src)
        report_s, load_ms, size, panels, errors, drawn = [], [], 0, 0, [], 0.0
        for i in range(args.repeat):
            copy = tmp / f"copy{i}"
            shutil.copytree(run, copy)
            for name in REPORTS:
                (copy / name).unlink(missing_ok=True)
            report_s.append(btcn(args.src, "report", "--run", str(copy)))
            html = copy / "equity.html"
            size = html.stat().st_size
            if chromium:
                page = render(chromium, html.as_uri(), tmp / f"profile{i}",
                              selector=".js-plotly-plot .cartesianlayer .subplot", width=1400,
                              height=1600, timeout_s=120)  # fmt: skip
                load_ms.append(page.load_ms)
                panels = page.selector_count
                errors = page.console_errors + page.exceptions
                drawn = non_background_fraction(page.png)[0]
            shutil.rmtree(copy)
        floor_ms: list[float] = []
        floor = floor_page(tmp)
        if chromium:
            for i in range(args.repeat):
                page = render(chromium, floor.as_uri(), tmp / f"fprofile{i}",
                              selector=".js-plotly-plot .cartesianlayer .subplot", timeout_s=120)  # fmt: skip
                floor_ms.append(page.load_ms)
        floor_size = floor.stat().st_size
    print(f"source: {args.src or 'this checkout'}; run: {args.run or '28-month backtest'}")
    print(
        f"btcn report (regenerate 3 reports + digest), median of {args.repeat}: "
        f"{statistics.median(report_s):.2f} s  (all: {', '.join(f'{x:.2f}' for x in report_s)})"
    )
    print(f"equity.html: {size:,} bytes ({size / 2**20:.2f} MiB)")
    if load_ms:
        print(
            f"Chromium load (navigation start -> load event end), median: "
            f"{statistics.median(load_ms):,.0f} ms  (all: {', '.join(f'{x:.0f}' for x in load_ms)})"
        )
        print(
            f"subplots drawn: {panels}; console errors: {len(errors)}; "
            f"non-background pixels: {drawn:.1%}"
        )
        print(
            f"floor (plotly.js + one empty plot): {floor_size:,} bytes, load median "
            f"{statistics.median(floor_ms):,.0f} ms"
        )
    else:
        print("chromium not installed: no load time")


if __name__ == "__main__":
    main()
