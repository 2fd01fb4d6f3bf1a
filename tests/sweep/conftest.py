"""Fixtures of the sweep tests: small synthetic candle files, the example month, a Dask cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import EXAMPLES

BAR_MS = 300_000
T0 = 1_735_689_600_000  # 2025-01-01
DATA = EXAMPLES / "data"


def write_candles(path: Path, n: int, *, seed: int = 3, t0: int = T0, skip: slice | None = None,
                  bump_from: int | None = None) -> Path:  # fmt: skip
    """``date,open,high,low,close,volume`` 5 m candles of a random walk (``skip``: a gap;
    ``bump_from``: prices from that bar on are changed, the bars before stay identical)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, 0.004, n)
    if bump_from is not None:
        steps[bump_from:] = np.random.default_rng(seed + 100).normal(0, 0.004, n - bump_from)
    close = 50_000 * np.exp(np.cumsum(steps))
    open_ = np.concatenate([[50_000.0], close[:-1]])
    high = np.maximum(open_, close) * 1.001
    low = np.minimum(open_, close) * 0.999
    ts = t0 + np.arange(n, dtype=np.int64) * BAR_MS
    keep = np.ones(n, dtype=bool)
    if skip is not None:
        keep[skip] = False
    lines = ["date,open,high,low,close,volume"]
    for i in np.flatnonzero(keep):
        iso = np.datetime_as_string(np.datetime64(int(ts[i]), "ms"), unit="s") + "Z"
        lines.append(
            f"{iso},{float(open_[i])!r},{float(high[i])!r},{float(low[i])!r},{float(close[i])!r},1.0"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four days of 5 m bars (1,152 bars)."""
    return write_candles(tmp_path_factory.mktemp("small") / "spot.csv", 4 * 288)


SMALL_GRID = """
[grid]
"strategy.threshold_floor" = [0.002, 0.004]
"strategy.cooldown" = ["5m", "30m", "2h"]
"""


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[str]:
    """A distributed.LocalCluster on 127.0.0.1: 2 worker processes of 1 thread, no worker
    dashboards. The scheduler's HTTP server takes a free port (with ``None`` it would still try
    8787, and fail when another cluster on the machine holds it)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, protocol="tcp",
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                  worker_dashboard_address=None) as cluster:  # fmt: skip
        yield cluster.scheduler_address
