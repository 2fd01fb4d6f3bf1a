"""What a worker runs: a batch of evaluations (one point on one period) on the market it holds.

The market (candles, perp, funding, signals) reaches a worker once: as the initializer argument
of a local process, or scattered to every Dask worker. Each evaluation only changes the ATR
threshold (:func:`btcn.backtest.market.rethreshold`, bit-identical to loading the files with
those settings); the ATR of each ``(atr_window, atr_periods)`` is cached per worker and market.

A failing evaluation becomes an :class:`Outcome` with its error: one bad point never stops the
batch or the sweep.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from btcn.backtest.market import Market, market_atr, rethreshold
from btcn.errors import BtcnError
from btcn.runtime.settings import Settings

EQUITY_KEYS = ("ts_ms", "nav_usdt", "fees_usdt", "funding_usdt")
ATR_CACHE_SIZE = 8


class EvalResult(Protocol):  # what ``btcn.stages.backtest.run`` returns (RunResult)
    summary: dict[str, Any]
    equity: dict[str, np.ndarray]


Evaluate = Callable[[Market, Settings, "int | None", "int | None"], EvalResult]


@dataclass(frozen=True)
class Task:
    row_id: str
    settings: Settings
    start_ms: int | None
    end_ms: int | None
    keep_equity: bool = False


@dataclass
class Outcome:
    row_id: str
    summary: dict[str, Any] | None
    error: str | None = None
    equity: dict[str, np.ndarray] | None = None


_lock = threading.Lock()
_atr_cache: dict[int, tuple[weakref.ref[Market], dict[tuple[int, int], Any]]] = {}


def _atr_for(market: Market, window_ms: int, periods: int) -> Any:
    key = id(market)
    with _lock:
        entry = _atr_cache.get(key)
        if entry is None or entry[0]() is not market:  # a new market at a recycled id
            entry = (weakref.ref(market), {})
            _atr_cache[key] = entry
            for stale in [k for k, (ref, _) in _atr_cache.items() if ref() is None]:
                del _atr_cache[stale]
        cache = entry[1]
        hit = cache.get((window_ms, periods))
    if hit is not None:
        return hit
    value = market_atr(market, atr_window_ms=window_ms, atr_periods=periods)
    with _lock:
        if len(cache) >= ATR_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[(window_ms, periods)] = value
    return value


def market_for(market: Market, settings: Settings) -> Market:
    """The market with the threshold of this point's ``[strategy]`` settings."""
    st = settings.strategy
    atr = _atr_for(market, st.atr_window_ms, st.atr_periods)
    return rethreshold(market, atr_window_ms=st.atr_window_ms, atr_periods=st.atr_periods,
                       threshold_floor=st.threshold_floor, atr_multiplier=st.atr_multiplier,
                       atr=atr)  # fmt: skip


def error_text(exc: BaseException) -> str:
    if isinstance(exc, BtcnError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def run_task(market: Market, task: Task, evaluate: Evaluate) -> Outcome:
    try:
        result = evaluate(market_for(market, task.settings), task.settings, task.start_ms,
                          task.end_ms)  # fmt: skip
    except Exception as exc:
        return Outcome(task.row_id, None, error_text(exc))
    equity = (
        {k: np.asarray(result.equity[k]).copy() for k in EQUITY_KEYS} if task.keep_equity else None
    )
    return Outcome(task.row_id, dict(result.summary), None, equity)


def run_batch(market: Market, tasks: list[Task], evaluate: Evaluate) -> list[Outcome]:
    return [run_task(market, t, evaluate) for t in tasks]


# --- local worker processes: the market is set once per process by the pool initializer -------

_WORKER: dict[str, Market] = {}  # this process's market, set once by the pool initializer


def tune_allocator() -> bool:
    """Let glibc keep large freed blocks for reuse instead of returning them to the OS at once.

    A backtest allocates and frees many NumPy arrays of a few hundred KB to a few MB. Dask's
    nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which pins glibc's mmap threshold
    at 128 KB: every such array is then mmapped and unmapped, and a backtest runs ~15 % slower
    than in a plain process. Raising both thresholds restores (and betters) the default
    behaviour. Memory use of a worker grows by at most the trim threshold. A no-op (False) where
    the C library has no ``mallopt`` (not glibc).
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 256 << 20))


def init_worker(market: Market) -> None:
    """Pool initializer: keep the market; leave Ctrl-C and SIGTERM to the parent (it stops the
    pool and commits or discards the output folder)."""
    import signal

    _WORKER["market"] = market
    tune_allocator()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def run_batch_in_worker(tasks: list[Task], evaluate: Evaluate) -> list[Outcome]:
    market = _WORKER.get("market")
    if market is None:
        raise RuntimeError("worker process has no market (initializer not run)")
    return run_batch(market, tasks, evaluate)


def worker_version() -> str:
    """Run on every Dask worker before a sweep: all must run the same btcn (and the worker's
    allocator is tuned for backtests, see :func:`tune_allocator`)."""
    from btcn import __version__

    tune_allocator()
    return __version__
