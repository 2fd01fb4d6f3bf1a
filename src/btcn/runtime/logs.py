"""Logging to stderr through rich; one ``--log-level`` for the whole process."""

from __future__ import annotations

import logging

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def setup_logging(level: str = "INFO") -> None:
    from btcn.errors import UsageError

    if level not in LEVELS:
        raise UsageError(f"--log-level must be one of {', '.join(LEVELS)}, got {level!r}")
    root = logging.getLogger("btcn")
    root.setLevel(level)
    if not any(getattr(h, "_btcn", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._btcn = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.propagate = False
