"""Run a calibration: pyabc's ABC-SMC, one generation at a time, into a resumable folder.

Each generation is one call of ``ABCSMC.run(max_nr_populations=1)`` on the history in
``OUT/abc.db``, which pyabc writes when a generation is complete. A session that starts on a
folder with finished generations (``--resume``, after Ctrl+C or a kill) loads that history and
continues from the generation after the last one stored, under the same stopping rules, with
the budget that remains (pyabc counts every simulation recorded in the history).

Reproducibility. Every simulation's model seed is a function of the root seed and the
particle's values (:func:`~vcm_sim.calibrate.simulation.model_seed`): the same values give the
same run, whoever runs them. Before each generation numpy's global generator, from which pyabc
draws, is seeded from ``(root_seed, generation)``. With ``--backend local --workers 1`` every
draw happens in this process, so a calibration is reproduced exactly, across interruptions and
resumes too. With more workers, or Dask, it is not: pyabc reseeds numpy from the operating
system in each worker, proposes particles there, and keeps the first particles accepted in
the order simulations started, which depends on timing and on the number of workers. Those
posteriors agree only in distribution.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcm_sim.calibrate.folder import (DATABASE, identify, new_manifest, open_folder,
                                      write_manifest)
from vcm_sim.calibrate.samplers import check_backend, open_sampler
from vcm_sim.calibrate.spec import CalibrationError, CalibrationSpec, load_spec
from vcm_sim.errors import sigterm_interrupts
from vcm_sim.sweep.lock import FolderLock
from vcm_sim.sweep.store import now


@dataclass
class Outcome:
    """What a call to :func:`calibrate` did, and what its folder holds now."""

    out: Path
    generations: int
    simulations: int
    ran: int
    seconds: float
    stopped_because: str


class CalibrationInterrupted(KeyboardInterrupt):
    """Ctrl+C or SIGTERM stopped a session: its finished generations are in ``abc.db``, the
    manifest says 'interrupted', and the message says how to resume."""


def calibrate(spec_file: str | Path, *, backend: str = "local", workers: int | None = None,
              scheduler: str | None = None, out: str | Path | None = None,
              resume: bool = False, fresh: bool = False, progress: bool = True) -> Outcome:
    """Run (or continue) the ABC-SMC calibration of a calibration file into ``out``.

    :param spec_file: the calibration file (TOML; see :mod:`vcm_sim.calibrate.spec`).
    :param backend: ``'local'`` (processes on this machine) or ``'dask'``.
    :param workers: local worker processes or LocalCluster workers, at least 1 (default: the
        cores available).
    :param scheduler: Dask only: the address of an existing scheduler.
    :param out: output folder (default ``results/calibration/<file stem>``).
    :param resume: continue the calibration in ``out``.
    :param fresh: clear the calibration in ``out`` and start over.
    :param progress: print a line per generation and show a progress bar.

    Raises :class:`CalibrationError` (or another :class:`~vcm_sim.errors.UserError`) before
    writing anything if the arguments, the file or the folder are wrong, and
    :class:`CalibrationInterrupted` on Ctrl+C or SIGTERM.
    """
    from vcm_sim import hindcast

    if resume and fresh:
        raise CalibrationError("--resume continues the calibration in --out and --fresh "
                               "clears it: give one of them")
    spec_file = Path(spec_file)
    spec = load_spec(spec_file)
    workers = check_backend(backend, workers, scheduler)
    out = Path(out) if out is not None else Path("results") / "calibration" / spec_file.stem
    if out.exists() and not out.is_dir():
        raise CalibrationError(f"--out {str(out)!r} is a file, not a folder")
    observed = hindcast.observed()
    fresh_manifest = new_manifest(spec_file, spec, identify(spec_file, spec, observed))
    with sigterm_interrupts(), FolderLock(out):
        manifest = open_folder(out, fresh_manifest, resume, fresh)
        with _quiet_pyabc(), open_sampler(backend, workers, scheduler) as (sampler, where):
            session = {"started": now(), "finished": None, **where, "generations_run": 0}
            return _session(out, spec, spec_file, manifest, session, sampler, observed,
                            progress)


def _session(out: Path, spec: CalibrationSpec, spec_file: Path, manifest: dict[str, Any],
             session: dict[str, Any], sampler: Any, observed: dict[str, float],
             progress: bool) -> Outcome:
    """Run the generations still to go, recording the session in the manifest however it
    ends, then write the outputs."""
    from vcm_sim.calibrate.outputs import write_outputs

    manifest["sessions"].append(session)
    started = time.perf_counter()
    if manifest["run_id"] is None:
        manifest["run_id"] = int(_abc(spec, sampler).new(_database(out), observed).id)
    history = _load(spec, sampler, out, manifest["run_id"], observed)[1]
    first_t = history.max_t + 1

    def ran() -> int:
        """Generations this session added."""
        return history.max_t + 1 - first_t

    try:
        if manifest["status"] != "finished":
            manifest.update(status="running", finished=None)
            write_manifest(out, manifest)
            with _reporter(spec, history, started, progress) as report:
                manifest["stopped_because"] = _generations(spec, sampler, out, manifest,
                                                           observed, report)
    except KeyboardInterrupt:
        _close(out, manifest, session, "interrupted", started, ran())
        raise CalibrationInterrupted(_resume_hint(out, spec_file, history)) from None
    except BaseException:
        _close(out, manifest, session, "failed", started, ran())
        raise
    _close(out, manifest, session, "finished", started, ran())
    if history.max_t >= 0:
        write_outputs(out, history, spec, spec_file, manifest, progress)
    return Outcome(out, history.max_t + 1, int(history.total_nr_simulations or 0), ran(),
                   session["seconds"], manifest["stopped_because"])


def _abc(spec: CalibrationSpec, sampler: Any) -> Any:
    """pyabc's ABCSMC for ``spec``: the hindcast as model, the priors (log-uniform settings
    as uniform priors on their logs), the hindcast's distance, a fixed population size and
    the spec's perturbation kernel (``abc.transition``)."""
    import pyabc

    from vcm_sim.calibrate.simulation import Simulator, distance

    priors = pyabc.Distribution(**{name: pyabc.RV(kind, *args) for name, (kind, args) in
                                   ((n, p.sampling_args()) for n, p in spec.parameters.items())})
    simulator = Simulator(spec.root_seed, spec.overrides, spec.seeds_per_particle,
                          spec.log_scale)
    from vcm_sim.calibrate.kernels import StandardisedLocalTransition

    transition = (StandardisedLocalTransition() if spec.abc.transition == "local"
                  else pyabc.MultivariateNormalTransition())
    return pyabc.ABCSMC(simulator, priors, distance, population_size=spec.abc.population,
                        sampler=sampler, transitions=transition)


