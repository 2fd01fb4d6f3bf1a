"""Print every btcn command and its options (used to keep docs/manual.md complete).

Usage: .venv/bin/python scripts/cli_inventory.py
"""

from __future__ import annotations

import typer.main

from btcn.cli.app import app


def walk(group, prefix: str = "btcn"):
    for name, cmd in sorted(getattr(group, "commands", {}).items()):
        full = f"{prefix} {name}"
        if getattr(cmd, "commands", None):
            yield from walk(cmd, full)
        else:
            opts = []
            for p in cmd.params:
                opts.extend(o for o in p.opts if o.startswith("-"))
                if not p.opts or not any(o.startswith("-") for o in p.opts):
                    opts.append(f"<{p.name}>")
            yield full, opts


def main() -> None:
    root = typer.main.get_command(app)
    print("global:", " ".join(o for p in root.params for o in p.opts))
    for name, opts in walk(root):
        print(f"{name}: {' '.join(opts)}")


if __name__ == "__main__":
    main()
