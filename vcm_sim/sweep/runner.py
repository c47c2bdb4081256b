"""Run a sweep: plan its runs, execute them on a backend, write each one as it finishes.

Every run has an id fixed by the sweep file alone, ``run_id = point * replications +
replication``, and its own random stream: the ``run_id``-th child of
``SeedSequence(seed)`` (``SeedSequence(seed).spawn(n_runs)[run_id]``, which is
``SeedSequence(seed, spawn_key=(run_id,))``). Results therefore do not depend on the backend,
the number of workers or the order in which runs finish.
"""

from __future__ import annotations

import importlib
import math
import os
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vcm_sim.scenario import Scenario, with_overrides
from vcm_sim.sweep.backends import make_backend
from vcm_sim.sweep.samplers import Design, design
from vcm_sim.sweep.spec import RESERVED_COLUMNS, SweepError, SweepSpec, file_hash, load_sweep
from vcm_sim.sweep.store import RunStore, now


def run_seed(root_seed: int, run_id: int) -> np.random.SeedSequence:
    """The seed sequence of run ``run_id`` of a sweep with root seed ``root_seed``."""
    return np.random.SeedSequence(root_seed, spawn_key=(run_id,))


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
    rng = np.random.default_rng(run_seed(task.root_seed, task.run_id))
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


def plan(spec: SweepSpec, scenario: Scenario, points: Design) -> list[RunTask]:
    """Every run of the sweep, in run-id order."""
    metrics = tuple(spec.metrics) if spec.metrics is not None else None
    series = tuple(spec.series) if isinstance(spec.series, list) else bool(spec.series)
    tasks = []
    for p, point in enumerate(points.points):
        overrides = points.overrides(point)
        for r in range(spec.replications):
            tasks.append(RunTask(p * spec.replications + r, p, r, spec.seed, spec.model,
                                 scenario, overrides, point, metrics, series))
    return tasks


@dataclass
class SweepOutcome:
    """What a call to :func:`sweep` did."""

    out: Path
    total: int
    skipped: int
    ran: int
    failed: int
    seconds: float
    backend: dict[str, Any] = field(default_factory=dict)

    def runs(self) -> pd.DataFrame:
        """The run table (every run on disk, this session's and earlier ones)."""
        return RunStore(self.out).load_runs()

    @property
    def runs_per_minute(self) -> float:
        """Runs finished this session per minute of wall time."""
        return 60.0 * self.ran / self.seconds if self.seconds > 0 else math.nan


def sweep(sweep_file: str | Path, *, workers: int | None = None, backend: str = "local",
          scheduler: Any = None, out: str | Path | None = None, resume: bool = False,
          retry_failed: bool = False, progress: bool = True) -> SweepOutcome:
    """Run every run of a sweep file and write them under ``out``.

    :param sweep_file: the TOML sweep file (see ``docs/sweeps.md``).
    :param workers: worker processes (local, or a new Dask ``LocalCluster``); default: the
        cores available. With ``backend='local'`` and one worker, runs execute in this process.
    :param backend: ``'local'`` or ``'dask'``.
    :param scheduler: Dask only: a scheduler address, ``distributed.Client`` or cluster object;
        ``None`` starts a ``LocalCluster``.
    :param out: output folder (default ``results/<name>/runs``).
    :param resume: continue a sweep in ``out``, skipping runs that have a row.
    :param retry_failed: with ``resume``, run again the runs whose row records an error.
    :param progress: show a progress bar with ETA on stderr.
    """
    spec, scenario = load_sweep(sweep_file)
    points = design(spec)
    tasks = plan(spec, scenario, points)
    store = RunStore(out if out is not None else Path("results") / spec.name / "runs")
    digest = file_hash(sweep_file)
    version, source = _version(), source_revision()
    manifest = _open(store, spec, points, digest, sweep_file, len(tasks), resume,
                     version, source)
    store.clean_temporary()
    done = store.completed(include_failed=not retry_failed) if resume else set()
    todo = [t for t in tasks if t.run_id not in done]

    runner = make_backend(backend, workers, scheduler)
    session: dict[str, Any] = {"started": now(), "finished": None, "version": version,
                               "source": source,
                               "resumed": bool(resume and done), "skipped": len(tasks) - len(todo),
                               "ran": 0, "failed": 0}
    manifest["sessions"].append(session)
    manifest.update(status="running", finished=None)
    store.write_manifest(manifest)

    started = time.perf_counter()
    status = "interrupted"
    try:
        with runner, _progress(spec.name, len(tasks), len(tasks) - len(todo), progress) as bar:
            session.update(runner.describe())
            store.write_manifest(manifest)
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
        status = "finished"
    except SweepError:
        status = "failed"
        raise
    finally:
        seconds = time.perf_counter() - started
        session["finished"] = now()
        session["seconds"] = round(seconds, 3)
        runs = store.load_runs()
        complete = len(runs) == len(tasks)
        manifest.update(status="finished" if status == "finished" and complete else status,
                        finished=session["finished"], runs_done=int(len(runs)),
                        runs_failed=int((runs["status"] != "ok").sum()) if len(runs) else 0)
        store.write_manifest(manifest)
        if status == "finished":
            store.consolidate(runs)
    return SweepOutcome(store.out, len(tasks), len(tasks) - len(todo), session["ran"],
                        session["failed"], seconds, {k: session.get(k) for k in
                                                     ("backend", "workers", "scheduler")})


