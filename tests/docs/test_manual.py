"""docs/manual.md stays complete: every command, option, settings key and error message."""

from __future__ import annotations

import re
import sys

import typer.main

from btcn.cli.app import app
from btcn.runtime.settings import Settings
from tests.conftest import ROOT

MANUAL = (ROOT / "docs" / "manual.md").read_text(encoding="utf-8")
SHARED = {"--config", "--state", "--help"}  # documented once, under "Commands"


def sections() -> dict[str, str]:
    out = {}
    for part in MANUAL.split("\n### ")[1:]:
        title, _, body = part.partition("\n")
        out[title.strip()] = body.split("\n## ")[0]
    return out


def commands():
    def walk(group, prefix):
        for name, cmd in group.commands.items():
            full = f"{prefix} {name}"
            if getattr(cmd, "commands", None):
                yield from walk(cmd, full)
            else:
                yield full, cmd

    yield from walk(typer.main.get_command(app), "btcn")


def test_every_command_and_option_is_in_the_manual() -> None:
    secs = sections()
    missing = []
    for name, cmd in commands():
        top = " ".join(name.split()[:2])
        body = secs.get(f"`{name}`") or secs.get(f"`{top}`")
        if body is None:
            missing.append(f"no section for {name}")
            continue
        if name not in body and f"`{name}`" not in MANUAL:
            missing.append(f"{name} not shown in its section")
        for param in cmd.params:
            longs = [o for o in param.opts if o.startswith("--")]
            if not longs:
                continue  # an argument: shown in the usage line
            if not any(o in body for o in longs) and not set(longs) & SHARED:
                missing.append(f"{name} {longs[0]}")
    root = typer.main.get_command(app)
    for param in root.params:
        for opt in param.opts:
            if opt.startswith("--") and opt not in MANUAL:
                missing.append(f"global {opt}")
    assert not missing, missing


def test_every_settings_key_is_in_the_configuration_reference() -> None:
    ref = MANUAL.split("## Configuration reference", 1)[1].split("\n## Commands", 1)[0]
    missing = []
    for section, field in Settings.model_fields.items():
        if f"### `[{section}]`" not in ref:
            missing.append(f"[{section}]")
            continue
        body = ref.split(f"### `[{section}]`", 1)[1].split("\n### ", 1)[0]
        for key in field.annotation.model_fields:  # type: ignore[union-attr]
            if f"`{key}`" not in body:
                missing.append(f"{section}.{key}")
    assert not missing, missing


def test_every_error_message_is_in_troubleshooting() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from error_inventory import key_phrase, messages

    trouble = MANUAL.split("## Troubleshooting", 1)[1]
    found = messages()
    assert len(found) > 150  # the inventory really scans the code
    missing = sorted(
        {t for _, _, _, t in found if len(key_phrase(t)) >= 4 and key_phrase(t) not in trouble}
    )
    assert not missing, missing


def test_every_exit_code_is_documented() -> None:
    from btcn.errors import ExitCode

    table = MANUAL.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \|", table, re.M), code
