"""Calibration files: which settings of the ``history`` scenario to calibrate, their priors, and
the budget of the ABC-SMC run.

A calibration file is TOML, validated like a sweep file: an unknown key, a value of the wrong
type or out of range, a prior without its bounds, more than :data:`MAX_PARAMETERS` parameters,
or a parameter path that is not a numeric setting of the scenario raises
:class:`CalibrationError` in one line naming the field, the value and what is valid::

    scenario = "history"      # the hindcast's scenario (the only one with data to fit)
    root_seed = 20240601      # every simulation's model seed derives from it
    seeds_per_particle = 1    # optional: simulations per particle, statistics their medians

    [abc]
    population = 100          # particles per generation
    generations = 8           # at most this many generations
    min_epsilon = 0.0         # stop once the acceptance threshold is at or below it
    max_runs = 5000           # budget: total simulations (pyabc's max_total_nr_simulations)
    min_acceptance_rate = 0.01   # optional: stop when a generation accepts less
    min_ess_share = 0.1       # optional: stop when a generation's effective sample size
                              # falls below this share of its particles
    transition = "local"      # optional: "multivariate_normal" (default) or "local" kernels

    [point]                   # optional: how the preset's point is chosen
    candidates = 20           # the highest-weight particles re-simulated
    seeds = 10                # on this many fresh seeds each; the closest in median wins

    [overrides]               # optional: fixed for every simulation (dotted paths)
    "population.firms" = 200

    [parameters."firms.pledge_imitation_yr"]
    prior = "uniform"         # uniform (low, high) | loguniform (low, high) | normal (mean, sd)
    low = 0.05
    high = 0.6
    why = "Bass imitation rates of 0.1-0.5 per year in diffusion studies"
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vcm_sim.errors import UserError
from vcm_sim.scenario import ScenarioError
from vcm_sim.sweep.spec import flatten
from vcm_sim.validation import describe, read_toml

MAX_PARAMETERS = 8
"""Most parameters one calibration may fit: ABC's cost grows fast with their number."""


class CalibrationError(UserError):
    """A calibration file, its output folder or its arguments are invalid; the message says
    what and where, in one line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Prior(_Strict):
    """The prior of one calibrated setting, and where it comes from."""

    prior: Literal["uniform", "loguniform", "normal"] = Field(description=(
        "Shape: 'uniform' on [low, high], 'loguniform' (uniform in log) on [low, high], "
        "'normal' with mean and sd; in the setting's own unit. ABC samples and perturbs a "
        "loguniform setting's natural log."))
    low: float | None = Field(None, description="uniform, loguniform: lower bound.")
    high: float | None = Field(None, description="uniform, loguniform: upper bound.")
    mean: float | None = Field(None, description="normal: mean.")
    sd: float | None = Field(None, gt=0.0, description="normal: standard deviation.")
    why: str = Field(min_length=1, max_length=300, description=(
        "Where the prior comes from (a source, a data row, an argument), in a sentence."))

    @model_validator(mode="after")
    def _bounds_fit_shape(self) -> Prior:
        ranged = self.prior in ("uniform", "loguniform")
        needed, foreign = (("low", "high"), ("mean", "sd")) if ranged else \
            (("mean", "sd"), ("low", "high"))
        missing = [k for k in needed if getattr(self, k) is None]
        if missing:
            raise ValueError(f"prior {self.prior!r} needs {' and '.join(needed)} (missing: "
                             f"{', '.join(missing)})")
        extra = [k for k in foreign if getattr(self, k) is not None]
        if extra:
            raise ValueError(f"prior {self.prior!r} takes {' and '.join(needed)}, not "
                             f"{', '.join(extra)}")
        if ranged and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.prior == "loguniform" and self.low <= 0:
            raise ValueError(f"prior 'loguniform' needs low > 0, got {self.low:g}")
        return self

    def scipy_args(self) -> tuple[str, tuple[float, ...]]:
        """The prior as a ``scipy.stats`` distribution name and its arguments (what
        ``pyabc.RV`` takes)."""
        if self.prior == "uniform":
            return "uniform", (self.low, self.high - self.low)
        if self.prior == "loguniform":
            return "loguniform", (self.low, self.high)
        return "norm", (self.mean, self.sd)

    @property
    def on_log_scale(self) -> bool:
        """Whether ABC samples and perturbs the setting's natural log (a loguniform prior):
        uniform there, so a particle's weight carries no 1/x prior density, and the
        perturbation kernel's steps are relative rather than absolute."""
        return self.prior == "loguniform"

    def sampling_args(self) -> tuple[str, tuple[float, ...]]:
        """The prior in the space ABC samples (``scipy.stats`` name and arguments, what
        ``pyabc.RV`` takes): uniform on [ln low, ln high] for a loguniform setting, else
        :meth:`scipy_args`."""
        if self.on_log_scale:
            return "uniform", (math.log(self.low), math.log(self.high / self.low))
        return self.scipy_args()

    def setting(self, sampled: float) -> float:
        """The setting's value (its own unit) of a value in the space ABC samples."""
        return math.exp(sampled) if self.on_log_scale else float(sampled)

    def distribution(self) -> Any:
        """The prior as a frozen ``scipy.stats`` distribution."""
        from scipy import stats  # for figures only: it costs every vcm-sim command 0.5 s

        name, args = self.scipy_args()
        return getattr(stats, name)(*args)

    def midpoint(self) -> float:
        """The centre of the prior: the mean of a normal, the (geometric, for loguniform)
        middle of a range."""
        if self.prior == "normal":
            return self.mean
        if self.prior == "loguniform":
            return float(np.sqrt(self.low * self.high))
        return (self.low + self.high) / 2

    def trial_values(self) -> dict[str, float]:
        """Values the setting must accept: the midpoint, and the ends of a range."""
        ends = {} if self.prior == "normal" else {"low": self.low, "high": self.high}
        return {"midpoint": self.midpoint(), **ends}


