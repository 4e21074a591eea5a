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
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Literal, Protocol, TypeVar

__all__ = ["Engine", "Executor", "ExecutorError", "make_executor"]

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


PARENT_POLL_S = 0.5
"""How often a worker checks that the process that started it is alive."""


def _follow_parent(parent: int) -> None:
    """Worker initializer: ignore Ctrl-C (the parent handles it and stops the pool, so the
    terminal shows no worker tracebacks) and exit as soon as the parent is gone (a kill -9
    of ``twin sweep`` would otherwise leave its workers running, orphaned)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


class ProcessExecutor:
    """Runs tasks on ``workers`` local processes, keeping at most ``2 * workers`` in flight;
    the workers exit when this process dies."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_follow_parent,
            initargs=(os.getpid(),),
        )

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


CONNECT_TIMEOUT_S = 10.0
"""How long joining a running Dask scheduler may take."""


class ExecutorError(RuntimeError):
    """Workers cannot be had: a missing extra, a scheduler that cannot be reached."""


class DaskExecutor:
    """Runs tasks on a Dask distributed cluster (started on loopback, or joined at ``address``)."""

    def __init__(self, workers: int, address: str | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as missing:
            raise ExecutorError("--engine dask needs the `dask` extra: pip install 'factory-twin[dask]'") from missing
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
            try:
                self.client = Client(address, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError, TypeError) as error:
                raise ExecutorError(
                    f"cannot reach a Dask scheduler at {address!r} within {CONNECT_TIMEOUT_S:g} s ({error})"
                ) from None

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
        ExecutorError: Dask is not installed, or the scheduler at ``address`` cannot be reached.
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
