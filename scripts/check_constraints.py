"""Check that this Python environment holds exactly the versions pinned in constraints.txt.

Usage: python scripts/check_constraints.py [--constraints FILE] [--all]

Run it with the interpreter to check (`.venv/bin/python`, or `python` inside the container image).
Every installed distribution except btcn and the installers (pip, setuptools, wheel) must be
pinned in FILE with the same version; with --all every pin must also be installed (the dev venv,
which installs `.[dev]`; the image installs only the runtime subset). Prints one line per
difference and exits 1 when there is one. Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

UNPINNED = {"btcn", "pip", "setuptools", "wheel"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text: str) -> dict[str, str]:
    pins = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise SystemExit(f"check_constraints: not an exact pin: {raw!r}")
        pins[canonical(name)] = version.strip()
    return pins


def installed() -> dict[str, str]:
    return {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}


def differences(pins: dict[str, str], have: dict[str, str], *, complete: bool) -> list[str]:
    out = []
    for name, version in sorted(have.items()):
        if name in UNPINNED:
            continue
        if name not in pins:
            out.append(f"{name}=={version} is installed but not pinned")
        elif pins[name] != version:
            out.append(f"{name}=={version} is installed, constraints pin {pins[name]}")
    if complete:
        out += [f"{name}=={v} is pinned but not installed"
                for name, v in sorted(pins.items()) if name not in have]  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1] / "constraints.txt"
    parser.add_argument("--constraints", type=Path, default=default)
    parser.add_argument("--all", action="store_true", help="every pin must be installed too")
    args = parser.parse_args(argv)
    pins = read_pins(args.constraints.read_text(encoding="utf-8"))
    have = installed()
    problems = differences(pins, have, complete=args.all)
    for line in problems:
        print(f"check_constraints: {line}", file=sys.stderr)
    if problems:
        print("check_constraints: install with `pip install -c constraints.txt ...`, or "
              "regenerate it: sh scripts/update_constraints.sh", file=sys.stderr)  # fmt: skip
        return 1
    checked = len([n for n in have if n not in UNPINNED])
    print(f"check_constraints: ok ({checked} distributions match {args.constraints.name})",
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