class AbcSettings(_Strict):
    """How long ABC-SMC runs: its population, generations, target and budget."""

    population: int = Field(ge=2, le=100_000, description=(
        "Particles accepted per generation (pyabc's population_size)."))
    generations: int = Field(ge=1, le=1000, description=(
        "Most generations to run (pyabc's max_nr_populations over all sessions)."))
    min_epsilon: float = Field(0.0, ge=0.0, description=(
        "Stop once a generation's acceptance threshold (a distance, as hindcast.distance "
        "measures it) is at or below this; 0 runs until another limit stops it."))
    max_runs: int = Field(ge=1, le=100_000_000, description=(
        "Budget: total simulations, the prior calibration sample included (pyabc's "
        "max_total_nr_simulations). Checked after each generation, so the generation running "
        "when it is reached finishes."))
    min_acceptance_rate: float | None = Field(None, gt=0.0, le=1.0, description=(
        "Stop when a generation would accept fewer than this share of its simulations (it "
        "is abandoned after population / min_acceptance_rate simulations); none: no limit."))

    min_ess_share: float | None = Field(None, gt=0.0, le=1.0, description=(
        "Stop when a generation's effective sample size (1 / sum of squared weights, the "
        "weights summing to 1) falls below this share of its particles: its weights rest "
        "on a few particles, so it is kept in abc.db but the posterior is taken from the "
        "last generation at or above the share; none: every generation is usable."))
    transition: Literal["multivariate_normal", "local"] = Field(
        "multivariate_normal", description=(
            "How particles are perturbed: 'multivariate_normal', one Gaussian kernel with the "
            "previous generation's weighted covariance (pyabc's default); 'local', a kernel per "
            "particle with the covariance of its nearest quarter of the particles (pyabc's "
            "LocalTransition on parameters divided by their standard deviation, "
            "vcm_sim.calibrate.kernels), which follows a curved or cornered posterior."))

    @model_validator(mode="after")
    def _budget_fits_a_generation(self) -> AbcSettings:
        if self.max_runs < self.population:
            raise ValueError(f"abc.max_runs ({self.max_runs}) is below abc.population "
                             f"({self.population}): a generation needs at least population "
                             f"simulations")
        return self


class PointSettings(_Strict):
    """How the preset's point of the posterior is chosen (:mod:`vcm_sim.calibrate.point`)."""

    candidates: int = Field(20, ge=1, le=10_000, description=(
        "The highest-weight particles of the posterior re-simulated as candidates."))
    seeds: int = Field(10, ge=1, le=1_000, description=(
        "Fresh seeds each candidate runs on (the same for all, from the root seed): the "
        "preset takes the candidate whose runs lie closest to the data in median."))


