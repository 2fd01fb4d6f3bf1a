"""kill -9 during ``btcn fetch candles``: the file is either absent or a complete checkpoint,
and a re-run finishes the series exactly as an uninterrupted download would."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from btcn.data.candles import load_candles
from tests import secret_scan
from tests.fakes import FakeBinance, FakeServer

NOW_S = 1_736_000_000


@pytest.mark.slow
def test_killed_fetch_never_leaves_a_partial_file(tmp_path: Path) -> None:
    binance = FakeBinance(now=lambda: NOW_S, page_delay_s=0.05)
    rng = random.Random(7)
    with FakeServer(binance=binance) as srv:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BTCN_", "GATE_"))}
        env["BTCN_BINANCE__BASE_URL"] = srv.binance_url
        # 1m bars over 12 days = 17 pages of 1000, one checkpoint every 10 pages
        args = [sys.executable, "-m", "btcn", "fetch", "candles", "--interval", "1m",
                "--start", str(NOW_S - 12 * 86400), "--end", str(NOW_S)]  # fmt: skip
        reference = tmp_path / "reference.parquet"
        subprocess.run(
            [*args, "--out", str(reference)], env=env, check=True, capture_output=True, timeout=120
        )
        checkpoints: list[int] = []
        for trial in range(3):
            out = tmp_path / f"killed-{trial}.parquet"
            for attempt in range(2):  # kill twice in a row, then let it finish
                proc = subprocess.Popen([*args, "--out", str(out)], env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)  # fmt: skip
                if trial == attempt == 0:
                    # the first kill lands right after the first checkpoint, however slow the
                    # machine: poll for the file (it appears whole, by rename) and kill at once
                    deadline = time.monotonic() + 60.0
                    while not out.exists() and proc.poll() is None:
                        assert time.monotonic() < deadline, "no checkpoint within 60 s"
                        time.sleep(0.01)
                else:  # the others at random times: before, between or after checkpoints
                    time.sleep(rng.uniform(0.5, 2.5))
                proc.send_signal(signal.SIGKILL)
                stdout, stderr = proc.communicate(timeout=60)
                secret_scan.record("killed fetch", stdout + stderr)
                if out.exists():  # a checkpoint: complete, contiguous, readable
                    bars = load_candles(out)
                    first_minute = -(-(NOW_S - 12 * 86400) // 60) * 60_000
                    assert bars.gaps == () and int(bars.open_ms[0]) == first_minute
                    checkpoints.append(len(bars))
            done = subprocess.run([*args, "--out", str(out)], env=env, capture_output=True, text=True,
                                  check=False, timeout=120)  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert pq.read_table(out).equals(pq.read_table(reference))
            assert not list(tmp_path.glob(".*.tmp"))
        assert checkpoints, "no kill landed after a checkpoint"
        # the first kill came before the download ended: the checkpoint is a strict prefix
        assert min(checkpoints) < pq.read_table(reference).num_rows
