"""stdout carries data only; logs, progress and tables go to stderr through one rich Console."""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


@cache
def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def write_stdout(text: str) -> None:
    """Write data to stdout (and flush, so a downstream pipe sees it at once)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def read_text_input(path: str, what: str) -> str:
    """Read a file, or stdin for ``-``; raise InvalidInputError with a readable line."""
    from btcn.errors import InvalidInputError

    if path == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InvalidInputError(
                f"{what}: expected JSON on stdin, but stdin is a terminal",
                hint=f"pipe a {what} into the command or pass a file path",
            )
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError as exc:
        raise InvalidInputError(f"{what}: file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise InvalidInputError(f"{what}: {path} is a folder, expected a file") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{what}: {path} is not UTF-8 text") from exc
    except OSError as exc:
        raise InvalidInputError(f"{what}: cannot read {path}: {exc.strerror}") from exc