class CalibrationSpec(_Strict):
    """A validated calibration file."""

    scenario: Literal["history"] = Field("history", description=(
        "The scenario calibrated: 'history', the one the hindcast compares with data."))
    root_seed: int = Field(ge=0, lt=2**63, description=(
        "Root seed: numpy's global seed for pyabc in each generation, and, with a particle's "
        "values, its simulation's model seed."))
    seeds_per_particle: int = Field(1, ge=1, le=50, description=(
        "Simulations per particle, each with its own seed (the particle's model seed and "
        "seeds spawned from it); its statistics are their medians, so the distance measures "
        "the parameters' typical run rather than one seed's luck. Each costs as much as a "
        "particle with one seed; max_runs counts particles."))
    abc: AbcSettings = Field(description="The [abc] table: population, generations, "
                                         "stopping rules and budget.")
    point: PointSettings = Field(default_factory=PointSettings, description=(
        "The optional [point] table: how the preset's point is chosen (candidates, seeds)."))
    overrides: dict[str, Any] = Field(default_factory=dict, description=(
        "Dotted-path settings fixed for every simulation, e.g. a smaller population."))
    parameters: dict[str, Prior] = Field(description=(
        "The calibrated settings: dotted scenario paths (e.g. 'firms.pledge_imitation_yr'), "
        "each with its prior."))

    @property
    def log_scale(self) -> frozenset[str]:
        """The parameters ABC samples as natural logs (see :attr:`Prior.on_log_scale`)."""
        return frozenset(name for name, prior in self.parameters.items()
                         if prior.on_log_scale)

    def settings(self, sampled: Mapping[str, float]) -> dict[str, float]:
        """A particle's values in the space ABC samples as the settings' values."""
        return {name: prior.setting(sampled[name]) for name, prior in self.parameters.items()}

    @model_validator(mode="after")
    def _few_distinct_parameters(self) -> CalibrationSpec:
        if not self.parameters:
            raise ValueError("no [parameters.\"<dotted.path>\"] table: give at least one "
                             "setting to calibrate")
        if len(self.parameters) > MAX_PARAMETERS:
            raise ValueError(f"{len(self.parameters)} parameters: at most {MAX_PARAMETERS} "
                             f"can be calibrated at once (fix the others in [overrides])")
        both = sorted(set(self.parameters) & set(self.overrides))
        if both:
            raise ValueError(f"{', '.join(both)}: both calibrated and fixed in [overrides]; "
                             f"remove one")
        return self


def load_spec(path: Path) -> CalibrationSpec:
    """Read and validate the calibration file at ``path``, checking every parameter against
    its scenario; :class:`CalibrationError` in one line if anything is wrong."""
    data = read_toml(path, CalibrationError, "calibration")
    spec = parse_spec(data, source=str(path))
    check_settings(spec, source=str(path))
    return spec


def parse_spec(data: dict[str, Any], source: str = "calibration") -> CalibrationSpec:
    """A :class:`CalibrationSpec` from plain data (nested tables of dotted paths are
    flattened)."""
    data = dict(data)
    if isinstance(data.get("overrides"), dict):
        data["overrides"] = flatten(data["overrides"])
    if isinstance(data.get("parameters"), dict):
        data["parameters"] = flatten(data["parameters"], is_leaf=lambda t: "prior" in t)
    try:
        return CalibrationSpec.model_validate(data)
    except ValidationError as err:
        problems = describe(err, CalibrationSpec, "calibration setting")
        raise CalibrationError(f"{source}: {one_line(problems)}") from None


def check_settings(spec: CalibrationSpec, source: str = "calibration") -> None:
    """:class:`CalibrationError` unless the scenario accepts the overrides, and each
    parameter at its prior's midpoint and at the ends of its range."""
    from vcm_sim.hindcast import scenario

    try:
        scenario(spec.overrides)
    except ScenarioError as err:
        raise CalibrationError(f"{source}: overrides: {one_line(err)}") from None
    for path, prior in spec.parameters.items():
        for label, value in prior.trial_values().items():
            try:
                scenario({**spec.overrides, path: value})
            except ScenarioError as err:
                raise CalibrationError(
                    f"{source}: parameters.\"{path}\": the prior's {label} {value:g} is not "
                    f"a valid setting of scenario {spec.scenario!r}: {one_line(err)}") from None


def one_line(problems: object) -> str:
    """Validation problems (one per line, as :func:`describe` lists them) joined by '; '."""
    text = str(problems).removeprefix("invalid scenario:")
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())
