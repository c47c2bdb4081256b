"""What a calibration leaves in its folder besides ``abc.db``: the posterior and the epsilon
schedule as tables, the best particle as TOML, the figures, and a README that sums it up.
Everything is rebuilt from pyabc's history after every session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vcm_sim.calibrate.figures import fit_draws, plot_marginals
from vcm_sim.calibrate.point import (CHECK_STREAM, check_point, choose_point,
                                     describe_choice, fresh_seeds)
from vcm_sim.calibrate.simulation import model_seed
from vcm_sim.calibrate.spec import CalibrationSpec, Prior

INTERVAL = (0.05, 0.95)
"""Quantiles of the posterior interval the README reports (90%)."""


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights: 1 / sum of squared weights once
    they sum to 1 (the particle count for equal weights, 1 when one particle holds all)."""
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    return float(1.0 / np.sum(weights ** 2))


def generation_ess(history: Any, t: int) -> float:
    """The effective sample size of generation ``t``'s weights in a pyabc history."""
    return effective_sample_size(history.get_weighted_distances(t=t)["w"])


def usable(spec: CalibrationSpec, ess: float, particles: int) -> bool:
    """Whether a generation's weights are spread enough to draw a posterior from:
    its effective sample size at or above ``abc.min_ess_share`` of its particles."""
    share = spec.abc.min_ess_share
    return share is None or ess >= share * particles


def posterior_generation(history: Any, spec: CalibrationSpec) -> int:
    """The generation the posterior is taken from: the last :func:`usable` one (generation 0,
    drawn from the prior with equal weights, always is)."""
    generations = generations_table(history)
    ok = [usable(spec, g.ess, g.particles) for g in generations.itertuples()]
    return int(generations["generation"][ok].iloc[-1])


def posterior_table(history: Any, spec: CalibrationSpec, t: int) -> pd.DataFrame:
    """Generation ``t``'s particles: one column per parameter (the settings' values, in
    their own units), their ``weight`` (summing to 1), ``distance`` and ``model_seed``."""
    rows = []
    for p in history.get_population(t=t).particles:
        values = spec.settings(p.parameter)
        rows.append({**values, "weight": float(p.weight), "distance": float(p.distance),
                     "model_seed": model_seed(spec.root_seed, values)})
    table = pd.DataFrame(rows)
    table["weight"] /= table["weight"].sum()
    return table


def generations_table(history: Any) -> pd.DataFrame:
    """Per generation: ``epsilon`` (the acceptance threshold, a distance), ``particles``
    accepted, ``simulations`` run, ``acceptance_rate`` (their ratio), ``simulations_total``
    (so far, the prior calibration sample included), ``wall_time_s`` and ``ess`` (the
    effective sample size of its weights)."""
    pops = history.get_all_populations().sort_values("t")
    calibration = int(pops.loc[pops["t"] < 0, "samples"].sum())
    pops = pops[pops["t"] >= 0]
    return pd.DataFrame({
        "generation": pops["t"].astype(int).to_numpy(),
        "epsilon": pops["epsilon"].to_numpy(float),
        "particles": pops["particles"].astype(int).to_numpy(),
        "simulations": pops["samples"].astype(int).to_numpy(),
        "acceptance_rate": (pops["particles"] / pops["samples"]).to_numpy(float),
        "simulations_total": calibration + pops["samples"].cumsum().astype(int).to_numpy(),
        "wall_time_s": pops["wall_time"].to_numpy(float),
        "ess": [generation_ess(history, t) for t in pops["t"].astype(int)]})


