"""SIGTERM is handled like Ctrl-C: an exception in the main thread, so every cleanup runs.

``timeout``, cron wrappers, systemd and ``docker stop`` send SIGTERM. Without a handler Python dies
on the spot (exit -15), skipping every ``finally``: temporary folders stay behind and a live
execution stops wherever it was. With :func:`install`, SIGTERM raises :class:`Terminated` (a
``KeyboardInterrupt``, so code that already cleans up after Ctrl-C does the same for SIGTERM) at
the next bytecode of the main thread, and the CLI exits 143 (128 + 15); Ctrl-C still exits 130.

After the first signal, further SIGINT/SIGTERM are ignored so that the cleanup itself cannot be
interrupted half-way; a third way out (``kill -9``) always remains.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; raised in the main thread like KeyboardInterrupt."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


def _ignore_further() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _ignore_further()
    raise Terminated(signum)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _ignore_further()
    raise KeyboardInterrupt


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
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)
    return True
