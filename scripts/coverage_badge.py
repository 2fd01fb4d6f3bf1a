"""Write (or check) the README's coverage badge from the last test run's coverage data.

Usage (after `.venv/bin/python -m pytest`):
  .venv/bin/python scripts/coverage_badge.py           # rewrite docs/coverage.svg
  .venv/bin/python scripts/coverage_badge.py --check   # fail if the badge is stale

No external service: the badge is a small SVG in the repository. --check allows a difference of
less than one percentage point (property-based tests make branch coverage vary a little).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BADGE = ROOT / "docs" / "coverage.svg"


def measured_percent() -> float:
    import coverage

    cov = coverage.Coverage(
        config_file=str(ROOT / "pyproject.toml"), data_file=str(ROOT / ".coverage")
    )
    cov.load()
    return float(cov.report(file=io.StringIO()))


def colour(pct: float) -> str:
    return (
        "#4c1" if pct >= 90 else "#a3c51c" if pct >= 80 else "#dfb317" if pct >= 70 else "#e05d44"
    )


def svg(pct: float) -> str:
    text = f"{pct:.0f}%"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="104" height="20" role="img" '
        f'aria-label="coverage: {text}"><title>coverage: {text}</title>'
        '<rect width="61" height="20" fill="#555"/>'
        f'<rect x="61" width="43" height="20" fill="{colour(pct)}"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        '<text x="30.5" y="14">coverage</text>'
        f'<text x="81.5" y="14">{text}</text></g></svg>\n'
    )


def badge_percent(path: Path) -> float:
    match = re.search(r"coverage: (\d+(?:\.\d+)?)%", path.read_text(encoding="utf-8"))
    if not match:
        raise SystemExit(f"{path}: no coverage figure found")
    return float(match.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the committed badge is stale")
    args = ap.parse_args()
    pct = measured_percent()
    if args.check:
        shown = badge_percent(BADGE)
        if abs(shown - pct) >= 1.0:
            print(f"coverage badge says {shown:.0f}% but this run measured {pct:.2f}%: "
                  "run scripts/coverage_badge.py and commit docs/coverage.svg", file=sys.stderr)  # fmt: skip
            return 1
        print(f"coverage badge {shown:.0f}% matches this run ({pct:.2f}%)")
        return 0
    BADGE.parent.mkdir(parents=True, exist_ok=True)
    BADGE.write_text(svg(pct), encoding="utf-8")
    print(f"wrote {BADGE.relative_to(ROOT)}: {pct:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
