"""Options shared by several commands, so every command spells them the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Settings file (TOML). Default: $BTCN_CONFIG, else ./btcn.toml if present.",
        show_default=False,
    ),
]
StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="State store (SQLite). Default: [state] path from the settings (btcn-state.db).",
        show_default=False,
    ),
]


def load_settings(config: Path | None):
    from btcn.runtime.settings import load_settings as _load

    return _load(config)
