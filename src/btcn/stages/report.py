"""``btcn report``: complete a run folder's reports and write the daily digest."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from btcn.contracts import ExecutionReport, Snapshot
from btcn.reports.digest import Digest, build_digest, to_markdown
from btcn.reports.history import Recorded, record
from btcn.reports.regen import regenerate_missing
from btcn.reports.runfolder import RunFolder
from btcn.runtime.files import write_text_atomic
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


@dataclass(frozen=True)
class ReportResult:
    digest: Digest
    regenerated: list[str]
    markdown_path: Path
    json_path: Path
    json_text: str
    recorded: Recorded | None = None


def run(req: ReportRequest) -> ReportResult:
    recorded = None
    if req.snapshot is not None or req.execution is not None:
        recorded = record(req.run_dir, req.settings or Settings(), snapshot=req.snapshot,
                          execution=req.execution)  # fmt: skip
    rf = RunFolder.load(req.run_dir)
    regenerated = regenerate_missing(rf.path) if req.regenerate else []
    digest = build_digest(rf, req.day)
    out = req.out_dir or rf.path
    md_path = out / f"digest-{digest.day}.md"
    json_path = out / f"digest-{digest.day}.json"
    json_text = json.dumps(digest.to_json_dict(), indent=2, allow_nan=False) + "\n"
    write_text_atomic(md_path, to_markdown(digest))
    write_text_atomic(json_path, json_text)
    return ReportResult(digest, regenerated, md_path, json_path, json_text, recorded)
