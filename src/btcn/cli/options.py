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


# Market-data inputs shared by `btcn backtest` and `btcn sweep`.
FilesOpt = list[str]
CandlesOpt = Annotated[
    FilesOpt,
    typer.Option(
        "--candles",
        help="Spot candles (P_ref and the spot leg): file, folder or glob; repeatable.",
    ),
]
PerpOpt = Annotated[
    FilesOpt | None,
    typer.Option(
        "--perp",
        help="Perp candles, same interval. Without them the perp trades at the spot price.",
    ),
]
FundingOpt = Annotated[
    FilesOpt | None,
    typer.Option(
        "--funding", help="Funding history (Binance fundingRate CSV, Gate CSV, or Parquet)."
    ),
]
SignalsOpt = Annotated[
    Path | None, typer.Option("--signals", help="CSV timestamp,signal (BUY/SELL/HOLD).")
]
StartOpt = Annotated[
    str | None, typer.Option("--start", help="First day (UTC) or ISO time to trade.")
]
EndOpt = Annotated[
    str | None, typer.Option("--end", help="Last day (UTC, inclusive) or ISO time (exclusive).")
]
