"""btcn: a BTC delta-neutral rebalancer for Gate.io, with a backtester and an audit trail."""

import os as _os
import sys as _sys

__version__ = "0.2.0"  # the one place: pyproject.toml reads it (dynamic version)

# Run as the `btcn` command (or `python -m btcn`): SIGTERM/SIGINT become exceptions from the very
# first import on, not only once the CLI has loaded (see btcn.runtime.interrupts). A library
# user's process is left alone.
if _sys.argv and (_os.path.basename(_sys.argv[0]) == "btcn" or _sys.argv[0] == "-m"):
    import _signal  # built in and already loaded: no import can be interrupted before this

    def _early(signum: int, frame: object) -> None:  # nothing has started: the line and the code
        _os.write(2, b"error: interrupted\n" if signum == 2 else b"error: terminated by SIGTERM\n")
        _os._exit(128 + signum)

    _signal.signal(15, _early)
    if _signal.getsignal(2) is not _signal.SIG_IGN:
        _signal.signal(2, _early)
    from btcn.runtime.interrupts import install as _install

    _install()
