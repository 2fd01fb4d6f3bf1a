"""``btcn report``: complete a run folder's reports and write the daily digest."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from btcn.reports.digest import Digest, build_digest, to_markdown
from btcn.reports.regen import regenerate_missing
from btcn.reports.runfolder import RunFolder
from btcn.runtime.files import write_text_atomic


@dataclass(frozen=True)
class ReportRequest:
    run_dir: Path
    day: dt.date | None = None
    out_dir: Path | None = None
    regenerate: bool = True


@dataclass(frozen=True)
class ReportResult:
    digest: Digest
    regenerated: list[str]
    markdown_path: Path
    json_path: Path
    json_text: str


def run(req: ReportRequest) -> ReportResult:
    rf = RunFolder.load(req.run_dir)
    regenerated = regenerate_missing(rf.path) if req.regenerate else []
    digest = build_digest(rf, req.day)
    out = req.out_dir or rf.path
    md_path = out / f"digest-{digest.day}.md"
    json_path = out / f"digest-{digest.day}.json"
    json_text = json.dumps(digest.to_json_dict(), indent=2, allow_nan=False) + "\n"
    write_text_atomic(md_path, to_markdown(digest))
    write_text_atomic(json_path, json_text)
    return ReportResult(digest, regenerated, md_path, json_path, json_text)
