"""Run a sweep: plan its runs, execute them on a backend, write each one as it finishes.

Every run has an id fixed by the sweep file alone, ``run_id = point * replications +
replication``, and its own random stream: the ``run_id``-th child of
``SeedSequence(seed)`` (``SeedSequence(seed).spawn(n_runs)[run_id]``, which is
``SeedSequence(seed, spawn_key=(run_id,))``). With ``common_random_numbers = true`` it is the
``replication``-th child instead, shared by every point, so points are paired: replication
``r`` of each point draws the same random numbers wherever its parameters leave a phase
alone. Results therefore do not depend on the backend, the number of workers or the order in
which runs finish.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vcm_sim.errors import sigterm_interrupts
from vcm_sim.scenario import Scenario, with_overrides
from vcm_sim.sweep.backends import WORKER_TIMEOUT_S, Backend, make_backend
from vcm_sim.sweep.identity import identify, source_revision
from vcm_sim.sweep.lock import FolderLock
from vcm_sim.sweep.manifest import new_manifest, open_folder, package_version
from vcm_sim.sweep.samplers import Design, count_points, design
from vcm_sim.sweep.spec import RESERVED_COLUMNS, SweepError, SweepSpec, load_sweep
from vcm_sim.sweep.store import RUNS_FOLDER, RunStore, now

MAX_RUNS = 1_000_000
"""Default bound on the number of runs of one sweep (``--max-runs`` raises it)."""


def run_seed(root_seed: int, key: int) -> np.random.SeedSequence:
    """The seed sequence of a run of a sweep with root seed ``root_seed``: ``key`` is its
    run id, or its replication when points share random numbers (:attr:`RunTask.seed_key`)."""
    return np.random.SeedSequence(root_seed, spawn_key=(key,))


@dataclass(frozen=True)
class RunTask:
    """Everything one run needs, small and picklable."""

    run_id: int
    point: int
    replication: int
    root_seed: int
    model: str
    scenario: Scenario
    overrides: dict[str, Any]
    params: dict[str, Any]
    metrics: tuple[str, ...] | None = None
    series: bool | tuple[str, ...] = False
    paired: bool = False

    @property
    def seed_key(self) -> int:
        """Spawn key of the run's seed: its replication when points are paired, else its
        run id."""
        return self.replication if self.paired else self.run_id


@dataclass
class RunResult:
    """A finished run: its row for the run table, and its per-step series if kept.

    ``fatal`` marks errors that every run would hit (a requested metric the model does not
    report), which stop the sweep instead of being recorded run after run.
    """

    row: dict[str, Any]
    series: pd.DataFrame | None = None
    fatal: str | None = None


class ConfigurationError(Exception):
    """The sweep asks for something the model does not provide."""


@lru_cache(maxsize=8)
def model_class(path: str) -> type:
    """Import ``'module:Class'``."""
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ConfigurationError(f"model {path!r} cannot be imported: {err}") from None


def simulate(task: RunTask) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Build the scenario, run the model with the run's seed; return its summary and series.

    This is what a run is, without any bookkeeping: the benchmark times it against the runner.
    """
    scenario = with_overrides(task.scenario, task.overrides) if task.overrides else task.scenario
    rng = np.random.default_rng(run_seed(task.root_seed, task.seed_key))
    model = model_class(task.model)(scenario, rng=rng)
    model.run()
    summary = dict(model.summary())
    series = model.results() if task.series else None
    return summary, series


def run_one(task: RunTask) -> RunResult:
    """Run one task and return its row; an exception becomes a row with status 'error'."""
    row = _row(task, "ok", None)
    started = time.perf_counter()
    try:
        summary, series = simulate(task)
        row.update(_select_metrics(summary, task))
        series = _select_series(series, task)
    except ConfigurationError as err:
        return RunResult(row, fatal=str(err))
    except Exception as err:
        row["status"] = "error"
        trace = traceback.format_exc(limit=-6)
        row["error"] = f"{type(err).__name__}: {err}\n{trace}"[:8000]
        series = None
    row["duration_s"] = time.perf_counter() - started
    return RunResult(row, series)


def _select_metrics(summary: dict[str, Any], task: RunTask) -> dict[str, Any]:
    if task.metrics is not None:
        missing = [m for m in task.metrics if m not in summary]
        if missing:
            raise ConfigurationError(
                f"the model's summary has no metric {', '.join(map(repr, missing))}; it "
                f"reports: {', '.join(sorted(summary))}")
        summary = {m: summary[m] for m in task.metrics}
    clashes = [k for k in summary if k in RESERVED_COLUMNS or k in task.params]
    if clashes:
        raise ConfigurationError(f"summary metrics {clashes} clash with run-table columns")
    return {k: _scalar(v) for k, v in summary.items()}


