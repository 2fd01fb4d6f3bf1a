"""Logging to stderr; one ``--log-level`` for the whole process.

Two policies live in the handler, so every module gets them for free:

* Repeated identical INFO lines (same logger, same text, one after the other) are collapsed: the
  first is printed, the repeats are counted, and one ``(previous message repeated N more times)``
  line follows when a different line arrives or logging shuts down. Warnings and errors are never
  collapsed. Per-bar or per-point chatter belongs at DEBUG, which is not collapsed either.
* Every line passes through :func:`btcn.runtime.secrets.redact`, so a secret handed out by
  ``get_secret`` never reaches the terminal or a cron mail.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import TextIO

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is *now* (a handler created under a test runner's
    captured stream must not keep writing to it after that stream is closed)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()


class CollapsingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stderr handler that collapses consecutive identical INFO lines and masks secrets."""

    _btcn = True

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream if stream is not None else _CurrentStderr())  # type: ignore[arg-type]
        self._last: tuple[str, str] | None = None
        self._repeats = 0

    def format(self, record: logging.LogRecord) -> str:
        from btcn.runtime.secrets import redact

        return redact(super().format(record))

    def _flush_repeats(self) -> None:
        if self._repeats:
            n, self._repeats = self._repeats, 0
            self.stream.write(f"(previous message repeated {n} more time{'s' * (n > 1)})\n")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            key = (record.name, record.getMessage())
        except Exception:  # a bad %-format: let the standard machinery report it
            self.handleError(record)
            return
        self.acquire()
        try:
            if record.levelno == logging.INFO and key == self._last:
                self._repeats += 1
                return
            self._flush_repeats()
            self._last = key if record.levelno == logging.INFO else None
        finally:
            self.release()
        super().emit(record)

    def flush_repeats(self) -> None:
        self.acquire()
        try:
            self._flush_repeats()
            self._last = None
            self.flush()
        finally:
            self.release()

    def close(self) -> None:
        # The stream may already be closed at interpreter exit.
        with contextlib.suppress(ValueError, OSError):
            self.flush_repeats()
        super().close()


def setup_logging(level: str = "INFO") -> None:
    from btcn.errors import UsageError

    if level not in LEVELS:
        raise UsageError(f"--log-level must be one of {', '.join(LEVELS)}, got {level!r}")
    root = logging.getLogger("btcn")
    root.setLevel(level)
    if not any(getattr(h, "_btcn", False) for h in root.handlers):
        handler = CollapsingHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.propagate = False
