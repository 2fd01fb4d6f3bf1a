"""Sweep throughput: a 50-point grid over 3 months of real 5 m data (2025-01..03, spot + perp +
funding from ../shared/data/real), with 1 and 2 workers, on local processes and on a Dask
LocalCluster (worker processes, one thread each, reached over tcp:// like any cluster).

Usage: .venv/bin/python benchmarks/sweep_throughput.py [--repeats 5] [--points 50]
       [--backends local,dask] [--workers 1,2] [--data ../shared/data/real]

For each back-end and worker count the pool/cluster is started once (its start-up is printed
separately), then the whole sweep stage runs ``--repeats`` times into fresh folders. Printed per
configuration (medians):

* ``exec s``: wall time from the first task submitted to the last result received;
  ``points/s`` and ``bars/s`` (points x bars of each backtest) over that time;
* ``stage s``: the whole ``btcn.stages.sweep.run`` (load + validate + execute + write Parquet and
  HTML), without the pool/cluster start-up;
* ``overhead/pt``: (exec time with N workers x N - the serial compute time) / points, as a share
  of one point's backtest time — what the sweep machinery adds per point;
* ``scaling``: points/s with 2 workers over points/s with 1 worker of the same back-end.

``--dask-quiet`` starts the Dask workers with the statistical profiler off and 1 s admin ticks
(``DASK_QUIET`` below), the settings docs/sweeps.md recommends for a compute-only cluster.

The serial compute time is the same evaluations run in this process in a plain loop (the
reference, no sweep machinery). Every run's sweep.parquet must equal the first one bit for bit
(checked). The load average is printed at the start and the end: the machine has 2 cores and may
be shared, so measure when it is quiet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from btcn.runtime.settings import Settings  # noqa: E402
from btcn.stages import backtest  # noqa: E402
from btcn.stages import sweep as stage  # noqa: E402
from btcn.sweep.backends import DaskBackend, LocalBackend  # noqa: E402
from btcn.sweep.runner import market_for  # noqa: E402
from btcn.sweep.space import build_points, parse_grid  # noqa: E402


def inputs(data: Path) -> dict[str, list[Path]]:
    return {
        "candles": [data / "spot_5m/vision/BTCUSDT-5m-2025-01.csv",
                    data / "spot_5m/vision/BTCUSDT-5m-2025-02.csv",
                    data / "spot_5m/ohlcv/BTCUSDT-5m-2025-03.csv"],
        "perp": [data / f"perp_5m/vision/BTCUSDT-5m-2025-0{m}.csv" for m in (1, 2, 3)],
        "funding": [data / "funding/BTCUSDT-fundingRate-8h-2023-10_2025-03.csv"],
    }  # fmt: skip


def grid_text(points: int) -> str:
    cooldowns = ["15m", "30m", "60m", "2h", "4h"]
    floors = [round(0.002 + 0.001 * i, 4) for i in range(max(points // len(cooldowns), 1))]
    return (f'[grid]\n"strategy.threshold_floor" = {floors}\n'
            f'"strategy.cooldown" = {cooldowns}\n')  # fmt: skip


# A compute-only cluster does not need the worker's stack sampler (every 10 ms) nor 20 ms ticks:
# both take the GIL from the pure-Python engine (about 10 % of a point's time, measured).
DASK_QUIET = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s"}


class Timed:
    """Wraps a back-end: start() once (timed), run() timed from first submit to last result."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.started = False
        self.start_s = 0.0
        self.exec_s: list[float] = []

    @property
    def workers(self) -> int:
        return self.inner.workers

    def start(self, market) -> None:
        if not self.started:  # keep the pool / scattered data of the first start
            t = time.perf_counter()
            self.inner.start(market)
            self.start_s = time.perf_counter() - t
            self.started = True

    def run(self, batches, evaluate):
        t = time.perf_counter()
        yield from self.inner.run(batches, evaluate)
        self.exec_s.append(time.perf_counter() - t)

    def close(self) -> None:
        self.inner.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--points", type=int, default=50)
    ap.add_argument("--backends", default="local,dask")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--batch", type=int, default=0, help="points per task (0: automatic)")
    ap.add_argument(
        "--dask-quiet",
        action="store_true",
        help="workers without the statistical profiler, 1 s admin ticks (see docs/sweeps.md)",
    )
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    args = ap.parse_args()
    files = inputs(args.data)
    if args.dask_quiet:
        import dask

        dask.config.set(DASK_QUIET)
    settings = Settings(sweep={"batch": args.batch})
    grid = parse_grid(grid_text(args.points))
    print(f"load average at start: {os.getloadavg()}; cores: {os.cpu_count()}")

    # reference: the same evaluations in a plain loop in this process
    market = backtest.load_market(backtest.BacktestRequest(settings=settings, **files))
    points = build_points(grid, settings)
    bars = len(market)
    for p in points[:3]:  # warm up
        stage.evaluate_point(market_for(market, p.settings), p.settings, None, None)
    serial = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        for p in points:
            stage.evaluate_point(market_for(market, p.settings), p.settings, None, None)
        serial.append(time.perf_counter() - t)
    serial_s = statistics.median(serial)
    per_point = serial_s / len(points)
    print(f"{len(points)} points x {bars:,} bars (2025-01..03, 5 m); one point's backtest: "
          f"{per_point * 1000:.1f} ms (median of {args.repeats} serial loops: {serial_s:.3f} s)")  # fmt: skip

    rows = []
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.backends.split(","):
            for w in (int(x) for x in args.workers.split(",")):
                cluster = None
                if name == "dask":
                    from distributed import LocalCluster

                    t = time.perf_counter()
                    cluster = LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                           protocol="tcp", host="127.0.0.1", dashboard_address=None,
                                           worker_dashboard_address=None)  # fmt: skip
                    cluster_s = time.perf_counter() - t
                    be = Timed(DaskBackend(cluster.scheduler_address))
                else:
                    cluster_s = 0.0
                    be = Timed(LocalBackend(w))
                stage_s = []
                try:
                    for r in range(args.repeats + 1):  # the first run warms the workers
                        out = Path(tmp) / f"{name}-{w}-{r}"
                        req = stage.SweepRequest(grid=grid, settings=settings, out_dir=out, **files)
                        t = time.perf_counter()
                        res = stage.run(req, backend=be)
                        dt = time.perf_counter() - t
                        assert res.failed == 0, res.warnings
                        table = pq.read_table(out / "sweep.parquet").replace_schema_metadata(None)
                        if reference is None:
                            reference = table
                        assert table.equals(reference), f"{name} x{w}: results differ"
                        if r:
                            stage_s.append(dt)
                finally:
                    be.close()
                    if cluster is not None:
                        cluster.close()
                exec_s = statistics.median(be.exec_s[1:])
                rows.append((name, w, cluster_s + be.start_s, exec_s, statistics.median(stage_s),
                             min(be.exec_s[1:]), max(be.exec_s[1:])))  # fmt: skip

    print(f"\n{'back-end':8} {'workers':>7} {'start s':>8} {'exec s':>7} {'(min-max)':>13} "
          f"{'points/s':>9} {'bars/s':>11} {'stage s':>8} {'overhead/pt':>12} {'scaling':>8}")  # fmt: skip
    base = {n: e for n, w, _, e, *_ in rows if w == 1}
    for name, w, start_s, exec_s, st_s, lo, hi in rows:
        pps = len(points) / exec_s
        overhead = (exec_s * w - serial_s) / len(points) / per_point
        scale = f"{base[name] / exec_s:.2f}x" if name in base and w > 1 else "-"
        print(f"{name:8} {w:>7} {start_s:>8.2f} {exec_s:>7.3f} {f'({lo:.2f}-{hi:.2f})':>13} "
              f"{pps:>9.1f} {pps * bars:>11,.0f} {st_s:>8.3f} {overhead:>11.1%} {scale:>8}")  # fmt: skip
    print(
        f"\nall {len(rows) * args.repeats + len(rows)} sweeps gave identical sweep.parquet tables"
    )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
