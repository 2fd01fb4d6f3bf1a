"""Expand a file, folder or glob argument into an ordered list of data files."""

from __future__ import annotations

import glob
from pathlib import Path

from btcn.errors import InvalidInputError

DATA_SUFFIXES = (".csv", ".parquet", ".pq")


def expand_inputs(spec: str | Path, what: str) -> list[Path]:
    """Files named by ``spec``: one file, every data file of a folder, or a glob pattern."""
    text = str(spec)
    path = Path(text)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
        )
        if not files:
            raise InvalidInputError(f"{what}: folder {text} holds no .csv or .parquet files")
        return files
    if any(ch in text for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file())
        if not files:
            raise InvalidInputError(f"{what}: no file matches {text}")
        return files
    raise InvalidInputError(f"{what}: file not found: {text}")
