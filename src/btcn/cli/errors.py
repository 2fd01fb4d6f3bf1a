"""Turn every error into one readable line on stderr and a documented exit code."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from btcn.cli.context import STATE
from btcn.errors import BtcnError, ExitCode

F = TypeVar("F", bound=Callable[..., Any])


def print_error(message: str, hint: str | None = None) -> None:
    from btcn.cli.console import err_console, styled

    console = err_console()
    console.print(styled("[bold red]error:[/] {}", message))
    if hint:
        console.print(styled("[dim]hint:[/] {}", hint))


def handle_errors(func: F) -> F:
    """Decorator for commands: BtcnError -> one line + its exit code; anything else -> exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from btcn.runtime.interrupts import deferred

        try:
            with deferred():  # a signal raises in the body, so every cleanup runs
                return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except BtcnError as exc:
            if STATE.debug:
                traceback.print_exc(file=sys.stderr)
            print_error(exc.message, exc.hint)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt as exc:
            from btcn.runtime.interrupts import Terminated

            if isinstance(exc, Terminated):
                print_error("terminated by SIGTERM")
                raise typer.Exit(int(ExitCode.TERMINATED)) from None
            print_error("interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except Exception as exc:
            if STATE.debug:
                traceback.print_exc(file=sys.stderr)
            print_error(
                f"internal error: {type(exc).__name__}: {exc}",
                "this is a bug in btcn; re-run with --debug and report the traceback",
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper  # type: ignore[return-value]
