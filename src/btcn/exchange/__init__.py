"""Venues: the offline paper venue, and (``btcn.exchange.gate``/``binance``) the real ones."""
