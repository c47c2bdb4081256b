"""The Dask backend does not wait forever for workers that are gone: a sweep whose cluster has
had no worker for ``worker_timeout`` seconds stops, saying so, with its finished runs saved."""

from __future__ import annotations

import threading
import time

import pytest

from tests.sweep.sweep_helpers import RIGOUR_RANGE, SLOW, manifest, write_sweep
from vcm_sim.sweep import SweepError, load_runs, sweep


def test_a_cluster_that_loses_every_worker_stops_the_sweep_after_the_timeout(tmp_path):
    distributed = pytest.importorskip("distributed")
    path = write_sweep(tmp_path, RIGOUR_RANGE, model=SLOW)
    out = tmp_path / "o"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        def lose_the_workers() -> None:
            while len(list((out / "parts").glob("run-*.parquet"))) < 2:
                time.sleep(0.02)
            cluster.scale(0)

        killer = threading.Thread(target=lose_the_workers, daemon=True)
        killer.start()
        started = time.monotonic()
        with pytest.raises(SweepError, match=r"had no worker for 1 s \(--worker-timeout\); "
                                             r"finished runs are saved"):
            sweep(path, backend="dask", scheduler=cluster.scheduler_address, worker_timeout=1,
                  out=out, progress=False)
        assert time.monotonic() - started < 60
        killer.join()
    record = manifest(out)
    assert record["status"] == "failed" and 2 <= record["runs_done"] < 24
    again = sweep(path, workers=1, out=out, resume=True, progress=False)
    assert again.ran == 24 - record["runs_done"] and len(load_runs(out)) == 24
