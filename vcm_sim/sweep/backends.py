"""Where runs execute: local worker processes or a Dask distributed cluster, behind one interface.

A backend is a context manager whose :meth:`Backend.run` takes a picklable top-level function
and a list of tasks and yields ``(task, result)`` pairs as runs finish, in any order. If the
infrastructure loses a task (a Dask worker died twice on it), the pair carries the exception
instead of a result. Backends know nothing of models or files: the runner writes every result
as it arrives, in the calling process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from vcm_sim.sweep.spec import SweepError

BACKENDS = ("local", "dask")


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
    """

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        if self.workers < 1:
            raise SweepError(f"workers = {self.workers}: need at least 1")
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalBackend:
        if self.workers > 1:
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
                else "spawn"
            context = multiprocessing.get_context(method)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

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


class DaskBackend(Backend):
    """A Dask distributed cluster: a new ``LocalCluster`` of ``workers`` single-threaded worker
    processes when no scheduler is given, else an existing cluster (a scheduler address such as
    ``tcp://10.0.0.5:8786``, a ``distributed.Client``, or a cluster object such as
    ``dask_jobqueue.SLURMCluster``)."""

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: Any = None):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise SweepError("backend 'dask' needs the 'distributed' package: "
                             "pip install 'vcm_sim[sweep]'") from None
        self.workers = workers or default_workers()
        self.scheduler = scheduler
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
            except OSError as err:
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
        try:
            for future in as_completed(futures):
                task = futures.pop(future)
                try:
                    yield task, future.result()
                except Exception as err:  # e.g. KilledWorker: the task killed its workers
                    yield task, err
                future.release()
        finally:
            for future in futures:
                future.cancel()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"backend": self.name}
        if self._client is not None:
            info["scheduler"] = self._client.scheduler.address
            info["workers"] = len(self._client.scheduler_info().get("workers", {}))
        return info


def make_backend(name: str, workers: int | None = None, scheduler: Any = None) -> Backend:
    """The backend called ``name`` ('local' or 'dask')."""
    if name == "local":
        if scheduler is not None:
            raise SweepError("--scheduler only applies to --backend dask")
        return LocalBackend(workers)
    if name == "dask":
        return DaskBackend(workers, scheduler)
    raise SweepError(f"unknown backend {name!r}; backends: {', '.join(BACKENDS)}")
