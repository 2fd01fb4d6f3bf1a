"""btcn: a BTC delta-neutral rebalancer for Gate.io, with a backtester and an audit trail."""

__version__ = "0.1.0"
