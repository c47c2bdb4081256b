"""The one point of the posterior the ``history`` preset uses.

An ABC-SMC weight is the prior's density over the proposal's, not a measure of fit, and a
particle's distance was measured on its own few seeds: the highest-weight particle of a
calibration fit by seed luck (distance 2.3 on its two seeds, 6.3 in median over ten fresh
ones). The preset's point is therefore the particle, among the ``candidates`` of highest
weight, whose runs on ``seeds`` fresh seeds lie closest to the data in median, preferring
candidates all of whose runs have every statistic (:func:`choose_point`). The fresh seeds
come from the root seed alone, so every candidate meets the same luck. The winner of a
contest on the same seeds is flattered by them, so its median distance is measured again on
as many independent seeds (:func:`check_point`), and that is the figure to quote.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from vcm_sim.calibrate.spec import CalibrationSpec

POINT_STREAM = 0x504F494E54
"""Spawn key of the fresh seeds (ASCII 'POINT'), apart from every particle's seeds."""
CHECK_STREAM = 0x434845434B
"""Spawn key of the seeds that check the chosen point (ASCII 'CHECK')."""


def fresh_seeds(root_seed: int, count: int, stream: int = POINT_STREAM) -> list[int]:
    """``count`` model seeds from the root seed alone, the same for every candidate
    (``stream``: :data:`POINT_STREAM` to choose, :data:`CHECK_STREAM` to check)."""
    children = np.random.SeedSequence([root_seed, stream]).spawn(count)
    return [int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)) for child in children]


def candidate_distances(values: Mapping[str, float], spec: CalibrationSpec,
                        seeds: list[int], observed: Mapping[str, float]) -> list[float]:
    """The distance from the data of one run per seed of the setting ``values`` (with the
    spec's overrides); infinite for a run that misses a statistic (no trade before an
    anchor month)."""
    from vcm_sim import hindcast

    return [hindcast.distance(hindcast.statistics({**spec.overrides, **values}, seed),
                              observed) for seed in seeds]


def choose_point(posterior: pd.DataFrame, spec: CalibrationSpec,
                 progress: bool = False) -> pd.DataFrame:
    """Re-simulate the ``spec.point.candidates`` highest-weight particles of ``posterior``
    (a :func:`~vcm_sim.calibrate.outputs.posterior_table`) on ``spec.point.seeds`` fresh
    seeds each. One row per candidate, best first (those whose every run has every
    statistic, then by median distance): its posterior row's index (``row``), ``weight``,
    calibration ``distance``, ``median_distance`` and ``worst_distance`` over the fresh runs,
    and ``finite_share`` (the share of them with every statistic)."""
    from vcm_sim import hindcast

    observed = hindcast.observed()
    seeds = fresh_seeds(spec.root_seed, spec.point.seeds)
    top = posterior.sort_values("weight", ascending=False, kind="stable")
    top = top.head(spec.point.candidates)
    rows = []
    for row in _progress(top.index, progress):
        values = {name: float(top.at[row, name]) for name in spec.parameters}
        distances = np.array(candidate_distances(values, spec, seeds, observed))
        rows.append({"row": int(row), "weight": float(top.at[row, "weight"]),
                     "distance": float(top.at[row, "distance"]),
                     "median_distance": float(np.median(distances)),
                     "worst_distance": float(distances.max()),
                     "finite_share": float(np.isfinite(distances).mean())})
    table = pd.DataFrame(rows)
    order = np.lexsort((-table["weight"].to_numpy(), table["median_distance"].to_numpy(),
                        table["finite_share"].to_numpy() < 1.0))
    return table.iloc[order].reset_index(drop=True)


def check_point(posterior: pd.DataFrame, spec: CalibrationSpec, row: int) -> float:
    """The median distance of posterior row ``row`` over ``spec.point.seeds`` seeds
    independent of those it was chosen on (:data:`CHECK_STREAM`): the chosen point's fit
    without the flattery of its selection."""
    from vcm_sim import hindcast

    values = {name: float(posterior.at[row, name]) for name in spec.parameters}
    seeds = fresh_seeds(spec.root_seed, spec.point.seeds, CHECK_STREAM)
    return float(np.median(candidate_distances(values, spec, seeds, hindcast.observed())))


def _progress(rows: pd.Index, show: bool):
    if not show:
        return rows
    from tqdm import tqdm

    return tqdm(rows, desc="preset point", unit="particle", leave=False)


def describe_choice(choice: pd.DataFrame, spec: CalibrationSpec, checked: float) -> str:
    """One sentence on the chosen point (``checked``: :func:`check_point`), for best.toml
    and the README."""
    best = choice.iloc[0]
    return (f"of the {len(choice)} highest-weight particles, the one whose runs on "
            f"{spec.point.seeds} fresh seeds lie closest to the data in median (distance "
            f"{_shown(best['median_distance'])} on them, {_shown(checked)} on "
            f"{spec.point.seeds} independent seeds, {best['distance']:.2f} on its "
            f"calibration seeds)")


def _shown(distance: float) -> str:
    return f"{distance:.2f}" if math.isfinite(distance) else "infinite"
