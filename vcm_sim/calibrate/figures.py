"""Figures of a calibration: the posterior marginals against their priors, and the fit of
posterior draws to the data (drawn by :func:`vcm_sim.hindcast.fit_figure`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from scipy.stats import gaussian_kde

from vcm_sim.calibrate.spec import CalibrationSpec, Prior
from vcm_sim.hindcast_figures import DATA, MODEL

FIT_DRAWS = 20
"""Most posterior draws whose runs the fit figure shows."""

UNITS = (("_usd_per_ha_yr", "USD/ha/yr"), ("_usd_per_ha", "USD/ha"),
         ("_usd", "USD"),
         ("_tco2_per_ha_yr", "tCO2e/ha/yr"), ("_tco2_yr", "tCO2e/yr"), ("_ha", "ha"),
         ("_yr", "per year"), ("_months", "months"), ("_years", "years"))
"""A setting's unit read from the end of its name (the house names units: ``mac_slope_usd``,
``pledge_imitation_yr``); the first suffix that matches wins."""


def unit(path: str) -> str:
    """The unit of the setting at ``path`` from its name, or 'unitless' (shares, factors)."""
    return next((label for suffix, label in UNITS if path.endswith(suffix)), "unitless")


def plot_marginals(posterior: pd.DataFrame, spec: CalibrationSpec, generation: int,
                   path: Path) -> None:
    """One panel per parameter: the weighted posterior of the last generation (histogram and
    kernel density) over its prior's density; written to ``path``."""
    names = list(spec.parameters)
    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    fig = Figure(figsize=(4.6 * columns, 3.6 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    weights = posterior["weight"].to_numpy()
    for ax, name in zip(axes, names):
        _marginal(ax, posterior[name].to_numpy(), weights, spec.parameters[name])
        ax.set_title(f"{name}\n({unit(name)})", fontsize=10)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"Posterior after generation {generation} ({len(posterior)} particles) "
                 f"against the prior")
    fig.savefig(path, dpi=110)


def _marginal(ax: Axes, values: np.ndarray, weights: np.ndarray, prior: Prior) -> None:
    """One parameter's panel."""
    low, high = _plot_range(prior, values)
    log = prior.prior == "loguniform"
    bins = np.geomspace(low, high, 21) if log else np.linspace(low, high, 21)
    grid = np.geomspace(low, high, 300) if log else np.linspace(low, high, 300)
    ax.hist(values, bins=bins, weights=weights, density=True, color=MODEL, alpha=0.35,
            label="posterior (weighted)")
    density = _weighted_density(values, weights, grid, log)
    if density is not None:
        ax.plot(grid, density, color=MODEL, lw=2, label="posterior density")
    ax.plot(grid, prior.distribution().pdf(grid), "--", color=DATA, lw=1.5,
            label=f"prior ({prior.prior})")
    if log:
        ax.set_xscale("log")
        ticks = np.geomspace(low, high, 5)
        ax.set_xticks(ticks, [f"{v:.3g}" for v in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(low, high)
    ax.set_ylabel("density")
    ax.legend(fontsize=8, loc="best")


def _plot_range(prior: Prior, values: np.ndarray) -> tuple[float, float]:
    """The x-range of a panel: the prior's range, or mean +- 3 sd of a normal widened to
    the particles."""
    if prior.prior != "normal":
        return prior.low, prior.high
    return (min(prior.mean - 3 * prior.sd, float(values.min())),
            max(prior.mean + 3 * prior.sd, float(values.max())))


def _weighted_density(values: np.ndarray, weights: np.ndarray, grid: np.ndarray,
                      log: bool) -> np.ndarray | None:
    """A weighted Gaussian kernel density on ``grid`` (in log space for a loguniform prior,
    transformed back); None when the particles are too few or identical to fit one."""
    x = np.log(values) if log else values
    if len(np.unique(x)) < 3:
        return None
    try:
        kde = gaussian_kde(x, weights=weights)
    except (np.linalg.LinAlgError, ValueError):
        return None
    return kde(np.log(grid)) / grid if log else kde(grid)


def fit_draws(posterior: pd.DataFrame, spec: CalibrationSpec
              ) -> list[tuple[dict[str, float], int]]:
    """Up to :data:`FIT_DRAWS` distinct particles drawn by weight (a generator seeded by the
    root seed), each as (every override of a simulation, its model seed)."""
    weights = posterior["weight"].to_numpy()
    count = min(FIT_DRAWS, int(np.count_nonzero(weights)))
    rng = np.random.default_rng(np.random.SeedSequence([spec.root_seed, FIT_DRAWS]))
    rows = rng.choice(len(posterior), size=count, replace=False, p=weights / weights.sum())
    return [({**spec.overrides, **{name: float(posterior[name].iloc[row])
                                   for name in spec.parameters}},
             int(posterior["model_seed"].iloc[row])) for row in sorted(rows)]
