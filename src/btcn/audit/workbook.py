"""``Log.xlsx``: the audit's workbook (openpyxl).

Two sheets are btcn's: ``KPIs`` (one row per audit day and run) and ``Proposals`` (one row per
proposed change). Both have a bold header, number formats and a frozen header row. Rules:

* Re-running the audit on the same day for the same run **replaces** that day's rows (matched on
  the ``date`` and ``run`` columns), so a cron retry does not duplicate them.
* Every other sheet, and rows of other days or runs, are kept.
* The workbook is never truncated: it is loaded, changed in memory, saved to a temporary file
  beside it, and moved over the old one only when the save succeeded.
* A workbook that another program has open (a LibreOffice ``.~lock.NAME#`` or Excel ``~$NAME``
  lock file beside it), that another btcn is writing, that cannot be written, or that is not a
  readable xlsx, is one clear error, and the file is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from btcn.errors import InvalidInputError
from btcn.runtime.files import atomic_path


class WorkbookError(InvalidInputError):
    """Log.xlsx cannot be updated; the file was left untouched."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    number_format: str | None = None
    width: float = 12


KPI_SHEET = "KPIs"
PROPOSAL_SHEET = "Proposals"

KPI_COLUMNS = (
    Column("date", "yyyy-mm-dd", 11),
    Column("run", None, 18),
    Column("as_of", "yyyy-mm-dd hh:mm", 17),
    Column("days", "0.00", 8),
    Column("nav_end_usdt", "#,##0.00", 14),
    Column("roi", "0.00%", 9),
    Column("sharpe", "0.00", 8),
    Column("sharpe_30d", "0.00", 10),
    Column("sortino", "0.00", 8),
    Column("max_drawdown", "0.00%", 13),
    Column("fees_usdt", "#,##0.00", 12),
    Column("fees_per_nav_per_day", "0.0000%", 20),
    Column("funding_usdt", "#,##0.00", 13),
    Column("drift_count", "0", 11),
    Column("status", None, 10),
)
PROPOSAL_COLUMNS = (
    Column("date", "yyyy-mm-dd", 11),
    Column("run", None, 18),
    Column("kpi", None, 20),
    Column("actual", "0.000000", 11),
    Column("target", "0.000000", 11),
    Column("better", None, 8),
    Column("deviation", "0.0%", 10),
    Column("tolerance", "0.0%", 10),
    Column("severity", None, 9),
    Column("setting", None, 26),
    Column("current", None, 10),
    Column("suggested", None, 10),
    Column("change", None, 70),
    Column("evidence", None, 70),
)
SHEETS = {KPI_SHEET: KPI_COLUMNS, PROPOSAL_SHEET: PROPOSAL_COLUMNS}


def lock_files(path: Path) -> list[Path]:
    """Lock files that office programs leave beside a workbook they have open."""
    candidates = [path.with_name(f".~lock.{path.name}#"), path.with_name(f"~${path.name}")]
    return [p for p in candidates if p.exists()]


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Serialise btcn processes writing the same workbook (advisory lock on a sidecar file)."""
    from btcn.runtime.files import LockBusy, exclusive_lock

    lock = exclusive_lock(path.with_name(f".{path.name}.btcn-lock"))
    try:
        lock.__enter__()
    except OSError as exc:
        raise WorkbookError(f"cannot write beside {path}: {exc.strerror}") from exc
    except LockBusy as exc:
        raise WorkbookError(
            f"{path} is being written by another btcn process", hint="retry in a moment"
        ) from exc
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def _cell_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # an empty cell: Excel has no NaN
    return value


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value[:10])
    return None


def _load(path: Path) -> Any:
    from openpyxl import Workbook, load_workbook

    if not path.exists():
        wb = Workbook()
        wb.remove(wb.active)
        return wb
    if not path.is_file():
        raise WorkbookError(f"{path} is not a file")
    try:
        return load_workbook(path)
    except Exception as exc:  # zipfile, XML and openpyxl errors: all mean "not a usable xlsx"
        raise WorkbookError(
            f"{path} is not a readable .xlsx workbook ({type(exc).__name__}); it was left "
            "untouched",
            hint="move it away (btcn then starts a new workbook) or repair it in a spreadsheet",
        ) from None


def _sheet(wb: Any, name: str, columns: Sequence[Column]) -> Any:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    headers = [c.name for c in columns]
    if name in wb.sheetnames:
        ws = wb[name]
        found = [ws.cell(row=1, column=i + 1).value for i in range(len(headers))]
        if ws.max_row >= 1 and any(v is not None for v in found) and found != headers:
            raise WorkbookError(
                f"sheet {name!r} of the workbook has unexpected headers {found}; expected "
                f"{headers}. Nothing was written",
                hint="rename that sheet, or pass another --log workbook",
            )
    else:
        ws = wb.create_sheet(name)
    for i, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i, value=col.name)
        cell.font = Font(bold=True)
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"
    return ws


def _replace_rows(ws: Any, columns: Sequence[Column], day: dt.date, run: str,
                  rows: Sequence[Sequence[Any]]) -> None:  # fmt: skip
    date_idx = [c.name for c in columns].index("date") + 1
    run_idx = [c.name for c in columns].index("run") + 1
    stale = [
        r
        for r in range(2, ws.max_row + 1)
        if _as_date(ws.cell(row=r, column=date_idx).value) == day
        and str(ws.cell(row=r, column=run_idx).value) == run
    ]
    for r in reversed(stale):
        ws.delete_rows(r)
    # Drop trailing empty rows left behind (openpyxl keeps max_row after deletes of the tail).
    while ws.max_row > 1 and all(c.value is None for c in ws[ws.max_row]):
        ws.delete_rows(ws.max_row)
    for row in rows:
        ws.append([_cell_value(v) for v in row])
        r = ws.max_row
        for i, col in enumerate(columns, start=1):
            if col.number_format:
                ws.cell(row=r, column=i).number_format = col.number_format


def update_log(
    path: str | Path,
    day: dt.date,
    run: str,
    kpi_rows: Sequence[Sequence[Any]],
    proposal_rows: Sequence[Sequence[Any]],
) -> None:
    """Replace ``(day, run)``'s rows in both sheets with the given ones; keep everything else."""
    target = Path(path)
    locks = lock_files(target)
    if locks:
        raise WorkbookError(
            f"{target} is open in another program (lock file {locks[0].name}); nothing was written",
            hint="close the workbook in LibreOffice/Excel and re-run the audit",
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise WorkbookError(f"{target} is read-only; nothing was written")
    with _exclusive(target):
        wb = _load(target)
        for name, columns, rows in (
            (KPI_SHEET, KPI_COLUMNS, kpi_rows),
            (PROPOSAL_SHEET, PROPOSAL_COLUMNS, proposal_rows),
        ):
            ws = _sheet(wb, name, columns)
            _replace_rows(ws, columns, day, run, rows)
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
        try:
            with atomic_path(target) as tmp:
                wb.save(tmp)
                if mode is not None:
                    os.chmod(tmp, mode)
                else:
                    umask = os.umask(0)
                    os.umask(umask)
                    os.chmod(tmp, 0o666 & ~umask)
        except OSError as exc:
            raise WorkbookError(
                f"cannot write {target}: {exc.strerror}; the old workbook was left untouched"
            ) from exc


def read_sheet(path: str | Path, name: str) -> list[list[Any]]:
    """All rows of one sheet as values (header first); for tests and tools."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return [list(r) for r in wb[name].iter_rows(values_only=True)]
    finally:
        wb.close()
