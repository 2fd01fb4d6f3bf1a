"""Engine speed against an earlier commit, interleaved in one process (a shared machine's speed
drifts by tens of per cent within minutes, so two separate runs of backtest_engine.py a minute
apart do not compare; alternating the two engines run by run does).

The workload is benchmarks/backtest_engine.py's: one year of synthetic 1 m bars, default config.
The reference commit's ``src/btcn`` is exported with ``git archive`` into a temporary folder as the
package ``btcn_ref`` (its imports rewritten), so both engines run side by side.

Usage: .venv/bin/python benchmarks/engine_compare.py [--ref f1f567a] [--runs 15] [--clock cpu]
Prints the median and minimum warm time of each engine and their ratios.
"""

from __future__ import annotations

import argparse
import importlib
import io
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import funding_8h, gbm_candles  # noqa: E402

IMPORT = re.compile(r"\bbtcn\.")


def export_ref(ref: str, into: Path) -> None:
    """``src/btcn`` at ``ref`` as the package ``btcn_ref`` under ``into``."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src/btcn"], check=True,
                          capture_output=True).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = Path(member.name).relative_to("src/btcn")
            dest = into / "btcn_ref" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if dest.suffix == ".py":
                text = IMPORT.sub("btcn_ref.", data.decode())
                text = text.replace("from btcn import", "from btcn_ref import")
                dest.write_text(text)
            else:
                dest.write_bytes(data)


def engine(pkg: str, spot, perp, funding):  # type: ignore[no-untyped-def]
    mod = {n: importlib.import_module(f"{pkg}.{n}") for n in
           ("backtest.engine", "backtest.market", "runtime.settings", "stages.backtest",
            "data.signals", "data.candles", "data.funding")}  # fmt: skip
    # the synthetic series are this checkout's types: rebuild them as the reference's
    candles, fund = mod["data.candles"].Candles, mod["data.funding"].Funding
    sp = candles(*(getattr(spot, f) for f in candles.__dataclass_fields__))
    pp = candles(*(getattr(perp, f) for f in candles.__dataclass_fields__))
    fd = fund(*(getattr(funding, f) for f in fund.__dataclass_fields__))
    settings = mod["runtime.settings"].load_settings(None)
    st = settings.strategy
    market = mod["backtest.market"].build_market(
        sp, pp, fd, mod["data.signals"].EMPTY_SIGNALS, atr_window_ms=st.atr_window_ms,
        atr_periods=st.atr_periods, threshold_floor=st.threshold_floor,
        atr_multiplier=st.atr_multiplier,
    )  # fmt: skip
    params = mod["stages.backtest"].engine_params(settings)
    run = mod["backtest.engine"].run_engine
    return lambda: run(market, params, 0, len(market))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="f1f567a", help="the commit to compare with")
    ap.add_argument("--runs", type=int, default=15, help="warm runs of each engine")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall: perf_counter; cpu: this process's CPU time (steadier on a shared "
                         "machine, where other processes take the cores)")  # fmt: skip
    args = ap.parse_args()
    spot, perp = gbm_candles(525_600)
    funding = funding_8h(spot)
    with tempfile.TemporaryDirectory() as tmp:
        export_ref(args.ref, Path(tmp))
        sys.path.insert(0, tmp)
        runs = {"ref": engine("btcn_ref", spot, perp, funding),
                "this": engine("btcn", spot, perp, funding)}  # fmt: skip
        times: dict[str, list[float]] = {"ref": [], "this": []}
        clock = time.perf_counter if args.clock == "wall" else time.process_time
        for f in runs.values():
            f()  # warm-up, discarded
        for i in range(args.runs):
            for name in ("ref", "this") if i % 2 == 0 else ("this", "ref"):
                t = clock()
                runs[name]()
                times[name].append(clock() - t)
    ref, this = times["ref"], times["this"]
    print(f"clock: {args.clock}, {args.runs} runs each")
    print(f"reference {args.ref}: median {statistics.median(ref):.3f} s, min {min(ref):.3f} s")
    print(f"this checkout:   median {statistics.median(this):.3f} s, min {min(this):.3f} s")
    pair = statistics.median(b / a for a, b in zip(ref, this, strict=True))
    print(f"ratio: medians {statistics.median(this) / statistics.median(ref):.3f}, "
          f"minimums {min(this) / min(ref):.3f}, median of pairs {pair:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
