"""btcn: a BTC delta-neutral rebalancer for Gate.io, with a backtester and an audit trail."""

import os as _os
import sys as _sys

__version__ = "0.2.0"  # the one place: pyproject.toml reads it (dynamic version)

# Run as the `btcn` command (or `python -m btcn`): SIGTERM/SIGINT become exceptions from the very
# first import on, not only once the CLI has loaded (see btcn.runtime.interrupts). A library
# user's process is left alone.
if _sys.argv and (_os.path.basename(_sys.argv[0]) == "btcn" or _sys.argv[0] == "-m"):
    from btcn.runtime.interrupts import install as _install

    _install()
