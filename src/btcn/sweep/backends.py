"""Where the batches of a sweep run: this process, local worker processes, or a Dask cluster.

Every back-end calls the same :func:`btcn.sweep.runner.run_batch` on the same market and the same
tasks, so the outcomes are identical bit for bit whichever runs them (the tests check it); only
the order in which batches finish differs, and the stage stores rows in plan order.

* :class:`SerialBackend` (``--workers 1``): in this process; no pool to start.
* :class:`LocalBackend` (``--workers N``): a ``ProcessPoolExecutor`` of N processes started by
  ``forkserver`` (``spawn`` where there is none), never by ``fork`` of a process that may hold
  threads. The market is handed to each process once, by the pool initializer.
* :class:`DaskBackend` (``--scheduler tcp://HOST:PORT``): a ``distributed.Client``; the market is
  scattered to every worker once (``broadcast=True``) and each task refers to it. Every worker
  must run the same btcn version (checked before any work).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from btcn.backtest.market import Market
from btcn.errors import UsageError
from btcn.sweep.runner import (
    Evaluate,
    Outcome,
    Task,
    error_text,
    init_worker,
    run_batch,
    run_batch_in_worker,
    worker_version,
)


class Backend(Protocol):
    name: str
    workers: int

    def start(self, market: Market) -> None: ...

    def run(self, batches: list[list[Task]], evaluate: Evaluate) -> Iterator[list[Outcome]]: ...

    def close(self) -> None: ...


def cores() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def _failed(batch: list[Task], exc: BaseException, where: str) -> list[Outcome]:
    return [Outcome(t.row_id, None, f"{where}: {error_text(exc)}") for t in batch]


class SerialBackend:
    name = "serial"
    workers = 1

    def __init__(self) -> None:
        self._market: Market | None = None

    def start(self, market: Market) -> None:
        self._market = market

    def run(self, batches: list[list[Task]], evaluate: Evaluate) -> Iterator[list[Outcome]]:
        assert self._market is not None, "start() first"
        for batch in batches:
            yield run_batch(self._market, batch, evaluate)

    def close(self) -> None:
        self._market = None


class LocalBackend:
    name = "local"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise UsageError("--workers must be at least 1")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def start(self, market: Market) -> None:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(["btcn.sweep.runner", "btcn.stages.backtest"])
        self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=init_worker,
                                         initargs=(market,))  # fmt: skip

    def run(self, batches: list[list[Task]], evaluate: Evaluate) -> Iterator[list[Outcome]]:
        assert self._pool is not None, "start() first"
        pending: dict[Future[list[Outcome]], list[Task]] = {
            self._pool.submit(run_batch_in_worker, b, evaluate): b for b in batches
        }
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    batch = pending.pop(fut)
                    try:
                        yield fut.result()
                    except Exception as exc:  # a worker died (e.g. killed for memory)
                        yield _failed(batch, exc, "worker process failed")
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskBackend:
    name = "dask"

    def __init__(self, address: str, *, timeout_s: float = 10.0) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self.workers = 0
        self._client: Any = None
        self._market: Any = None

    def start(self, market: Market) -> None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise UsageError(
                "--scheduler needs the Dask client, which is not installed",
                hint="pip install 'btcn[dask]'",
            ) from exc
        try:
            self._client = Client(self.address, timeout=self.timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"--scheduler {self.address}: cannot reach the Dask scheduler ({error_text(exc)})",
                hint="start one with `dask scheduler` and workers with `dask worker ADDRESS`",
            ) from exc
        versions = self._client.run(worker_version)
        if not versions:
            self.close()
            raise UsageError(f"--scheduler {self.address}: the cluster has no worker")
        from btcn import __version__

        other = sorted({v for v in versions.values() if v != __version__})
        if other:
            self.close()
            raise UsageError(
                f"--scheduler {self.address}: workers run btcn {', '.join(other)}, this is "
                f"{__version__}; results would not be comparable",
                hint="install the same btcn on every worker",
            )
        self.workers = sum(self._client.nthreads().values())
        self._market = self._client.scatter(market, broadcast=True, hash=False)

    def run(self, batches: list[list[Task]], evaluate: Evaluate) -> Iterator[list[Outcome]]:
        from distributed import as_completed

        assert self._client is not None, "start() first"
        futures = [
            self._client.submit(run_batch, self._market, b, evaluate, pure=False) for b in batches
        ]
        by_key = {f.key: b for f, b in zip(futures, batches, strict=True)}
        try:
            for fut in as_completed(futures, loop=self._client.loop):
                batch = by_key[fut.key]
                try:
                    yield fut.result()
                except Exception as exc:  # the task itself failed (e.g. worker lost)
                    yield _failed(batch, exc, "Dask task failed")
        finally:
            self._client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
            self._market = None


def make_backend(workers: int, scheduler: str | None) -> Backend:
    if scheduler:
        return DaskBackend(scheduler)
    if workers == 1:
        return SerialBackend()
    return LocalBackend(workers)