def _database(out: Path) -> str:
    """The SQLAlchemy address of the folder's pyabc history."""
    return f"sqlite:///{(out / DATABASE).resolve()}"


def _load(spec: CalibrationSpec, sampler: Any, out: Path, run_id: int,
          observed: dict[str, float]) -> tuple[Any, Any]:
    """A new ABCSMC on run ``run_id`` of the folder's history, and that history.

    A new one for every generation: an ABCSMC caches the population it calibrates epsilon on
    (pyabc's ``_initial_population``), so a second ``run`` on the same object would reuse the
    first one's.
    """
    abc = _abc(spec, sampler)
    return abc, abc.load(_database(out), run_id, observed_sum_stat=observed)


def _generations(spec: CalibrationSpec, sampler: Any, out: Path, manifest: dict[str, Any],
                 observed: dict[str, float], report: Callable[[Any], None]) -> str:
    """Run generations until a stopping rule holds; returns which, in words."""
    while True:
        abc, history = _load(spec, sampler, out, manifest["run_id"], observed)
        reason = stop_reason(spec, history)
        if reason:
            return reason
        t = history.max_t + 1
        # pyabc draws proposals from numpy's global generator: one seed per generation
        np.random.seed(generation_seed(spec.root_seed, t))
        abc.run(minimum_epsilon=spec.abc.min_epsilon, max_nr_populations=1,
                min_acceptance_rate=spec.abc.min_acceptance_rate or 0.0,
                max_total_nr_simulations=spec.abc.max_runs)
        if history.max_t < t:
            return (f"generation {t} accepted fewer than abc.min_acceptance_rate = "
                    f"{spec.abc.min_acceptance_rate:g} of its simulations and was abandoned")
        report(history)


