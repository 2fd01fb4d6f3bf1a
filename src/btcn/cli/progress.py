"""A progress bar on stderr that appears only for work that takes more than a moment."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

SHOW_AFTER_S = 1.0


@contextlib.contextmanager
def progress_factory(
    label: str, *, quiet: bool
) -> Iterator[Callable[[int], Callable[[int], None]]]:
    """Yields ``factory(total) -> update(done)``; the bar is drawn once work passes one second."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from btcn.cli.console import err_console

    bar = Progress(TextColumn(label, style="bold", markup=False), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                   TimeRemainingColumn(), console=err_console(), transient=True)  # fmt: skip
    started = time.monotonic()
    state: dict[str, object] = {"shown": False, "task": None}

    def factory(total: int) -> Callable[[int], None]:
        def update(done: int) -> None:
            if quiet:
                return
            if not state["shown"] and time.monotonic() - started > SHOW_AFTER_S and done < total:
                bar.start()
                state["task"] = bar.add_task(label, total=total)
                state["shown"] = True
            if state["shown"]:
                bar.update(state["task"], completed=done)  # type: ignore[arg-type]

        return update

    try:
        yield factory
    finally:
        if state["shown"]:
            bar.stop()
