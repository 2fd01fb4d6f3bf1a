"""SIGTERM is handled like Ctrl-C: an exception in the main thread, so every cleanup runs.

``timeout``, cron wrappers, systemd and ``docker stop`` send SIGTERM. Without a handler Python dies
on the spot (exit -15), skipping every ``finally``: temporary folders stay behind and a live
execution stops wherever it was. With :func:`install`, SIGTERM raises :class:`Terminated` (a
``KeyboardInterrupt``, so code that already cleans up after Ctrl-C does the same for SIGTERM) at
the next bytecode of the main thread, and the CLI exits 143 (128 + 15); Ctrl-C still exits 130.

After the first signal, further SIGINT/SIGTERM are ignored so that the cleanup itself cannot be
interrupted half-way; a third way out (``kill -9``) always remains.

Two phases, so that a signal at *any* moment ends the process with its documented code and no
traceback. While a command's body runs (:func:`deferred`, entered by the CLI's error handler) the
signal is raised as an exception, so every ``finally`` cleans up. Before that (imports, argument
parsing, the top-level options) nothing has started and nothing needs cleaning: the handler
prints the one line and exits at once with 143/130, instead of raising into an import or into
click's own ``KeyboardInterrupt`` handling ("Aborted!", exit 1). After the body, the exit code is
decided and further signals are ignored (:func:`ignore_from_now`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; raised in the main thread like KeyboardInterrupt."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


def _ignore_further() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


_state = {"installed": False, "deferred": False}
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
_LINES = {signal.SIGINT: b"error: interrupted\n", signal.SIGTERM: b"error: terminated by SIGTERM\n"}


def _exit_now(signum: int) -> None:
    """No command body runs: nothing to clean up. One line, then the documented code."""
    with contextlib.suppress(OSError):
        os.write(2, _LINES[signal.Signals(signum)])
    os._exit(EXIT_CODES[signal.Signals(signum)])


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _ignore_further()
    if not _state["deferred"]:
        _exit_now(signum)
    raise Terminated(signum)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _ignore_further()
    if not _state["deferred"]:
        _exit_now(signum)
    raise KeyboardInterrupt


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A command's body: a signal is raised in it (cleanups run); once it is over, the exit code
    is decided and, in the ``btcn`` process, further signals are ignored."""
    _state["deferred"] = True
    try:
        yield
    finally:
        _state["deferred"] = False
        if _state["installed"]:
            ignore_from_now()


def ignore_from_now() -> None:
    """Called once a command's work is done and its exit code chosen: a SIGINT/SIGTERM that lands
    while the interpreter tears down would otherwise kill it with the raw signal (-15/-2), because
    Python restores the default handlers at the very end of finalisation. Ignored signals stay
    ignored, so the command's own exit code stands."""
    if threading.current_thread() is threading.main_thread():
        _ignore_further()


def install() -> bool:
    """Install the handlers (main thread only); return whether they were installed."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGTERM, _on_sigterm)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # ignored by the parent: stays so
        signal.signal(signal.SIGINT, _on_sigint)
    _state["installed"] = True
    return True
