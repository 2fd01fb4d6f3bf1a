"""stdout carries data only; logs, progress and tables go to stderr through one rich Console."""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


# Width of a table when stderr is not a terminal (a pipe, a cron mail, a log file) and no --width
# is given: wide enough that no table is ever cut, as rich would at 80 columns.
UNBOUNDED_WIDTH = 10_000


@cache
def err_console() -> Console:
    """The one stderr console. Markup is OFF: every string, table cell and title is shown as it is
    (a message naming ``[guardrails]`` keeps it); btcn's own styling goes through :func:`styled`."""
    from rich.console import Console

    from btcn.cli.context import STATE

    width = STATE.width or (None if _isatty(sys.stderr) else UNBOUNDED_WIDTH)
    return Console(stderr=True, highlight=False, soft_wrap=True, markup=False, width=width)


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def styled(template: str, *values: object) -> Text:
    """``template`` is btcn's own markup (``"[yellow]warning:[/] {}"``); each value fills a ``{}``
    and is shown literally, whatever brackets it holds."""
    from rich.markup import escape
    from rich.text import Text

    return Text.from_markup(template.format(*(escape(str(v)) for v in values)))


def plain(text: object, style: str = "") -> Text:
    """A literal text with one style (a table cell such as a red ``past``)."""
    from rich.text import Text

    return Text(str(text), style=style)


def table(*args: Any, **kwargs: Any) -> Any:
    """A rich Table whose cells fold onto more lines instead of ending in "…" when the width is
    short (a narrow terminal or --width): a figure is never cut."""
    from rich.table import Table

    class FoldingTable(Table):
        def add_column(self, *a: Any, **kw: Any) -> None:
            kw.setdefault("overflow", "fold")
            super().add_column(*a, **kw)

    return FoldingTable(*args, **kwargs)


def warn(text: str) -> None:
    err_console().print(styled("[yellow]warning:[/] {}", text))


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
