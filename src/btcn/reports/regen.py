"""Regenerate a run folder's missing reports with the backtest's own writers.

``summary.csv``, ``equity.html`` and ``blocked_trades_log.csv`` are written by :mod:`btcn.backtest`;
``btcn report`` never has a second writer for them, it asks the backtest to write what is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from btcn.errors import InvalidInputError
from btcn.reports.runfolder import BLOCKED, EQUITY_HTML, SUMMARY

# file name -> (module, function): the function takes the run folder and (re)writes that file.
WRITERS: dict[str, tuple[str, str]] = {
    SUMMARY: ("btcn.backtest.reports", "write_summary"),
    EQUITY_HTML: ("btcn.backtest.reports", "write_equity_html"),
    BLOCKED: ("btcn.backtest.reports", "write_blocked_log"),
}


def writer_for(name: str) -> Callable[[Path], object] | None:
    module, func = WRITERS[name]
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    fn = getattr(mod, func, None)
    return fn if callable(fn) else None


def regenerate_missing(run_dir: Path) -> list[str]:
    """Write each of the three reports that is missing; return the names written."""
    written = []
    for name in WRITERS:
        if (run_dir / name).is_file():
            continue
        fn = writer_for(name)
        if fn is None:
            raise InvalidInputError(
                f"{run_dir}: {name} is missing and this btcn has no backtest writer for it",
                hint="re-run `btcn backtest --out` to produce the full run folder",
            )
        fn(run_dir)
        written.append(name)
    return written
