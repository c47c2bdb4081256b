"""The runner: identical rows whatever the backend and the number of workers, one row per run,
failures recorded without stopping the sweep, resume after a hard kill."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import vcm_sim
from tests.sweep.sweep_helpers import GRID, write_sweep
from vcm_sim.sweep import SweepError, load_runs, load_series, load_sweep, sweep
from vcm_sim.sweep.runner import plan, run_seed, simulate
from vcm_sim.sweep.samplers import design

NONDETERMINISTIC = ["duration_s"]


def rows(out: Path) -> pd.DataFrame:
    return load_runs(out).drop(columns=NONDETERMINISTIC)


def test_run_seeds_are_the_root_seed_sequence_spawned_in_run_id_order():
    children = np.random.SeedSequence(11).spawn(5)
    for run_id, child in enumerate(children):
        assert (run_seed(11, run_id).generate_state(4) == child.generate_state(4)).all()


INERT = """
[parameters."exposure.vcmi_scrutiny_factor"]
values = [1.5, 3.0]
"""
"""A parameter the baseline never reads (its claims code is not VCMI): both points are the
same market."""


@pytest.mark.parametrize("paired", [True, False])
def test_common_random_numbers_give_each_replication_one_seed_across_points(tmp_path, paired):
    path = write_sweep(tmp_path, INERT, keys=f"common_random_numbers = {str(paired).lower()}\n",
                       replications=2)
    sweep(path, out=tmp_path / "out", workers=1, progress=False)
    runs = rows(tmp_path / "out").sort_values(["replication", "point"])
    metrics = ["mean_price_usd", "volume_total", "greenwashing_index"]
    for _, replication in runs.groupby("replication"):
        same = replication[metrics].nunique().eq(1).all()
        assert same == paired, replication[["point", *metrics]]


def test_run_ids_are_point_times_replications_plus_replication(grid_file):
    spec, scenario = load_sweep(grid_file)
    tasks = plan(spec, scenario, design(spec))
    assert [(t.run_id, t.point, t.replication) for t in tasks] == [
        (p * 2 + r, p, r) for p in range(4) for r in range(2)]


def test_one_and_two_local_workers_write_identical_rows(grid_file, tmp_path):
    one = sweep(grid_file, workers=1, out=tmp_path / "one", progress=False)
    two = sweep(grid_file, workers=2, out=tmp_path / "two", progress=False)
    assert one.total == two.total == 8 and one.failed == two.failed == 0
    a, b = rows(one.out), rows(two.out)
    assert list(a["run_id"]) == list(range(8))
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(pd.read_parquet(one.out / "runs.parquet")
                                  .drop(columns=NONDETERMINISTIC), a)


def test_a_dask_local_cluster_writes_the_same_rows_as_local_processes(grid_file, tmp_path):
    pytest.importorskip("distributed")
    local = sweep(grid_file, workers=1, out=tmp_path / "local", progress=False)
    dask = sweep(grid_file, workers=2, backend="dask", out=tmp_path / "dask", progress=False)
    assert dask.backend["backend"] == "dask" and dask.backend["workers"] == 2
    assert dask.backend["scheduler"].startswith("tcp://127.0.0.1:")
    pd.testing.assert_frame_equal(rows(local.out), rows(dask.out))


def test_a_row_is_what_calling_the_model_directly_gives(grid_file, tmp_path):
    outcome = sweep(grid_file, workers=1, out=tmp_path / "o", progress=False)
    spec, scenario = load_sweep(grid_file)
    task = plan(spec, scenario, design(spec))[5]
    summary, _ = simulate(task)
    row = load_runs(outcome.out).set_index("run_id").loc[5]
    assert row["rules.integrity.verification_rigour"] == 0.8
    assert row["rules.market.offset_cap"] == 0.05 and row["root_seed"] == 7
    for metric, value in summary.items():
        assert row[metric] == pytest.approx(value, nan_ok=True)


def test_metrics_and_series_keep_what_the_file_asks_for(tmp_path):
    path = write_sweep(tmp_path, GRID, replications=1,
                       keys='metrics = ["mean_price_usd", "greenwashing_index"]\n'
                            'series = ["price_usd", "volume"]\n')
    outcome = sweep(path, workers=1, out=tmp_path / "o", progress=False)
    runs = load_runs(outcome.out)
    assert {"mean_price_usd", "greenwashing_index"} <= set(runs.columns)
    assert "retired_total" not in runs.columns
    series = load_series(outcome.out)
    assert list(series.columns) == ["run_id", "step", "price_usd", "volume"]
    assert series.groupby("run_id").size().tolist() == [24] * 4


def test_a_metric_the_model_does_not_report_stops_the_sweep_with_the_list(tmp_path):
    path = write_sweep(tmp_path, GRID, keys='metrics = ["happiness"]\n')
    with pytest.raises(SweepError, match="no metric 'happiness'; it reports: .*mean_price_usd"):
        sweep(path, workers=1, out=tmp_path / "o", progress=False)


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    path = write_sweep(tmp_path, GRID, model="tests.sweep.flaky_model:FlakyModel")
    outcome = sweep(path, workers=2, out=tmp_path / "o", progress=False)
    runs = load_runs(outcome.out)
    assert len(runs) == 8 and outcome.failed == 4
    failed = runs[runs["status"] == "error"]
    assert set(failed["rules.market.offset_cap"]) == {0.05}
    assert failed["error"].str.startswith("RuntimeError: simulated failure").all()
    assert runs.loc[runs["status"] == "ok", "mean_price_usd"].notna().all()
    manifest = json.loads((outcome.out / "manifest.json").read_text())
    assert manifest["status"] == "finished" and manifest["runs_failed"] == 4


def test_an_existing_output_needs_resume_and_the_same_sweep_file(grid_file, tmp_path):
    out = tmp_path / "o"
    sweep(grid_file, workers=1, out=out, progress=False)
    with pytest.raises(SweepError, match="pass --resume"):
        sweep(grid_file, workers=1, out=out, progress=False)
    again = sweep(grid_file, workers=1, out=out, resume=True, progress=False)
    assert again.ran == 0 and again.skipped == 8
    grid_file.write_text(grid_file.read_text().replace("seed = 7", "seed = 8"))
    with pytest.raises(SweepError, match=r"since it was started, the sweep file \(SHA-256"):
        sweep(grid_file, workers=1, out=out, resume=True, progress=False)


def test_retry_failed_reruns_only_the_failed_runs(tmp_path):
    path = write_sweep(tmp_path, GRID, model="tests.sweep.flaky_model:FlakyModel")
    out = tmp_path / "o"
    sweep(path, workers=1, out=out, progress=False)
    again = sweep(path, workers=1, out=out, resume=True, retry_failed=True, progress=False)
    assert again.ran == 4 and again.failed == 4 and len(load_runs(out)) == 8


def test_a_sweep_killed_hard_and_resumed_has_exactly_one_row_per_run(tmp_path):
    path = write_sweep(tmp_path, """
        [parameters."rules.integrity.verification_rigour"]
        low = 0.1
        high = 0.9
        num = 12
        """, replications=2, model="tests.sweep.flaky_model:SlowModel")
    out = tmp_path / "o"
    cli = [sys.executable, "-m", "vcm_sim.cli", "sweep", str(path), "--workers", "2",
           "--out", str(out), "--no-progress"]
    # a new session, so that SIGKILL reaches the workers and the fork server too
    root = Path(__file__).resolve().parents[2]  # so that workers find tests.sweep
    proc = subprocess.Popen(cli, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=root)
    parts = out / "parts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and len(list(parts.glob("run-*.parquet"))) >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"sweep ended before it could be killed: {proc.stderr.read()}"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(list(parts.glob("run-*.parquet")))
    assert 3 <= written < 24
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running" and not (out / "runs.parquet").exists()

    resumed = subprocess.run(cli + ["--resume"], capture_output=True, text=True, timeout=300,
                             cwd=root)
    assert resumed.returncode == 0, resumed.stderr
    runs = load_runs(out)
    assert sorted(runs["run_id"]) == list(range(24))
    assert (runs["status"] == "ok").all()
    assert not list(out.rglob(".*.tmp*"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "finished" and len(manifest["sessions"]) == 2
    assert manifest["sessions"][1]["skipped"] >= written
    # and the rows are those of an uninterrupted sweep
    fresh = sweep(path, workers=1, out=tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(rows(out), rows(fresh.out))


def test_workers_run_the_callers_package_even_from_a_folder_holding_another_copy(tmp_path):
    # A working directory with a decoy copy of vcm_sim whose runs fail: worker processes
    # must import the caller's package, not the one in their working directory.
    real = Path(vcm_sim.__file__).parent
    decoy = shutil.copytree(real, tmp_path / "vcm_sim",
                            ignore=shutil.ignore_patterns("__pycache__"))
    with open(decoy / "sweep" / "runner.py", "a") as runner:
        runner.write("\n\ndef run_one(task):\n    raise RuntimeError('decoy imported')\n")
    path = write_sweep(tmp_path, GRID, replications=1)
    script = Path(sys.executable).with_name("vcm-sim")
    if not script.exists():
        pytest.skip("the vcm-sim console script is not installed next to this interpreter")
    done = subprocess.run([str(script), "sweep", str(path), "--workers", "2", "--out",
                           str(tmp_path / "two"), "--no-progress"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    in_process = sweep(path, workers=1, out=tmp_path / "one", progress=False)
    pd.testing.assert_frame_equal(rows(tmp_path / "two"), rows(in_process.out))