def stop_reason(spec: CalibrationSpec, history: Any) -> str | None:
    """Why no further generation should run, in words, or None to run one: pyabc's stopping
    rules (generations, min_epsilon, budget, min_acceptance_rate) and ours (min_ess_share)
    on the stored history."""
    from vcm_sim.calibrate.outputs import generation_ess, usable

    abc, last = spec.abc, history.max_t
    if last + 1 >= abc.generations:
        return f"it ran abc.generations = {abc.generations} generations"
    total = int(history.total_nr_simulations or 0)
    if total >= abc.max_runs:
        return f"it used the budget: {total:,} simulations of abc.max_runs = {abc.max_runs:,}"
    if last < 0:
        return None
    pops = history.get_all_populations().set_index("t")
    epsilon = float(pops.loc[last, "epsilon"])
    if epsilon <= abc.min_epsilon:
        return f"epsilon {epsilon:.4g} reached abc.min_epsilon = {abc.min_epsilon:g}"
    rate = pops.loc[last, "particles"] / pops.loc[last, "samples"]
    if abc.min_acceptance_rate is not None and rate < abc.min_acceptance_rate:
        return (f"generation {last} accepted {rate:.2%}, below abc.min_acceptance_rate = "
                f"{abc.min_acceptance_rate:g}")
    ess, particles = generation_ess(history, last), int(pops.loc[last, "particles"])
    if not usable(spec, ess, particles):
        return (f"generation {last}'s effective sample size {ess:.1f} of {particles} "
                f"particles is below abc.min_ess_share = {abc.min_ess_share:g}")
    return None


def generation_seed(root_seed: int, generation: int) -> int:
    """numpy's global seed for ``generation``: a 32-bit word of
    ``SeedSequence([root_seed, generation])``."""
    return int(np.random.SeedSequence([root_seed, generation]).generate_state(1)[0])


def _close(out: Path, manifest: dict[str, Any], session: dict[str, Any], status: str,
           started: float, ran: int) -> None:
    """Record how the session ended."""
    session.update(finished=now(), seconds=round(time.perf_counter() - started, 3),
                   generations_run=ran)
    manifest.update(status=status, finished=session["finished"])
    write_manifest(out, manifest)


def _resume_hint(out: Path, spec_file: Path, history: Any) -> str:
    """The line an interrupted session ends with: what is saved, and how to continue."""
    last = history.max_t
    saved = {-1: "no generation is", 0: "generation 0 is"}.get(last, f"generations 0-{last} are")
    return (f"interrupted: {saved} saved in {out / DATABASE}; continue with: vcm-sim "
            f"calibrate {spec_file} --out {out} --resume")


@contextmanager
def _reporter(spec: CalibrationSpec, history: Any, started: float,
              enabled: bool) -> Iterator[Callable[[Any], None]]:
    """A function that prints the line of the last generation and moves a bar over the
    simulation budget (pyabc offers no hook inside a generation)."""
    from tqdm import tqdm

    from vcm_sim.calibrate.outputs import generation_ess

    total = int(history.total_nr_simulations or 0)
    with tqdm(total=spec.abc.max_runs, initial=min(total, spec.abc.max_runs), unit="sim",
              desc="calibrate", file=sys.stderr, dynamic_ncols=True,
              disable=not enabled or (None if os.environ.get("CI") else False)) as bar:
        def report(history: Any) -> None:
            row = history.get_all_populations().set_index("t").loc[history.max_t]
            done = int(history.total_nr_simulations)
            bar.update(min(done, spec.abc.max_runs) - bar.n)
            ess = generation_ess(history, history.max_t)
            if enabled:
                bar.write(f"generation {history.max_t}: epsilon {row['epsilon']:.4g}, accepted "
                          f"{int(row['particles'])}/{int(row['samples'])} "
                          f"({row['particles'] / row['samples']:.1%}), effective sample size "
                          f"{ess:.1f}, simulations "
                          f"{done:,}/{spec.abc.max_runs:,}, elapsed "
                          f"{time.perf_counter() - started:.1f} s", file=sys.stdout)
        yield report


@contextmanager
def _quiet_pyabc() -> Iterator[None]:
    """Silence pyabc's INFO log (a dozen lines per generation) unless the user asked for it
    with ABC_LOG_LEVEL; warnings still show."""
    import pyabc  # noqa: F401  (importing pyabc sets its logger's level: import it first)

    logger = logging.getLogger("ABC")
    level = logger.level
    if "ABC_LOG_LEVEL" not in os.environ:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
