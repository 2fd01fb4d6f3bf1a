"""The ``btcn`` application: the top-level options and the command table.

Command modules import only typer and the standard library at import time, so ``btcn --help``
stays fast; each command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from btcn import __version__
from btcn.cli import cmd_backtest, cmd_core, cmd_fetch, cmd_ops, cmd_sweep
from btcn.cli.context import STATE

HELP = """btcn: a BTC delta-neutral rebalancer for Gate.io (spot + hedge-mode USDT perpetuals).

A rebalance is a pipeline of small deterministic steps that pass JSON between them:

  btcn plan --snapshot snap.json --candles spot.csv | btcn execute --dry-run

stdout carries data only; logs and tables go to stderr. Exit codes: 0 ok, 1 internal error,
2 usage, 3 invalid input, 4 configuration, 5 guardrail refused, 6 exchange error,
7 partial execution, 8 audit drift, 9 resource limit, 130 interrupted (Ctrl-C),
143 terminated (SIGTERM).

Global options (--debug, --log-level, -q/--quiet, --width) go before or after the command:
`btcn -q backtest ...` and `btcn backtest ... -q` are the same.
"""

# Options of the root callback that are also accepted after the (sub)command: main() moves them to
# the front before typer parses the line. Flags, then options that take one value.
GLOBAL_FLAGS = frozenset({"--debug", "-q", "--quiet"})
GLOBAL_VALUED = frozenset({"--log-level", "--width"})


def hoist_global_options(argv: list[str]) -> list[str]:
    """``argv`` (without the program name) with the global options found after the command moved
    before it. Nothing after ``--`` is touched."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if arg in GLOBAL_FLAGS or (name in GLOBAL_VALUED and "=" in arg):
            front.append(arg)
        elif arg in GLOBAL_VALUED and i + 1 < len(argv):
            front.extend(argv[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


app = typer.Typer(
    name="btcn",
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"btcn {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks on errors (never secrets).")
    ] = False,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="Log level on stderr.", case_sensitive=False)
    ] = LogLevel.INFO,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No tables or progress on stderr.")
    ] = False,
    width: Annotated[
        int | None,
        typer.Option(
            "--width",
            min=40,
            max=100_000,
            help="Width of the tables on stderr. Default: the terminal's; never cut when "
            "stderr is not a terminal.",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    STATE.debug = STATE.debug or debug
    STATE.log_level = log_level.value
    STATE.quiet = STATE.quiet or quiet
    if width != STATE.width:  # the console is built once per process, with the width in force
        from btcn.cli.console import err_console

        err_console.cache_clear()
    STATE.width = width
    from btcn.runtime.logs import setup_logging

    setup_logging(STATE.log_level)


app.command("weights")(cmd_core.weights)
app.command("plan")(cmd_core.plan)
app.command("execute")(cmd_core.execute)
app.command("schema")(cmd_core.schema)
app.add_typer(cmd_fetch.app, name="fetch")
app.command("backtest")(cmd_backtest.backtest)
app.command("sweep")(cmd_sweep.sweep)
app.command("audit")(cmd_ops.audit)
app.command("report")(cmd_ops.report)
app.add_typer(cmd_ops.monitor_app, name="monitor")


def main() -> None:
    from btcn.runtime.interrupts import ignore_from_now, install

    install()
    try:
        app(args=hoist_global_options(sys.argv[1:]), prog_name="btcn")
    except BrokenPipeError:  # downstream closed the pipe (e.g. `| head`): not an error
        sys.stderr.close()
        sys.exit(0)
    finally:  # the exit code is decided: a signal during interpreter teardown must not change it
        ignore_from_now()
