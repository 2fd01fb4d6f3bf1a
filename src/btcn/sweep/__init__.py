"""Parameter sweeps and walk-forward validation over the backtest engine.

* :mod:`btcn.sweep.space` reads the grid file and expands it into points (grid, seeded random
  draws, fixed overrides), each with its validated settings.
* :mod:`btcn.sweep.windows` cuts walk-forward train/test windows.
* :mod:`btcn.sweep.runner` is what a worker runs: a batch of evaluations on a market it holds.
* :mod:`btcn.sweep.backends` runs batches in this process, on local processes or on a Dask
  cluster; results are identical whichever runs them.
* :mod:`btcn.sweep.store` reads and writes ``sweep.parquet`` (the resume file) and the
  walk-forward files; :mod:`btcn.sweep.walkforward` picks winners and chains the out-of-sample
  equity; :mod:`btcn.sweep.html` writes ``sweep.html``.

Nothing here imports :mod:`btcn.stages`: the stage passes the function that evaluates one point.
"""
