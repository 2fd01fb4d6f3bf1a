"""Process-wide CLI flags set by the top-level callback (``--debug``, ``--log-level``)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class CliState:
    debug: bool = os.environ.get("BTCN_DEBUG", "") not in ("", "0")
    log_level: str = "INFO"
    quiet: bool = False
    width: int | None = None  # --width: table width on stderr (None: the terminal's, or unbounded)


STATE = CliState()
