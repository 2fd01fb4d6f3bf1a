"""Regenerate a run folder's missing reports with the backtest's own writers.

``summary.csv``, ``equity.html`` and ``blocked_trades_log.csv`` are written by
:func:`btcn.backtest.outputs.regenerate`; ``btcn report`` has no second writer for them.
"""

from __future__ import annotations

from pathlib import Path

from btcn.reports.runfolder import BLOCKED, EQUITY_HTML, SUMMARY

REPORTS = (SUMMARY, EQUITY_HTML, BLOCKED)


def missing_reports(run_dir: Path) -> list[str]:
    return [name for name in REPORTS if not (run_dir / name).is_file()]


def regenerate_missing(run_dir: Path) -> list[str]:
    """Write each of the three reports that is missing; return the names written."""
    if not missing_reports(run_dir):
        return []
    from btcn.backtest.outputs import regenerate

    return regenerate(run_dir)
