"""The one duration type: text such as ``"500ms"``, ``"5s"``, ``"60m"``, ``"24h"``, ``"7d"``,
parsed once into integer milliseconds.

:class:`Duration` is the text as written (a ``str``: settings dump it unchanged, so the inputs
digest of a plan does not depend on how btcn stores it) carrying ``.ms``, computed when the value
is made. Settings keys, command-line options (``--since``, ``--walk-forward``) and candle
intervals (``btcn fetch --interval``) all go through :func:`parse_duration_ms`.
"""

from __future__ import annotations

import re
from decimal import Decimal

_UNITS_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
MAX_DURATION_MS = 100 * 365 * 86_400_000  # a century: longer is a typo, not a setting


def _short(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def parse_duration_ms(text: str) -> int:
    """Milliseconds in a duration string; raises ValueError naming the accepted forms."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration such as '60m' or '24h', got {text!r}")
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(
            f"invalid duration {_short(text)}: use a number and a unit (ms, s, m, h, d), e.g. '60m'"
        )
    # Decimal, not float: '999…9s' must be refused as too long, not overflow or round.
    value = Decimal(match.group(1)) * _UNITS_MS[match.group(2)]
    if value > MAX_DURATION_MS:
        raise ValueError(f"duration {_short(text)} is longer than 100 years")
    if value != int(value):
        raise ValueError(f"duration {_short(text)} is not a whole number of milliseconds")
    return int(value)


def parse_positive_duration_ms(text: str) -> int:
    """Like :func:`parse_duration_ms`, but zero is refused (a window or timeout of 0 means nothing)."""
    ms = parse_duration_ms(text)
    if ms <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    return ms


def format_duration_ms(ms: int) -> str:
    """The shortest exact text for a duration (inverse of :func:`parse_duration_ms`)."""
    for unit in ("d", "h", "m", "s"):
        size = _UNITS_MS[unit]
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


class Duration(str):
    """A duration as written, with its length in integer milliseconds in ``ms``.

    Equal, hashed and serialised as its text (``Duration("60m") == "60m"``); two spellings of one
    length are different texts with the same ``ms``. Invalid text raises ValueError on creation,
    so a Duration that exists is a valid one."""

    ms: int

    def __new__(cls, text: str) -> Duration:
        ms = parse_duration_ms(text)
        self = super().__new__(cls, text)
        self.ms = ms
        return self

    @classmethod
    def positive(cls, text: str) -> Duration:
        """A Duration longer than zero (a window or a timeout of 0 means nothing)."""
        parse_positive_duration_ms(text)
        return cls(text)

    @property
    def seconds(self) -> float:
        return self.ms / 1000
