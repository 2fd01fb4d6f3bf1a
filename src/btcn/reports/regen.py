"""Regenerate a run folder's missing reports with the backtest's own writers.

``summary.csv``, ``equity.html`` and ``blocked_trades_log.csv`` are written by
:func:`btcn.backtest.outputs.regenerate`; ``btcn report`` has no second writer for them.
"""

from __future__ import annotations

from pathlib import Path

from btcn.reports.runfolder import BLOCKED, EQUITY_HTML, SUMMARY
from btcn.runtime.folders import PREFIX

REPORTS = (SUMMARY, EQUITY_HTML, BLOCKED)


def missing_reports(run_dir: Path) -> list[str]:
    return [name for name in REPORTS if not (run_dir / name).is_file()]


def regenerate_missing(run_dir: Path, into: Path | None = None) -> list[str]:
    """Write each of the three reports that is missing (into ``into`` when given)."""
    if not missing_reports(run_dir):
        return []
    from btcn.backtest.outputs import regenerate

    return regenerate(run_dir, into=into)


def _only_digests(folder: Path) -> bool:
    return all(p.name.startswith(("digest-", PREFIX)) for p in folder.iterdir())


def check_out_dir(run_dir: Path, out_dir: Path | None, force: bool) -> None:
    """The refusal :func:`write_reports` would raise for ``--out-dir``, raised before anything
    is written (validate, then write)."""
    from btcn.runtime.folders import refuse_foreign

    if out_dir is None or out_dir.resolve() == run_dir.resolve():
        return
    refuse_foreign(out_dir, _only_digests, "a folder of btcn digests", force=force,
                   option="--out-dir")  # fmt: skip


def write_reports(run_dir: Path, out_dir: Path | None, force: bool, regenerate: bool,
                  digests: dict[str, str]) -> list[str]:  # fmt: skip
    """Complete the run folder and write the digest files, each folder as one unit.

    The run folder is copied (as hard links) into a temporary sibling, the missing reports and
    the digest are added there, and the copy is swapped in: an interrupted ``btcn report`` leaves
    the folder as it was. A separate ``--out-dir`` is committed the same way when it holds only
    digests; a folder with other files is refused unless ``force``, and then only the two digest
    files are replaced (each atomically), never the folder.
    """
    from btcn.runtime.files import write_text_atomic
    from btcn.runtime.folders import commit_folder, fresh, refuse_foreign

    written: list[str] = []
    same = out_dir is None or out_dir.resolve() == run_dir.resolve()
    if (regenerate and missing_reports(run_dir)) or same:
        with commit_folder(run_dir, keep=lambda name: True, option="--run") as tmp:
            written = regenerate_missing(run_dir, into=tmp) if regenerate else []
            if same:
                for name, text in digests.items():
                    fresh(tmp / name).write_text(text, encoding="utf-8")
    if same:
        return written
    assert out_dir is not None
    refuse_foreign(out_dir, _only_digests, "a folder of btcn digests", force=force,
                   option="--out-dir")  # fmt: skip
    if out_dir.is_dir() and not _only_digests(out_dir):
        for name, text in digests.items():
            write_text_atomic(out_dir / name, text)
        return written
    with commit_folder(out_dir, keep=lambda name: True, option="--out-dir") as tmp:
        for name, text in digests.items():
            fresh(tmp / name).write_text(text, encoding="utf-8")
    return written
