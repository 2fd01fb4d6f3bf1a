"""`btcn report` on the 28-month run of the shared real data, and equity.html in headless Chromium.

Prints medians over ``--repeat`` runs: the wall time of ``btcn report`` regenerating summary.csv,
equity.html and blocked_trades_log.csv and writing the digest (a copy of the run folder without
those files each time), the size of equity.html, its load time in headless Chromium (navigation
start to the end of the load event: parsing plotly.js and drawing every panel happen inside it),
the panels drawn and the console errors; and the floor: a page holding only the inlined
plotly.js and one empty plot (what any self-contained plotly page weighs and costs to load).
``--src OTHER/src`` measures another source
tree; ``--before OTHER/src`` measures a second tree interleaved with the first, run by run (the
machine is shared: interleaving keeps the comparison fair), each on its own 28-month backtest
(2023-10-01 .. 2026-02-18, April 2025 missing, default settings).

Usage (before/after, e.g. the tree of an earlier commit from ``git archive``):
  git archive 8deea62 src | tar -x -C /tmp/base
  .venv/bin/python benchmarks/carry_report.py --before /tmp/base/src --repeat 9
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


def measure(run: Path, src: Path | None, tmp: Path, tag: str, chromium: str | None) -> dict:
    copy = tmp / f"copy-{tag}"
    shutil.copytree(run, copy)
    for name in REPORTS:
        (copy / name).unlink(missing_ok=True)
    out = {"report_s": btcn(src, "report", "--run", str(copy))}
    html = copy / "equity.html"
    out["size"] = html.stat().st_size
    if chromium:
        page = render(chromium, html.as_uri(), tmp / f"profile-{tag}",
                      selector=".js-plotly-plot .cartesianlayer .subplot", width=1400,
                      height=1600, timeout_s=120)  # fmt: skip
        out.update(load_ms=page.load_ms, panels=page.selector_count,
                   errors=len(page.console_errors + page.exceptions),
                   drawn=non_background_fraction(page.png)[0])  # fmt: skip
    shutil.rmtree(copy)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/real")
    ap.add_argument("--src", type=Path, help="source tree to measure (default: this checkout)")
    ap.add_argument("--before", type=Path, help="a second source tree, measured interleaved")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    chromium = shutil.which("chromium")
    trees = {"after": args.src} if args.before is None else {"before": args.before,
                                                              "after": args.src}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="btcn-carry-") as tmp_s:
        tmp = Path(tmp_s)
        runs = {}
        for name, src in trees.items():  # each tree's own 28-month backtest
            runs[name] = tmp / f"run-{name}"
            backtest(args.data, runs[name], src)
        results: dict[str, list[dict]] = {name: [] for name in trees}
        for i in range(args.repeat):
            order = list(trees) if i % 2 == 0 else list(reversed(trees))
            for name in order:
                results[name].append(measure(runs[name], trees[name], tmp, f"{name}{i}", chromium))
        floor = floor_page(tmp)
        floor_ms = [render(chromium, floor.as_uri(), tmp / f"fprofile{i}",
                           selector=".js-plotly-plot .cartesianlayer .subplot").load_ms
                    for i in range(args.repeat)] if chromium else []  # fmt: skip
        floor_size = floor.stat().st_size
    med = statistics.median
    for name, rs in results.items():
        src = trees[name] or "this checkout"
        rep = [r["report_s"] for r in rs]
        print(
            f"[{name}: {src}] btcn report (3 reports + digest) median of {len(rs)}: "
            f"{med(rep):.2f} s (all: {', '.join(f'{x:.2f}' for x in rep)}); equity.html "
            f"{rs[-1]['size']:,} bytes ({rs[-1]['size'] / 2**20:.2f} MiB)"
        )
        if chromium:
            load = [r["load_ms"] for r in rs]
            print(
                f"[{name}] Chromium load median {med(load):,.0f} ms (all: "
                f"{', '.join(f'{x:.0f}' for x in load)}); subplots {rs[-1]['panels']}; console "
                f"errors {sum(r['errors'] for r in rs)}; drawn pixels {rs[-1]['drawn']:.1%}"
            )
    if floor_ms:
        print(
            f"floor (plotly.js + one empty plot): {floor_size:,} bytes, Chromium load median "
            f"{med(floor_ms):,.0f} ms"
        )


if __name__ == "__main__":
    main()
