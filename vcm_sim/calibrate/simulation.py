"""One ABC simulation: a particle's values in, the hindcast's summary statistics out, with a
model seed that is a function of the root seed and those values alone.

pyabc calls :class:`Simulator` in its worker processes (forked by the local sampler, or on
Dask workers) and compares what it returns with :func:`distance`. A value the scenario refuses
(a normal prior's tail beyond a setting's valid range) is a simulation that cannot match the
data: it returns a marker that :func:`distance` puts at infinity, and the particle is rejected.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from vcm_sim import hindcast
from vcm_sim.scenario import ScenarioError

OUT_OF_RANGE = "out_of_range"
"""Summary statistic that marks a particle whose values the scenario refused."""

SIGNIFICANT_DIGITS = 12
"""Digits of each parameter value that determine its model seed: values that differ only
beyond them (float noise from a round trip through text) share a seed."""


def model_seed(root_seed: int, parameters: Mapping[str, float]) -> int:
    """The model seed of a simulation with ``parameters``, in [0, 2**63): the first word of
    ``SeedSequence([root_seed, *sha256 words of the rounded values])``. The same values give
    the same seed in any process, session or order."""
    text = ";".join(f"{name}={float(value):.{SIGNIFICANT_DIGITS}g}"
                    for name, value in sorted(parameters.items()))
    digest = np.frombuffer(hashlib.sha256(text.encode()).digest(), dtype=np.uint32)
    state = np.random.SeedSequence([root_seed, *map(int, digest)]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def particle_seeds(root_seed: int, parameters: Mapping[str, float], count: int) -> list[int]:
    """The ``count`` model seeds of a particle: its :func:`model_seed`, then seeds spawned
    from it (``SeedSequence([seed, k])``'s first word, k = 1, 2, ...)."""
    seed = model_seed(root_seed, parameters)
    spawned = [np.random.SeedSequence([seed, k]).generate_state(1, np.uint64)[0] >> np.uint64(1)
               for k in range(1, count)]
    return [seed, *map(int, spawned)]


class Simulator:
    """The pyabc model: ``Simulator(root_seed, overrides, seeds, logs)(parameters)`` is the
    hindcast's summary statistics of the ``history`` scenario with ``overrides`` and
    ``parameters`` (dotted paths): with one seed, of the run with :func:`model_seed`; with
    several, the median of each statistic over the runs with :func:`particle_seeds` (a
    statistic missing in every run stays missing). Parameters named in ``logs`` arrive as
    the natural logs of their settings (ABC samples log-uniform settings on a log scale);
    seeds follow the settings' values. Picklable, for Dask workers."""

    def __init__(self, root_seed: int, overrides: Mapping[str, Any], seeds: int = 1,
                 logs: Collection[str] = ()):
        self.root_seed = root_seed
        self.overrides = dict(overrides)
        self.seeds = seeds
        self.logs = frozenset(logs)

    def __call__(self, parameters: Mapping[str, float]) -> dict[str, float]:
        values = {name: math.exp(value) if name in self.logs else float(value)
                  for name, value in parameters.items()}
        try:
            runs = [hindcast.statistics({**self.overrides, **values}, seed)
                    for seed in particle_seeds(self.root_seed, values, self.seeds)]
        except ScenarioError:
            return {OUT_OF_RANGE: 1.0}
        if len(runs) == 1:
            return runs[0]
        names = dict.fromkeys(name for run in runs for name in run)  # in order of appearance
        return {name: _median([run.get(name, math.nan) for run in runs]) for name in names}


def _median(values: list[float]) -> float:
    """The median of the values that are not missing; NaN if all are."""
    present = [v for v in values if not math.isnan(v)]
    return float(np.median(present)) if present else math.nan


def distance(simulated: Mapping[str, float], observed: Mapping[str, float]) -> float:
    """The hindcast's distance between simulated and observed statistics; infinite for a
    particle the scenario refused."""
    if OUT_OF_RANGE in simulated:
        return math.inf
    return hindcast.distance(dict(simulated), dict(observed))
