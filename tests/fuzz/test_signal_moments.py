"""A signal at any moment of a command's life ends it with its documented code and one line.

Moments are not timed sleeps (which a loaded machine shifts): the child process counts Python's
audit events (every import, file open, compile, ...) from btcn's first line on, and signals itself
at event N. The moments are swept deterministically over the whole life of the command, densely
at the start (imports, argument parsing, settings), where the earlier code printed a traceback
and exited 1, or exited 130 on SIGTERM.

Before btcn's first line (the interpreter's own start-up) Python's defaults apply: SIGTERM ends
the process by the signal, which shells, ``timeout`` and Docker report as 143 too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

CHILD = textwrap.dedent("""
    import os, sys
    n, sig, count_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    state = {"on": False, "count": 0}
    def hook(event, args):
        if not state["on"]:  # count from the first event after btcn/__init__.py starts running
            code = args[0] if event == "exec" and args else None
            state["on"] = getattr(code, "co_filename", "").endswith(os.path.join("btcn", "__init__.py"))
            return
        state["count"] += 1
        if state["count"] == n:
            os.kill(os.getpid(), sig)
    sys.addaudithook(hook)
    if count_file != "-":
        import atexit
        atexit.register(lambda: open(count_file, "w").write(str(state["count"])))
    sys.argv = ["btcn", *sys.argv[4:]]
    from btcn.cli.app import main  # what the console script does
    sys.exit(main())
""")
DATA = [
    "--candles",
    str(EXAMPLES / "data" / "spot_5m"),
    "--perp",
    str(EXAMPLES / "data" / "perp_5m"),
]


def _run(tmp: Path, n: int, sig: int, args: list[str], count: Path | None = None):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BTCN_", "GATE_"))}
    env["BTCN_WATCHDOG__ENABLED"] = "false"
    return subprocess.run([sys.executable, "-c", CHILD, str(n), str(sig), str(count or "-"), *args],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip


def _moments(total: int) -> list[int]:
    """Every one of the first 12 events, then a geometric sweep to the end (deterministic)."""
    out = list(range(1, 13))
    x = 16.0
    while x < total:
        out.append(int(x))
        x *= 1.9
    return sorted({*out, total - 1})


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_at_any_moment_of_a_backtest(tmp_path: Path, sig: int) -> None:
    args = ["-q", "backtest", *DATA, "--out", "run"]
    count = tmp_path / "count"
    assert _run(tmp_path, 0, sig, args, count).returncode == 0
    total = int(count.read_text())
    assert total > 1000  # imports, reads, writes: the whole life of the command
    want = 143 if sig == signal.SIGTERM else 130
    line = "error: terminated by SIGTERM" if sig == signal.SIGTERM else "error: interrupted"
    for n in _moments(total):
        res = _run(tmp_path, n, sig, args)
        assert res.returncode in (want, 0), (n, res.returncode, res.stderr[-2000:])
        assert "Traceback" not in res.stderr and "internal error" not in res.stderr, (n, res.stderr)
        if res.returncode == want:
            assert res.stderr.strip().splitlines()[-1] == line, (n, res.stderr)
        if res.stdout.strip():
            json.loads(res.stdout)
        left = [p.name for p in tmp_path.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
        assert not left, (n, left)
