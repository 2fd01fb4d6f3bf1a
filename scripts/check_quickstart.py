"""Check that the README's quick start produced what the README promises (run by .ci/run).

Usage: python scripts/check_quickstart.py [--root DIR] [--stdout FILE]

* every file named in backticks in README.md's "## Quick start" section (`summary.csv`,
  `equity.html`, `Log.xlsx`, `digest-2025-01-31.md`, ...) exists and is non-empty in
  DIR/run/example/;
* the JSON files examples/backtest.sh writes there (summary.json, audit.json, digest.json) parse;
* `.venv/bin/btcn` exists (step 1 installed btcn);
* with --stdout, quick start's stdout is one `execution_report` JSON with the spot BUY and the
  OPEN_SHORT the README describes.

Prints one line per missing piece and exits 1 when anything is missing; standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

RUN_DIR = "run/example"
# The files examples/backtest.sh writes from btcn's stdout (its header promises them).
EXAMPLE_JSON = ("summary.json", "audit.json", "digest.json")
# A backticked bare file name: `summary.csv`, `digest-2025-01-31.md` (not `.venv` or a path).
FILE_NAME = re.compile(r"`([A-Za-z0-9_.-]+\.(?:csv|html|xlsx|md|json|parquet))`")


def quick_start_section(readme: str) -> str:
    match = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, flags=re.S | re.M)
    if match is None:
        raise SystemExit("check_quickstart: README.md has no '## Quick start' section")
    return match.group(1)


def promised_files(readme: str) -> list[str]:
    names = sorted(set(FILE_NAME.findall(quick_start_section(readme))))
    if not names:  # a check that finds nothing to check must not pass
        raise SystemExit("check_quickstart: the README's quick start names no output file")
    return names


def check_run_folder(root: Path, names: list[str]) -> list[str]:
    problems = []
    run = root / RUN_DIR
    for name in [*names, *EXAMPLE_JSON]:
        path = run / name
        if not path.is_file():
            problems.append(f"{RUN_DIR}/{name}: missing")
        elif path.stat().st_size == 0:
            problems.append(f"{RUN_DIR}/{name}: empty")
        elif name.endswith(".json"):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                problems.append(f"{RUN_DIR}/{name}: not JSON ({exc})")
    return problems


def check_stdout(path: Path) -> list[str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"quick start stdout ({path}): not one JSON document ({exc})"]
    if not isinstance(doc, dict) or doc.get("kind") != "execution_report":
        return [f"quick start stdout ({path}): not an execution_report"]
    actions = {(o.get("leg"), o.get("action")) for o in doc.get("orders", [])}
    want = {("BTC_SPOT", "BUY"), ("BTC_PERP_SHORT", "OPEN_SHORT")}
    if not want <= actions:
        return [f"quick start stdout: orders {sorted(actions)} lack {sorted(want - actions)}"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--stdout", type=Path, help="quick start's captured stdout")
    args = parser.parse_args(argv)
    root = args.root
    names = promised_files((root / "README.md").read_text(encoding="utf-8"))
    problems = check_run_folder(root, names)
    if not (root / ".venv/bin/btcn").is_file():
        problems.append(".venv/bin/btcn: missing (btcn not installed)")
    if args.stdout is not None:
        problems += check_stdout(args.stdout)
    for line in problems:
        print(f"check_quickstart: {line}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_quickstart: ok ({', '.join(names)} and {', '.join(EXAMPLE_JSON)} in {RUN_DIR})",
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
