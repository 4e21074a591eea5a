"""Executors: where independent tasks (one replication of one scenario) run.

Every task is a pure function of its arguments (scenario, replication, seed), so any
executor gives bit-identical results; they differ only in where the work happens:

- ``serial``: in this process (one worker);
- ``processes``: a local process pool (``spawn`` start method, so no state leaks from the
  parent);
- ``dask``: a Dask distributed cluster: a ``LocalCluster`` bound to 127.0.0.1, or a running
  scheduler at ``address`` (``tcp://host:8786``) whose workers have factory-twin installed.

Results come back in completion order, as ``(key, value)`` pairs.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Literal, Protocol, TypeVar

__all__ = ["Engine", "Executor", "make_executor"]

K = TypeVar("K")
Engine = Literal["local", "dask"]


class Executor(Protocol):
    """Runs ``fn(*args)`` for each ``(key, args)`` and yields ``(key, result)`` as they finish."""

    def run(self, fn: Callable[..., Any], tasks: Iterable[tuple[K, tuple[Any, ...]]]) -> Iterator[tuple[K, Any]]:
        """Run every task; stop early (cancelling what is pending) if the consumer stops."""
        ...

    def close(self) -> None:
        """Release workers and clusters."""
        ...


class SerialExecutor:
    """Runs tasks one after the other in this process."""

    def run(self, fn: Callable[..., Any], tasks: Iterable[tuple[K, tuple[Any, ...]]]) -> Iterator[tuple[K, Any]]:
        for key, args in tasks:
            yield key, fn(*args)

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """Runs tasks on ``workers`` local processes, keeping at most ``2 * workers`` in flight."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def run(self, fn: Callable[..., Any], tasks: Iterable[tuple[K, tuple[Any, ...]]]) -> Iterator[tuple[K, Any]]:
        pending: dict[Future[Any], K] = {}
        queue = iter(tasks)
        try:
            while True:
                for key, args in queue:
                    pending[self.pool.submit(fn, *args)] = key
                    if len(pending) >= 2 * self.workers:
                        break
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield pending.pop(future), future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Runs tasks on a Dask distributed cluster (started on loopback, or joined at ``address``)."""

    def __init__(self, workers: int, address: str | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as missing:
            raise RuntimeError("--engine dask needs the `dask` extra: pip install 'factory-twin[dask]'") from missing
        self.cluster = None
        if address is None:
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=40,
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(address, timeout=30)

    def run(self, fn: Callable[..., Any], tasks: Iterable[tuple[K, tuple[Any, ...]]]) -> Iterator[tuple[K, Any]]:
        from distributed import as_completed

        futures = {}
        for key, args in tasks:
            futures[self.client.submit(fn, *args, pure=False)] = key
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            self.client.cancel(list(futures))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(workers: int = 1, engine: Engine = "local", address: str | None = None) -> Executor:
    """The executor for ``workers`` on ``engine`` (``address`` joins a running Dask scheduler).

    Raises:
        ValueError: ``workers`` < 1, an unknown engine, or ``address`` without ``engine="dask"``.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1 (got {workers})")
    if address is not None and engine != "dask":
        raise ValueError("address needs engine 'dask'")
    if engine == "dask":
        return DaskExecutor(workers, address)
    if engine != "local":
        raise ValueError(f"engine must be 'local' or 'dask' (got {engine!r})")
    return SerialExecutor() if workers == 1 else ProcessExecutor(workers)
