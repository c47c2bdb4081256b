"""Where runs execute: local worker processes or a Dask distributed cluster, behind one interface.

A backend is a context manager whose :meth:`Backend.run` takes a picklable top-level function
and a list of tasks and yields ``(task, result)`` pairs as runs finish, in any order. If the
infrastructure loses a task (a Dask worker died twice on it), the pair carries the exception
instead of a result. Backends know nothing of models or files: the runner writes every result
as it arrives, in the calling process.

A backend checks its settings when it is made, before it starts anything, and starts its
workers (or connects to its cluster) when its ``with`` block is entered, so that a sweep that
cannot run refuses before it writes anything.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import Any

from vcm_sim.sweep.spec import SweepError

BACKENDS = ("local", "dask")

WORKER_TIMEOUT_S = 300.0
"""Dask: how long a sweep waits while its cluster has no worker before it stops (seconds)."""


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_workers(workers: int | None) -> int:
    """The number of workers to use: ``workers``, or the cores available if None."""
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SweepError(f"--workers {workers!r}: need an integer >= 1 (omit it to use the "
                         f"{default_workers()} cores available)")
    return workers


class Backend:
    """Runs tasks; subclasses say where."""

    name = "base"
    workers = 1

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]
            ) -> Iterator[tuple[Any, Any | BaseException]]:
        """Yield ``(task, fn(task))`` for every task as it finishes."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What the manifest records about this backend."""
        return {"backend": self.name, "workers": self.workers}


class LocalBackend(Backend):
    """Worker processes on this machine; with one worker, runs in this process.

    Workers start from a fork server (spawned, where there is none), so that none inherits
    this process's threads, and each imports the runner and the model itself, with this
    process's ``sys.path``. Nothing is preloaded into the fork server: it would import from
    its own ``sys.path``, whose first entry is the working directory (CPython 3.12 ignores the
    parent's path there), and workers could run another copy of the package than this
    process does.

    Workers leave interruption to this process: they ignore SIGINT and SIGTERM (Ctrl+C reaches
    the whole process group), and exit as soon as the read end of a pipe from this process
    sees end-of-file: when the backend closes it, or when this process dies, even by SIGKILL.
    """

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = check_workers(workers)
        self._pool: ProcessPoolExecutor | None = None
        self._lifeline: Connection | None = None

    def __enter__(self) -> LocalBackend:
        if self.workers > 1:
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
                else "spawn"
            context = multiprocessing.get_context(method)
            watch, self._lifeline = context.Pipe(duplex=False)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=_follow_parent, initargs=(watch,))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is None:
            return
        if exc[0] is not None:  # interrupted or failed: stop the runs in progress now
            self._lifeline.close()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._lifeline.close()
        self._pool = self._lifeline = None

    def run(self, fn, tasks):
        if self._pool is None:
            for task in tasks:
                yield task, fn(task)
            return
        # Keep a bounded number of tasks in flight so that an interrupted sweep does not
        # leave thousands of queued futures behind.
        pending: dict[Future, Any] = {}
        queue = iter(tasks)
        limit = 4 * self.workers
        try:
            while True:
                while len(pending) < limit:
                    task = next(queue, None)
                    if task is None:
                        break
                    pending[self._pool.submit(fn, task)] = task
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        yield task, future.result()
                    except BrokenProcessPool:
                        raise SweepError(
                            "a worker process died (killed, or out of memory?); finished runs "
                            "are saved: rerun with --resume to continue") from None
                    except Exception as err:  # the task could not be sent or returned
                        yield task, err
        finally:
            for future in pending:
                future.cancel()


def _follow_parent(watch: Connection) -> None:
    """Worker initializer: leave signals to the parent, and exit when its pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_at_eof, args=(watch,), daemon=True,
                     name="vcm-sim-follow-parent").start()


def _exit_at_eof(watch: Connection) -> None:
    """Block until the parent's end of the pipe is closed, then end this worker at once."""
    try:
        watch.recv_bytes()
    except (EOFError, OSError):
        pass
    os._exit(1)


