"""Parameter points of a sweep: full grids, Latin hypercubes (scipy.stats.qmc) and Sobol/Saltelli
designs (SALib).

Random designs draw from a generator seeded by the sweep's root seed through its own
``SeedSequence`` spawn key, so the design never shares a stream with any run.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vcm_sim.sweep.spec import Parameter, SweepSpec, flatten

SAMPLER_SPAWN_KEY = 2**62
"""Spawn key of the design's seed sequence (runs use keys 0, 1, 2, ... in run-id order)."""


@dataclass(frozen=True)
class Design:
    """The parameter points of a sweep, in point-index order.

    ``points[i]`` maps each parameter name to the value recorded in the run table (a number, a
    string, a boolean, or a level name); :meth:`overrides` turns it into scenario settings.
    ``problem`` and ``unit`` are the SALib problem and the design's rows in the unit cube, set
    for Sobol designs (the input of the Sobol analysis).
    """

    parameters: dict[str, Parameter]
    points: list[dict[str, Any]]
    problem: dict[str, Any] | None = None
    second_order: bool = False
    unit: np.ndarray | None = field(default=None, repr=False)

    def overrides(self, point: dict[str, Any]) -> dict[str, Any]:
        """Dotted-path scenario settings for one point."""
        settings: dict[str, Any] = {}
        for name, value in point.items():
            levels = self.parameters[name].levels
            if levels is None:
                settings[name] = value
            else:
                settings.update(flatten(levels[value]))
        return settings


def count_points(spec: SweepSpec) -> int:
    """How many points :func:`design` gives ``spec``, by arithmetic (nothing is drawn or
    enumerated, so a sweep too large to hold is caught before it is built)."""
    method = spec.sampler.method
    if method == "grid":
        return math.prod(p.num if p.is_range else len(p.choices())
                         for p in spec.parameters.values())
    n = spec.sampler.samples or 0
    if method == "lhs":
        return n
    d = len(spec.parameters)
    return n * (2 * d + 2 if spec.sampler.second_order else d + 2)


def design(spec: SweepSpec) -> Design:
    """The points of ``spec``'s sampler over its parameters."""
    method = spec.sampler.method
    if method == "grid":
        return _grid(spec)
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed,
                                                       spawn_key=(SAMPLER_SPAWN_KEY,)))
    names = list(spec.parameters)
    if method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), rng=rng).random(spec.sampler.samples)
        problem = None
    else:
        from SALib.sample import sobol

        problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
        unit = sobol.sample(problem, spec.sampler.samples,
                            calc_second_order=spec.sampler.second_order, scramble=True,
                            seed=int(rng.integers(2**31)))
    points = [{name: _from_unit(spec.parameters[name], u) for name, u in zip(names, row)}
              for row in unit]
    return Design(dict(spec.parameters), points, problem,
                  spec.sampler.second_order, unit)


def _grid(spec: SweepSpec) -> Design:
    names = list(spec.parameters)
    axes = [_grid_values(spec.parameters[n]) for n in names]
    points = [dict(zip(names, combo)) for combo in itertools.product(*axes)]
    return Design(dict(spec.parameters), points)


def _grid_values(p: Parameter) -> list[Any]:
    if p.is_range:
        if p.scale == "log":
            raw = np.logspace(np.log10(p.low), np.log10(p.high), p.num)
        else:
            raw = np.linspace(p.low, p.high, p.num)
        return [p.cast(v) for v in raw]
    return _uniform_types(p.choices())


def _from_unit(p: Parameter, u: float) -> Any:
    """Map a coordinate in [0, 1) to a parameter value (categorical: equal-width bins)."""
    if p.is_range:
        if p.scale == "log":
            lo, hi = np.log10(p.low), np.log10(p.high)
            return p.cast(10 ** (lo + u * (hi - lo)))
        return p.cast(p.low + u * (p.high - p.low))
    choices = _uniform_types(p.choices())
    return choices[min(int(u * len(choices)), len(choices) - 1)]


def _uniform_types(values: list[Any]) -> list[Any]:
    """Mixed ints and floats become floats, so a parameter's column has one type."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric and any(isinstance(v, float) for v in values):
        return [float(v) for v in values]
    return list(values)

