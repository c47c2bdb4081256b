"""The store: whatever order runs finish in, and however often a run is written again, the
dataset holds one row per run id; half-written files never count as runs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vcm_sim.sweep.store import RunStore


def row(run_id: int, status: str = "ok", **columns) -> dict:
    """A run-table row with the identity columns every part holds."""
    return {"run_id": run_id, "point": run_id, "replication": 0, "root_seed": 1,
            "status": status, **columns}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=40))
def test_any_order_of_writes_leaves_one_row_per_run_id(ids):
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        store.parts.mkdir(parents=True)
        for k, run_id in enumerate(ids):  # a later write of the same run replaces the earlier
            store.write_run(row(run_id, m=float(k)))
        runs = store.load_runs()
        assert list(runs["run_id"]) == sorted(set(ids))
        last = {run_id: float(k) for k, run_id in enumerate(ids)}
        assert dict(zip(runs["run_id"], runs["m"])) == last
        assert store.scan()[1] == []


def test_rows_with_different_columns_unify_and_temporary_files_are_ignored(tmp_path: Path):
    store = RunStore(tmp_path)
    store.parts.mkdir(parents=True)
    store.write_run(row(1, error=None, m=2.5, k=3))
    store.write_run(row(0, "error", error="boom"))
    (store.parts / ".run-0000002.parquet.tmp123").write_bytes(b"half a file")
    runs = store.load_runs()
    assert list(runs["run_id"]) == [0, 1] and np.isnan(runs.loc[0, "m"])
    assert runs.loc[1, "k"] == 3
    assert store.clean_temporary() == 1 and not list(store.parts.glob(".*"))