def _select_series(series: pd.DataFrame | None, task: RunTask) -> pd.DataFrame | None:
    if series is None:
        return None
    series = series.reset_index(drop="step" in series.columns)
    if isinstance(task.series, tuple):
        missing = [c for c in task.series if c not in series.columns]
        if missing:
            raise ConfigurationError(
                f"the model's per-step results have no column {', '.join(map(repr, missing))}; "
                f"they have: {', '.join(map(str, series.columns))}")
        keep = ["step"] * ("step" in series.columns and "step" not in task.series)
        series = series[keep + list(task.series)]
    series = series.copy()
    series.insert(0, "run_id", task.run_id)
    return series


def _scalar(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def check_size(spec: SweepSpec, max_runs: int, source: str | Path) -> int:
    """The number of runs of ``spec``, counted without building them; :class:`SweepError` if
    it exceeds ``max_runs``."""
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1:
        raise SweepError(f"--max-runs {max_runs!r}: need an integer >= 1")
    points = count_points(spec)
    runs = points * spec.replications
    if runs > max_runs:
        raise SweepError(f"{source}: {runs:,} runs ({points:,} points x {spec.replications:,} "
                         f"replications) exceed the bound of {max_runs:,} runs; make the sweep "
                         f"smaller, or raise the bound with --max-runs {runs}")
    return runs


def plan(spec: SweepSpec, scenario: Scenario, points: Design) -> list[RunTask]:
    """Every run of the sweep, in run-id order."""
    metrics = tuple(spec.metrics) if spec.metrics is not None else None
    series = tuple(spec.series) if isinstance(spec.series, list) else bool(spec.series)
    tasks = []
    for p, point in enumerate(points.points):
        overrides = points.overrides(point)
        for r in range(spec.replications):
            tasks.append(RunTask(p * spec.replications + r, p, r, spec.seed, spec.model,
                                 scenario, overrides, point, metrics, series,
                                 spec.common_random_numbers))
    return tasks


@dataclass
class SweepOutcome:
    """What a call to :func:`sweep` did, and what its output folder holds now."""

    out: Path
    total: int
    skipped: int
    ran: int
    failed: int
    seconds: float
    done: int
    failed_total: int
    backend: dict[str, Any] = field(default_factory=dict)

    def runs(self) -> pd.DataFrame:
        """The run table (every run on disk, this session's and earlier ones)."""
        return RunStore(self.out).load_runs()

    @property
    def runs_per_minute(self) -> float:
        """Runs finished this session per minute of wall time."""
        return 60.0 * self.ran / self.seconds if self.seconds > 0 else math.nan


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl+C or SIGTERM stopped a sweep session: its finished runs are saved, the manifest
    says ``interrupted``, and the message says how many runs are saved and how to resume."""

    def __init__(self, outcome: SweepOutcome, sweep_file: str | Path):
        bound = f" --max-runs {outcome.total}" if outcome.total > MAX_RUNS else ""
        super().__init__(f"interrupted: {outcome.done} of {outcome.total} runs are saved in "
                         f"{outcome.out} (manifest marked 'interrupted'); continue with: "
                         f"vcm-sim sweep {sweep_file} --out {outcome.out} --resume{bound}")
        self.outcome = outcome


def sweep(sweep_file: str | Path, *, workers: int | None = None, backend: str = "local",
          scheduler: Any = None, out: str | Path | None = None, resume: bool = False,
          retry_failed: bool = False, rebuild_manifest: bool = False,
          max_runs: int = MAX_RUNS, worker_timeout: float = WORKER_TIMEOUT_S,
          progress: bool = True) -> SweepOutcome:
    """Run every run of a sweep file and write them under ``out``.

    :param sweep_file: the TOML sweep file (see ``docs/sweeps.md``).
    :param workers: worker processes (local, or a new Dask ``LocalCluster``), at least 1;
        default: the cores available. With ``backend='local'`` and one worker, runs execute in
        this process.
    :param backend: ``'local'`` or ``'dask'``.
    :param scheduler: Dask only: a scheduler address, ``distributed.Client`` or cluster object;
        ``None`` starts a ``LocalCluster``.
    :param out: output folder (default ``results/<name>/runs``).
    :param resume: continue the sweep in ``out``, skipping runs that have a valid row.
    :param retry_failed: with ``resume``, run again the runs whose row records an error.
    :param rebuild_manifest: with ``resume``, replace a missing or damaged manifest by one
        rebuilt from the run files (after checking they are runs of this sweep file).
    :param max_runs: refuse a sweep of more runs than this.
    :param worker_timeout: Dask only: stop when the cluster has had no worker for this long
        (seconds).
    :param progress: show a progress bar with ETA on stderr.

    Raises :class:`SweepError` for anything wrong with the arguments, the sweep file or the
    output folder, before writing anything; :class:`SweepInterrupted` on Ctrl+C or SIGTERM.
    """
    for flag, option in ((retry_failed, "--retry-failed"), (rebuild_manifest,
                                                            "--rebuild-manifest")):
        if flag and not resume:
            raise SweepError(f"{option} needs --resume")
    spec, scenario = load_sweep(sweep_file)
    check_size(spec, max_runs, sweep_file)
    try:
        model_class(spec.model)
    except ConfigurationError as err:
        raise SweepError(f"{sweep_file}: {err}") from None
    runner = make_backend(backend, workers, scheduler, worker_timeout)
    store = RunStore(out if out is not None else Path("results") / spec.name / RUNS_FOLDER)
    store.check_target(resume)
    points = design(spec)
    tasks = plan(spec, scenario, points)
    provenance = {"version": package_version(), "source": source_revision()}
    fresh = new_manifest(spec, points, identify(sweep_file, scenario, spec.model), sweep_file,
                         provenance)
    with sigterm_interrupts(), runner, FolderLock(store.out):
        folder = open_folder(store, fresh, [_planned(t) for t in tasks] if rebuild_manifest
                             else [], resume, rebuild_manifest)
        done = _done(folder.runs, retry_failed)
        todo = [t for t in tasks if t.run_id not in done]
        session = {**provenance, "resumed": bool(len(folder.runs)),
                   "skipped": len(tasks) - len(todo), **runner.describe()}
        if folder.damaged:
            session["rerun_damaged"] = folder.damaged
        return _session(store, folder.manifest, session, runner, sweep_file, spec.name, tasks,
                        todo, progress)


def _done(runs: pd.DataFrame, retry_failed: bool) -> set[int]:
    """Run ids not to run again: those with a row, or with a successful row if
    ``retry_failed``."""
    if runs.empty:
        return set()
    kept = runs[runs["status"] == "ok"] if retry_failed else runs
    return set(kept["run_id"].astype(int))


def _session(store: RunStore, manifest: dict[str, Any], session: dict[str, Any],
             runner: Backend, sweep_file: str | Path, name: str, tasks: list[RunTask],
             todo: list[RunTask], progress: bool) -> SweepOutcome:
    """Run ``todo``, writing each result as it arrives, and record the session (``session``
    holds what is known before it starts) in the manifest whatever ends it."""
    session = {"started": now(), "finished": None, **session, "ran": 0, "failed": 0}
    manifest["sessions"].append(session)
    manifest.update(status="running", finished=None)
    store.write_manifest(manifest)
    started = time.perf_counter()
    try:
        with _progress(name, len(tasks), len(tasks) - len(todo), progress) as bar:
            for task, result in runner.run(run_one, todo):
                if isinstance(result, BaseException):
                    result = _lost(task, result)
                if result.fatal:
                    raise SweepError(f"{sweep_file}: {result.fatal}")
                store.write_run(result.row, result.series)
                session["ran"] += 1
                session["failed"] += result.row["status"] != "ok"
                bar.update(1)
                if session["failed"]:
                    bar.set_postfix(failed=session["failed"], refresh=False)
    except KeyboardInterrupt:
        outcome = _close(store, manifest, session, "interrupted", len(tasks), started)
        raise SweepInterrupted(outcome, sweep_file) from None
    except Exception:
        _close(store, manifest, session, "failed", len(tasks), started)
        raise
    return _close(store, manifest, session, "finished", len(tasks), started)


def _close(store: RunStore, manifest: dict[str, Any], session: dict[str, Any], status: str,
           total: int, started: float) -> SweepOutcome:
    """Record how the session ended in the manifest (and, if finished, rebuild runs.parquet)."""
    seconds = time.perf_counter() - started
    session.update(finished=now(), seconds=round(seconds, 3))
    runs = store.load_runs()
    failed_total = int((runs["status"] != "ok").sum()) if len(runs) else 0
    manifest.update(status=status, finished=session["finished"], runs_done=len(runs),
                    runs_failed=failed_total)
    store.write_manifest(manifest)
    if status == "finished":
        store.consolidate(runs)
    return SweepOutcome(store.out, total, session["skipped"], session["ran"], session["failed"],
                        seconds, len(runs), failed_total,
                        {k: session.get(k) for k in ("backend", "workers", "scheduler")})


def _planned(task: RunTask) -> dict[str, Any]:
    """The columns a run's row must hold, as planned: its identity and parameters."""
    return {"run_id": task.run_id, "point": task.point, "replication": task.replication,
            "root_seed": task.root_seed, **task.params}


def _lost(task: RunTask, err: BaseException) -> RunResult:
    """The row of a run the backend lost (its worker died)."""
    return RunResult({**_row(task, "error", f"{type(err).__name__}: {err}"),
                      "duration_s": math.nan})


def _row(task: RunTask, status: str, error: str | None) -> dict[str, Any]:
    """The identity and parameters of a run's row, with its status and error."""
    return {**_planned(task), "status": status, "error": error}


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def set_postfix(self, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _progress(name: str, total: int, initial: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=name, unit="run", file=sys.stderr,
                dynamic_ncols=True, smoothing=0.05, disable=None if os.environ.get("CI") else False)
