"""Durations written as ``"500ms"``, ``"5s"``, ``"60m"``, ``"24h"``, ``"7d"``."""

from __future__ import annotations

import re

_UNITS_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration_ms(text: str) -> int:
    """Milliseconds in a duration string; raises ValueError naming the accepted forms."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration such as '60m' or '24h', got {text!r}")
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit (ms, s, m, h, d), e.g. '60m'"
        )
    value = float(match.group(1)) * _UNITS_MS[match.group(2)]
    if value != int(value):
        raise ValueError(f"duration {text!r} is not a whole number of milliseconds")
    return int(value)


def format_duration_ms(ms: int) -> str:
    """The shortest exact text for a duration (inverse of :func:`parse_duration_ms`)."""
    for unit in ("d", "h", "m", "s"):
        size = _UNITS_MS[unit]
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