class DaskBackend(Backend):
    """A Dask distributed cluster: a new ``LocalCluster`` of ``workers`` single-threaded worker
    processes when no scheduler is given, else an existing cluster (a scheduler address such as
    ``tcp://10.0.0.5:8786``, a ``distributed.Client``, or a cluster object such as
    ``dask_jobqueue.SLURMCluster``).

    If the cluster has no worker for ``worker_timeout`` seconds while runs are pending (every
    worker died, or none ever came), the sweep stops with :class:`SweepError` instead of
    waiting forever.
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: Any = None,
                 worker_timeout: float = WORKER_TIMEOUT_S):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise SweepError("backend 'dask' needs the 'distributed' package: "
                             "pip install 'vcm_sim[sweep]'") from None
        self.workers = check_workers(workers)
        if isinstance(scheduler, str):
            _check_address(scheduler)
        self.scheduler = scheduler
        self.worker_timeout = check_worker_timeout(worker_timeout)
        self._cluster = None
        self._client = None
        self._own_client = True

    def __enter__(self) -> DaskBackend:
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                         processes=True, host="127.0.0.1",
                                         dashboard_address=None,
                                         silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
        elif isinstance(self.scheduler, Client):
            self._client, self._own_client = self.scheduler, False
        else:
            try:
                self._client = Client(self.scheduler, timeout="30s")
            except (OSError, ValueError) as err:
                raise SweepError(f"cannot reach the Dask scheduler at {self.scheduler!r}: "
                                 f"{err}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None and self._own_client:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def run(self, fn, tasks):
        from distributed import as_completed

        token = uuid.uuid4().hex[:8]
        futures = {}
        for task in tasks:
            key = f"vcm-run-{getattr(task, 'run_id', id(task))}-{token}"
            futures[self._client.submit(fn, task, key=key, pure=False)] = task
        watchdog = _Watchdog(self._client, self.worker_timeout, futures)
        try:
            for future in as_completed(futures):
                if watchdog.starved:
                    raise SweepError(
                        f"the Dask cluster at {self._client.scheduler.address} had no worker "
                        f"for {self.worker_timeout:g} s (--worker-timeout); finished runs are "
                        f"saved: start workers and rerun with --resume")
                with watchdog.lock:
                    task = futures.pop(future)
                try:
                    yield task, future.result()
                except Exception as err:  # e.g. KilledWorker: the task killed its workers
                    yield task, err
                future.release()
        finally:
            watchdog.stop()
            for future in futures:
                future.cancel()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"backend": self.name}
        if self._client is not None:
            info["scheduler"] = self._client.scheduler.address
            info["workers"] = len(self._client.scheduler_info().get("workers", {}))
        return info


class _Watchdog:
    """A thread that counts the cluster's workers about once a second; after ``timeout``
    seconds without any, it marks the sweep starved and cancels its pending futures, which
    wakes the loop waiting for them."""

    def __init__(self, client: Any, timeout: float, futures: dict):
        self.client, self.timeout, self.futures = client, timeout, futures
        self.lock = threading.Lock()
        self.starved = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True,
                                        name="vcm-sim-dask-watchdog")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        idle_since = None
        while not self._stop.wait(min(1.0, self.timeout / 4)):
            if self._workers():
                idle_since = None
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= self.timeout:
                self.starved = True
                with self.lock:
                    pending = list(self.futures)
                self.client.cancel(pending)
                return

    def _workers(self) -> int:
        try:
            return len(self.client.nthreads())
        except Exception:  # the scheduler cannot be asked (gone, closing): no worker either
            return 0


def check_worker_timeout(seconds: float) -> float:
    """``seconds``, if it is a positive number of seconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise SweepError(f"--worker-timeout {seconds!r}: need a number of seconds > 0")
    return float(seconds)


def _check_address(address: str) -> None:
    """Refuse a scheduler address that cannot be one, before anything connects or is written."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme != "inproc":
            parse_host_port(location)
    except ValueError as err:
        raise SweepError(f"--scheduler {address!r} is not a Dask scheduler address ({err}); "
                         f"expected e.g. tcp://10.0.0.5:8786") from None


def make_backend(name: str, workers: int | None = None, scheduler: Any = None,
                 worker_timeout: float = WORKER_TIMEOUT_S) -> Backend:
    """The backend called ``name`` ('local' or 'dask'), its settings checked; nothing is
    started until its ``with`` block."""
    if name == "local":
        if scheduler is not None:
            raise SweepError("--scheduler only applies to --backend dask")
        check_worker_timeout(worker_timeout)
        return LocalBackend(workers)
    if name == "dask":
        return DaskBackend(workers, scheduler, worker_timeout)
    raise SweepError(f"unknown backend {name!r}; backends: {', '.join(BACKENDS)}")