def write_outputs(out: Path, history: Any, spec: CalibrationSpec, spec_file: Path,
                  manifest: dict[str, Any], progress: bool = False) -> None:
    """Write every output of the calibration in ``out`` from its pyabc ``history`` (at least
    one finished generation), choosing the preset's point (:func:`choose_point`, shown with
    a progress bar if ``progress``)."""
    from vcm_sim import hindcast

    generations = generations_table(history)
    last = posterior_generation(history, spec)
    posterior = posterior_table(history, spec, last)
    posterior.to_csv(out / "posterior.csv", index=False)
    generations.to_csv(out / "generations.csv", index=False)
    choice = choose_point(posterior, spec, progress)
    choice.to_csv(out / "point.csv", index=False)
    checked = check_point(posterior, spec, int(choice["row"].iloc[0]))
    (out / "best.toml").write_text(best_toml(posterior, spec, spec_file, last, choice,
                                             checked), encoding="utf-8")
    plot_marginals(posterior, spec, last, out / "marginals.png")
    hindcast.fit_figure(fit_draws(posterior, spec), out / "fit.png")
    total = int(history.total_nr_simulations)
    (out / "README.md").write_text(readme(spec, spec_file, manifest, generations, posterior,
                                          last, total, choice, checked), encoding="utf-8")


