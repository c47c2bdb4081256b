"""Where a calibration's simulations run: pyabc samplers on local processes or a Dask cluster.

``local`` with one worker runs every simulation in this process (pyabc's ``SingleCoreSampler``);
with more, pyabc's ``MulticoreEvalParallelSampler`` forks that many workers per generation.
``dask`` submits them to a new ``LocalCluster`` of single-threaded worker processes, or to an
existing cluster at ``--scheduler``, through pyabc's ``DaskDistributedSampler``. Settings are
checked by :func:`check_backend` before anything starts; :func:`open_sampler` starts and stops
the workers.

pyabc's local workers are forked from this process and would outlive it if it were killed
(they run their generation to its end), and print a traceback each on Ctrl+C. So while the
local sampler runs, every process forked from this one ignores SIGINT (this process handles
Ctrl+C and ends them), ends silently on SIGTERM, and exits as soon as this process is gone,
however it ended.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from vcm_sim.calibrate.spec import CalibrationError
from vcm_sim.sweep.backends import make_backend

PARENT_POLL_S = 0.5
"""How often a forked worker checks that the process that forked it is alive (seconds)."""

_forking = False
"""True while the local sampler may fork workers from this process."""


def check_backend(backend: str, workers: int | None, scheduler: str | None) -> int:
    """The number of workers to start (the cores available if ``workers`` is None), once
    ``backend``, ``workers`` and ``scheduler`` are valid together; a
    :class:`~vcm_sim.errors.UserError` naming the bad one otherwise. Starts nothing."""
    return make_backend(backend, workers, scheduler).workers


@contextmanager
def open_sampler(backend: str, workers: int, scheduler: str | None
                 ) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A pyabc sampler on ``backend`` with its workers running, and what the manifest records
    about it; the workers stop when the block ends."""
    from pyabc.sampler import MulticoreEvalParallelSampler, SingleCoreSampler

    if backend == "local":
        # check_max_eval: a generation stops as soon as it passes min_acceptance_rate's bound
        sampler = SingleCoreSampler(check_max_eval=True) if workers == 1 else \
            MulticoreEvalParallelSampler(n_procs=workers, check_max_eval=True)
        with _workers_follow_this_process():
            yield sampler, {"backend": "local", "workers": workers}
        return
    with _dask_client(workers, scheduler) as client:
        from pyabc.sampler import DaskDistributedSampler

        yield DaskDistributedSampler(dask_client=client), {
            "backend": "dask", "scheduler": client.scheduler.address,
            "workers": len(client.scheduler_info().get("workers", {}))}


@contextmanager
def _dask_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A client of a new LocalCluster of ``workers`` single-threaded processes, or of the
    cluster at ``scheduler``."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, ValueError) as err:
            raise CalibrationError(f"cannot reach the Dask scheduler at {scheduler!r}: "
                                   f"{err}") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def _workers_follow_this_process() -> Iterator[None]:
    """Within the block, processes forked from this one follow it (see the module's
    docstring)."""
    global _forking
    _forking = True
    try:
        yield
    finally:
        _forking = False


_forked_from = 0
"""The pid of the process about to fork (set in it just before each fork)."""


def _remember_forking_process() -> None:
    global _forked_from
    _forked_from = os.getpid()


def _follow_parent() -> None:
    """Run in every child right after a fork: in a worker of the local sampler, ignore Ctrl+C,
    die quietly of SIGTERM (which the parent sends its workers as it exits; they inherit its
    handler that turns it into Ctrl+C) and watch the process that forked it. That pid is
    taken in the parent before the fork: read in the child, a parent killed during the fork
    would already read as its new parent, and the child would watch that one for ever (a
    worker so outlived a killed calibration by 50 minutes)."""
    if not _forking:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_exit_without, args=(_forked_from,), daemon=True,
                     name="vcm-sim-follow-parent").start()


def _exit_without(parent: int) -> None:
    """Poll until ``parent`` is no longer this process's parent (at once if it already is
    not), then end at once."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


os.register_at_fork(before=_remember_forking_process, after_in_child=_follow_parent)
