"""kill -9 during ``btcn fetch candles``: the file is either absent or a complete checkpoint,
and a re-run finishes the series exactly as an uninterrupted download would.

Every kill lands at a chosen request: the fake Binance holds that request unanswered, the test
waits for it to arrive (an event, not a sleep) and kills the fetch while it waits for the answer.
So each trial is the same on a fast and a slow machine, and the expected file is known exactly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from btcn.data.candles import load_candles
from tests import secret_scan
from tests.fakes import FakeBinance, FakeServer

NOW_S = 1_736_000_000
START_S = NOW_S - 12 * 86400  # 1m bars over 12 days: 18 pages of 1000, a checkpoint every 10
PAGE = 1000
CHECKPOINT = 10 * PAGE

# per trial, the kills in a row (the request held when the kill lands, counted from the start of
# that run) and the bars the file must hold afterwards (None: no file). The re-run after the
# kills must finish the series.
TRIALS = [
    # after the first checkpoint; then at once on the resumed run (nothing new written)
    [(11, CHECKPOINT), (1, CHECKPOINT)],
    # before any checkpoint (no file); then between the first checkpoint and the end
    [(5, None), (14, CHECKPOINT)],
    # at the very first request, and one page before the first checkpoint: still no file
    [(1, None), (10, None)],
]


ARGS = [sys.executable, "-m", "btcn", "fetch", "candles", "--interval", "1m",
        "--start", str(START_S), "--end", str(NOW_S)]  # fmt: skip


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BTCN_", "GATE_"))}
    return {**env, "BTCN_BINANCE__BASE_URL": url}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted download (the fake's series is a function of time: one for all trials)."""
    path = tmp_path_factory.mktemp("fetch") / "reference.parquet"
    with FakeServer(binance=FakeBinance(now=lambda: NOW_S)) as srv:
        subprocess.run([*ARGS, "--out", str(path)], env=_env(srv.binance_url), check=True,
                       capture_output=True, timeout=120)  # fmt: skip
    assert pq.read_table(path).num_rows > CHECKPOINT  # a checkpoint is a strict prefix
    return path


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(len(TRIALS)))
def test_killed_fetch_never_leaves_a_partial_file(
    trial: int, reference: Path, tmp_path: Path
) -> None:
    binance = FakeBinance(now=lambda: NOW_S)
    with FakeServer(binance=binance) as srv:
        env, args = _env(srv.binance_url), ARGS
        out = tmp_path / "killed.parquet"
        for request, bars in TRIALS[trial]:
            binance.hold(request)
            proc = subprocess.Popen([*args, "--out", str(out)], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)  # fmt: skip
            try:
                assert binance.held.wait(timeout=60), "the fetch never reached the held request"
                proc.send_signal(signal.SIGKILL)
                stdout, stderr = proc.communicate(timeout=60)
            finally:
                binance.release()
            assert proc.returncode == -signal.SIGKILL
            secret_scan.record("killed fetch", stdout + stderr)
            if bars is None:
                assert not out.exists()
            else:  # a checkpoint: complete, contiguous, readable, exactly the pages before it
                series = load_candles(out)
                first_minute = -(-START_S // 60) * 60_000
                assert series.gaps == () and int(series.open_ms[0]) == first_minute
                assert len(series) == bars
            assert not list(tmp_path.glob(".*.tmp"))
        done = subprocess.run([*args, "--out", str(out)], env=env, capture_output=True, text=True,
                              check=False, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert pq.read_table(out).equals(pq.read_table(reference))
        assert not list(tmp_path.glob(".*.tmp"))