def best_toml(posterior: pd.DataFrame, spec: CalibrationSpec, spec_file: Path,
              generation: int, choice: pd.DataFrame, checked: float) -> str:
    """The preset's point (the first row of ``choice``, :func:`choose_point`) as TOML: its
    weight, its distances (``checked``: on independent seeds, :func:`check_point`), and,
    under ``[settings]``, each calibrated setting as
    ``"dotted.path" = value``, as its simulations used it (a count rounded to a whole
    number)."""
    from vcm_sim import hindcast
    from vcm_sim.scenario import setting

    chosen = choice.iloc[0]
    row = int(chosen["row"])
    best = posterior.loc[row]  # a float Series: the seed is read from its integer column
    lines = [f"# The preset's point of the calibration {spec_file.name}, generation "
             f"{generation}: {describe_choice(choice, spec, checked)}. The history preset "
             f"copies its "
             f"settings from here; point.csv compares the candidates.",
             f"model_seed = {int(posterior.at[row, 'model_seed'])}   # its first "
             f"calibration seed",
             f"weight = {float(best['weight'])!r}",
             f"distance = {float(best['distance'])!r}   # on its calibration seeds",
             f"median_distance = {float(chosen['median_distance'])!r}   # over "
             f"{spec.point.seeds} fresh seeds",
             f"fresh_seeds = {fresh_seeds(spec.root_seed, spec.point.seeds)!r}",
             f"check_median_distance = {checked!r}   # over the independent check_seeds",
             f"check_seeds = {fresh_seeds(spec.root_seed, spec.point.seeds, CHECK_STREAM)!r}",
             "", "[settings]"]
    used = hindcast.scenario({**spec.overrides, **{name: float(best[name])
                                                   for name in spec.parameters}})
    lines += [f"{_toml_string(name)} = {_toml_value(setting(used, name))}"
              for name in spec.parameters]
    if spec.overrides:
        lines += ["", "[overrides]   # fixed for every simulation of the calibration"]
        lines += [f"{_toml_string(name)} = {_toml_value(value)}"
                  for name, value in spec.overrides.items()]
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string (a quoted key keeps a dotted path whole)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_value(value: Any) -> str:
    """A scalar as TOML (booleans lower case, strings quoted)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return _toml_string(value)
    return repr(value)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray,
                       quantiles: tuple[float, ...]) -> list[float]:
    """Quantiles of a weighted sample (pyabc's definition: interpolated between the
    midpoints of the cumulative weights)."""
    from pyabc.weighted_statistics import weighted_quantile

    return [float(weighted_quantile(values, weights, alpha=q)) for q in quantiles]


def readme(spec: CalibrationSpec, spec_file: Path, manifest: dict[str, Any],
           generations: pd.DataFrame, posterior: pd.DataFrame, generation: int,
           total: int, choice: pd.DataFrame, checked: float) -> str:
    """A short summary of the calibration in Markdown, its posterior from ``generation``
    and the preset's point from ``choice`` (:func:`choose_point`)."""
    seconds = sum(s.get("seconds") or 0.0 for s in manifest["sessions"])
    calibration = total - int(generations["simulations"].sum())
    abc = spec.abc
    text = [f"# Calibration `{spec_file.stem}`", "",
            f"ABC-SMC (pyabc {manifest['pyabc']}) of the `{spec.scenario}` scenario against "
            f"the hindcast's in-sample statistics (`vcm_sim.hindcast`), from `{spec_file}` "
            f"(root seed {spec.root_seed}).", "",
            f"- status: {manifest['status']}; stopped because {manifest['stopped_because']}",
            f"- budget: {total:,} of {abc.max_runs:,} particles simulated ({calibration:,} in "
            f"the prior calibration sample), each on {spec.seeds_per_particle} seed(s), so "
            f"{total * spec.seeds_per_particle:,} model runs; {len(generations)} of at most "
            f"{abc.generations} generations of {abc.population} particles; min_epsilon "
            f"{abc.min_epsilon:g}",
            f"- wall time: {seconds:,.0f} s over {len(manifest['sessions'])} session(s)",
            "", "## Epsilon schedule", "",
            "| generation | epsilon | accepted / simulations | acceptance rate | "
            "effective sample size |",
            "|---:|---:|---:|---:|---:|"]
    text += [f"| {g.generation} | {g.epsilon:.4g} | {g.particles} / {g.simulations} | "
             f"{g.acceptance_rate:.1%} | {g.ess:.1f}"
             f"{'' if usable(spec, g.ess, g.particles) else ' (unusable)'} |"
             for g in generations.itertuples()]
    if abc.min_ess_share is not None:
        text += ["", f"A generation whose effective sample size is below "
                 f"abc.min_ess_share = {abc.min_ess_share:g} of its particles is unusable: "
                 f"its weights rest on a few particles."]
    if generation == 0 and len(generations) > 1:
        text += ["", "**The calibration failed:** every generation after the first rests "
                 "on too few particles, so the posterior below is generation 0, a sample of "
                 "the prior accepted at its first threshold, not a fit."]
    text += ["", f"## Posterior (generation {generation})", "",
             "| parameter | prior | median | 90% interval | why this prior |",
             "|---|---|---:|---|---|"]
    weights = posterior["weight"].to_numpy()
    for name, prior in spec.parameters.items():
        low, median, high = weighted_quantiles(posterior[name].to_numpy(), weights,
                                               (INTERVAL[0], 0.5, INTERVAL[1]))
        text.append(f"| `{name}` | {_describe(prior)} | {median:.4g} | "
                    f"[{low:.4g}, {high:.4g}] | {prior.why} |")
    text += ["", "## The preset's point", "",
             f"`best.toml`: {describe_choice(choice, spec, checked)}. An ABC-SMC weight is "
             f"prior over proposal density, not fit, and a particle's calibration distance is "
             f"its own seeds' luck, so the candidates are run again on the same fresh seeds; "
             f"the winner of that contest is flattered by those seeds, so its distance on "
             f"independent ones is the figure to quote:", "",
             "| rank | weight | distance (calibration seeds) | median distance (fresh) | "
             "worst (fresh) | fresh runs with every statistic |",
             "|---:|---:|---:|---:|---:|---:|"]
    text += [f"| {k + 1} | {c.weight:.4f} | {c.distance:.2f} | {c.median_distance:.2f} | "
             f"{c.worst_distance:.2f} | {c.finite_share:.0%} |"
             for k, c in enumerate(choice.itertuples())]
    text += ["", "Files: `posterior.csv` (the posterior's generation: values, weight, "
             "distance, model seed), `generations.csv`, `point.csv` (the candidates for the "
             "preset's point), `best.toml` (the preset's point), "
             "`marginals.png`, `fit.png` (runs of up to 20 posterior draws against the data), "
             "`abc.db` (pyabc's history: every generation), `manifest.json`.", ""]
    return "\n".join(text)


def _describe(prior: Prior) -> str:
    if prior.prior == "normal":
        return f"normal({prior.mean:g}, sd {prior.sd:g})"
    return f"{prior.prior}({prior.low:g}, {prior.high:g})"
