"""``btcn report``: complete a run folder's reports and write the daily digest."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from btcn.contracts import ExecutionReport, Snapshot
from btcn.reports.digest import Digest, build_digest, to_markdown
from btcn.reports.history import Recorded, commit, prepare, staged
from btcn.reports.regen import check_out_dir, write_reports
from btcn.reports.runfolder import RunFolder
from btcn.runtime.settings import Settings


@dataclass(frozen=True)
class ReportRequest:
    run_dir: Path
    day: dt.date | None = None
    out_dir: Path | None = None
    regenerate: bool = True
    # Live history: a snapshot and/or an execution report to add to run_dir first.
    snapshot: Snapshot | None = None
    execution: ExecutionReport | None = None
    settings: Settings | None = None
    force: bool = False  # replace digests in an --out-dir that holds other files


@dataclass(frozen=True)
class ReportResult:
    digest: Digest
    regenerated: list[str]
    markdown_path: Path
    json_path: Path
    json_text: str
    recorded: Recorded | None = None


def run(req: ReportRequest) -> ReportResult:
    """Validate, then write: with a snapshot or an execution to record, the new history is
    computed, written to a private folder, read back with every reader's checks and its digest
    built there; only then are the run folder (and ``--out-dir``) changed."""
    recorded = None
    check_out_dir(req.run_dir, req.out_dir, req.force)
    if req.snapshot is not None or req.execution is not None:
        prepared = prepare(req.run_dir, req.settings or Settings(), snapshot=req.snapshot,
                           execution=req.execution, force=req.force)  # fmt: skip
        with staged(prepared) as folder:
            digest = build_digest(RunFolder.load(folder), req.day)
        commit(req.run_dir, prepared)
        recorded = prepared.recorded
    rf = RunFolder.load(req.run_dir)
    digest = build_digest(rf, req.day)
    out = req.out_dir or rf.path
    md_name, json_name = f"digest-{digest.day}.md", f"digest-{digest.day}.json"
    json_text = json.dumps(digest.to_json_dict(), indent=2, allow_nan=False) + "\n"
    markdown = to_markdown(digest)
    regenerated = write_reports(rf.path, req.out_dir, req.force, req.regenerate,
                                {md_name: markdown, json_name: json_text})  # fmt: skip
    return ReportResult(digest, regenerated, out / md_name, out / json_name, json_text, recorded)