def _open(store: RunStore, spec: SweepSpec, points: Design, digest: str,
          sweep_file: str | Path, n_runs: int, resume: bool, version: str,
          source: str | None) -> dict[str, Any]:
    """The manifest to continue (resume) or a new one (stamped with the package ``version``
    and the git ``source``); refuse to mix two sweeps' runs."""
    if store.exists():
        if not resume:
            raise SweepError(f"{store.out} already holds a sweep's results; pass --resume to "
                             f"continue it, or choose another --out")
        manifest = store.read_manifest()
        if manifest.get("sweep_sha256") != digest:
            raise SweepError(f"{store.out} was started from a different sweep file (SHA-256 "
                             f"{manifest.get('sweep_sha256', '?')[:12]}..., now "
                             f"{digest[:12]}...); resuming would mix two sweeps: choose "
                             f"another --out")
        return manifest
    store.prepare(sweep_file)
    return {
        "name": spec.name,
        "description": spec.description,
        "sweep_file": str(sweep_file),
        "sweep_sha256": digest,
        "package": "vcm_sim",
        "version": version,
        "source": source,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "scenario": spec.scenario,
        "model": spec.model,
        "seed": spec.seed,
        "sampler": spec.sampler.method,
        "parameters": list(spec.parameters),
        "points": len(points.points),
        "replications": spec.replications,
        "runs": n_runs,
        "sobol_problem": points.problem,
        "sobol_second_order": points.second_order,
        "started": now(),
        "finished": None,
        "status": "running",
        "runs_done": 0,
        "runs_failed": 0,
        "sessions": [],
    }


def _lost(task: RunTask, err: BaseException) -> RunResult:
    """The row of a run the backend lost (its worker died)."""
    return RunResult({**_row(task, "error", f"{type(err).__name__}: {err}"),
                      "duration_s": math.nan})


def _row(task: RunTask, status: str, error: str | None) -> dict[str, Any]:
    """The identity and parameters of a run's row, with its status and error."""
    return {"run_id": task.run_id, "point": task.point, "replication": task.replication,
            "root_seed": task.root_seed, **task.params, "status": status, "error": error}


def source_revision() -> str | None:
    """The git commit of the source the package is imported from, with '+dirty' if its files
    differ from it; None when it is not a git checkout (an installed wheel)."""
    import subprocess

    folder = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=folder,
                              capture_output=True, text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                "."], cwd=folder, capture_output=True, text=True, timeout=5,
                               check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _version() -> str:
    try:
        return metadata.version("vcm_sim")
    except metadata.PackageNotFoundError:
        return "unknown"


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
