"""Sweep runner throughput: a 200-run sweep on 1 and 2 local workers, against the model alone.

Run by hand: ``python benchmarks/sweep.py [--runs 200] [--steps 120] [--firms 1000]
[--backend local|dask]``. The sweep varies verification rigour over 10 values with
``runs / 10`` replications each, on the baseline world (its populations unless told otherwise).
It prints:

* the model alone: the same 200 runs called directly in a loop (scenario with overrides,
  ``VCMModel``, ``run``, ``summary``), no runner, no files;
* the sweep on 1 worker (in this process) and on 2 worker processes, writing Parquet;
* the same overhead in CPU time of this process (immune to other processes' load) and the
  load average, since a busy machine distorts wall-clock speed-ups;
* runs per minute, the speed-up of 2 workers over 1 (target: at least 1.7x), and the
  runner's overhead per run, (sweep on 1 worker - model alone) / model alone (target: < 10%).

Timings include everything a user waits for: planning, worker start-up, writing every run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from vcm_sim.model import VCMModel
from vcm_sim.scenario import with_overrides
from vcm_sim.sweep import load_sweep, sweep
from vcm_sim.sweep.runner import plan, run_seed
from vcm_sim.sweep.samplers import design


def sweep_file(folder: Path, runs: int, steps: int, firms: int | None) -> Path:
    """A sweep of ``runs`` runs: 10 rigour values x runs/10 replications."""
    population = "" if firms is None else (
        f'"population.firms" = {firms}\n"population.developers" = {max(firms // 5, 1)}\n'
        f'"population.verifiers" = {max(firms // 50, 2)}\n')
    path = folder / "bench.toml"
    path.write_text(
        f'name = "bench"\nseed = 2024\nreplications = {runs // 10}\nsteps = {steps}\n'
        f"[overrides]\n{population}"
        f'[parameters."rules.integrity.verification_rigour"]\nlow = 0.1\nhigh = 0.9\nnum = 10\n')
    return path


def model_alone(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds to run every run of the sweep by calling the model directly."""
    spec, scenario = load_sweep(path)
    tasks = plan(spec, scenario, design(spec))
    warm_up = VCMModel(scenario, rng=0)  # first-call imports and caches, outside the timing
    warm_up.run()
    warm_up.summary()
    started, cpu = time.perf_counter(), time.process_time()
    for task in tasks:
        model = VCMModel(with_overrides(scenario, task.overrides),
                         rng=np.random.default_rng(run_seed(task.root_seed, task.seed_key)))
        model.run()
        model.summary()
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--firms", type=int, default=None,
                        help="firms (developers = firms/5, verifiers = firms/50); default: "
                             "the baseline's 1000")
    parser.add_argument("--backend", choices=("local", "dask"), default="local")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    with tempfile.TemporaryDirectory() as tmp:
        path = sweep_file(Path(tmp), args.runs, args.steps, args.firms)
        spec, scenario = load_sweep(path)
        print(f"{args.runs} runs: baseline world, {scenario.population.firms} firms, "
              f"{scenario.population.developers} developers, {scenario.steps} steps; "
              f"backend {args.backend}")
        load = os.getloadavg()[0]
        direct, direct_cpu = model_alone(path)
        cpu = time.process_time()
        one = sweep(path, workers=1, backend=args.backend, out=Path(tmp) / "w1", progress=False)
        one_cpu = time.process_time() - cpu
        two = sweep(path, workers=2, backend=args.backend, out=Path(tmp) / "w2", progress=False)

    per_min = {name: 60 * args.runs / s for name, s in
               (("model alone", direct), ("1 worker", one.seconds), ("2 workers", two.seconds))}
    for name, seconds in (("model alone", direct), ("1 worker", one.seconds),
                          ("2 workers", two.seconds)):
        print(f"  {name:<12} {seconds:7.2f} s  {per_min[name]:7.0f} runs/min  "
              f"{1000 * seconds / args.runs:6.1f} ms/run")
    speedup = one.seconds / two.seconds
    overhead = (one.seconds - direct) / direct
    print(f"speed-up, 2 workers over 1: {speedup:.2f}x (target >= 1.7x)")
    print(f"runner overhead per run: {100 * overhead:+.1f}% "
          f"({1000 * (one.seconds - direct) / args.runs:+.1f} ms/run; target < 10%)")
    if args.backend == "local":
        print(f"runner overhead in CPU time (1 worker runs in this process, so CPU time is "
              f"immune to other load): {100 * (one_cpu - direct_cpu) / direct_cpu:+.1f}% "
              f"({1000 * (one_cpu - direct_cpu) / args.runs:+.1f} ms/run)")
    print(f"load average: {load:.2f} before, {os.getloadavg()[0]:.2f} after, on "
          f"{os.cpu_count()} cores (other processes slow the timings down)")


if __name__ == "__main__":
    main()
