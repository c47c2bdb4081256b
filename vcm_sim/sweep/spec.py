"""Sweep files: which scenario, which parameters to vary and how, how many runs, what to keep.

A sweep file is TOML, validated like a scenario: an unknown key, a value of the wrong type (no
boolean for an integer, no string for a number), a value out of range, a parameter whose
``values`` mix types or a parameter path the scenario does not have raises :class:`SweepError`
naming the field, the value and the valid range. Every field is documented in
``docs/sweeps.md``; in short::

    name = "greenwashing_risk"
    scenario = "baseline"            # preset name, or a .toml path relative to this file
    seed = 20240601                  # root seed: every run's seed is spawned from it
    common_random_numbers = false    # optional: true pairs the points (same seed per replication)
    replications = 5                 # runs per parameter point
    steps = 120                      # optional: overrides the scenario's horizon
    metrics = ["greenwashing_index"] # optional: summary metrics to keep (default: all)
    series = false                   # keep per-step series (true, or a list of columns)

    [overrides]                      # fixed for every run (dotted paths)
    "population.firms" = 100

    [sampler]
    method = "grid"                  # grid | lhs | sobol

    [parameters."rules.integrity.verification_rigour"]
    values = [0.2, 0.5, 0.8]         # or: low, high, num (grid) / low, high (lhs, sobol)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vcm_sim.errors import UserError
from vcm_sim.scenario import SAFE_NAME, Scenario, ScenarioError, load_scenario, with_overrides
from vcm_sim.validation import describe, read_toml

RESERVED_COLUMNS = ("run_id", "point", "replication", "root_seed", "status", "error",
                    "duration_s")
"""Columns of the run table that the runner itself writes."""

_PARAMETER_KEYS = {"values", "low", "high", "num", "scale", "integer", "levels"}


class SweepError(UserError):
    """A sweep file or sweep output is invalid; the message says what and where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Parameter(_Strict):
    """One varied setting: explicit values, a numeric range, or named levels.

    The name of a parameter is a dotted scenario path (``rules.market.offset_cap``), except for
    parameters given as ``levels``, whose name is free and whose levels each map to a table of
    dotted-path overrides (for settings that move together, or lists such as ``events``).
    """

    values: list[Any] | None = Field(None, min_length=1, description=(
        "Explicit values. Grid: each is a level; lhs and sobol: categorical, drawn uniformly."))
    low: float | None = Field(None, description="Lower end of a numeric range.")
    high: float | None = Field(None, description="Upper end of a numeric range.")
    num: int | None = Field(None, ge=1, le=10_000, description=(
        "Grid only: number of evenly spaced values from low to high, ends included."))
    scale: Literal["linear", "log"] = Field("linear", description=(
        "Spacing of a range: 'log' spaces values evenly in log10 (low and high > 0)."))
    integer: bool = Field(False, description="Round sampled range values to integers.")
    levels: dict[str, dict[str, Any]] | None = Field(None, min_length=1, description=(
        "Named levels, each a table of dotted-path overrides applied together."))

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        kinds = [self.values is not None, self.low is not None or self.high is not None,
                 self.levels is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of: values = [...]; low and high; levels")
        if kinds[1]:
            if self.low is None or self.high is None:
                raise ValueError("a range needs both low and high")
            if not self.low < self.high:
                raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
            if self.scale == "log" and self.low <= 0:
                raise ValueError(f"scale = 'log' needs low > 0, got {self.low:g}")
        elif self.num is not None:
            raise ValueError("num only applies to a range (low, high)")
        kinds = sorted({_kind(v) for v in self.values or []})
        if len(kinds) > 1:
            raise ValueError(f"values {self.values!r} mix types ({', '.join(kinds)}); a "
                             f"parameter's values must be all numbers, all booleans or all "
                             f"strings")
        return self

    @property
    def is_range(self) -> bool:
        """True for a numeric range (low, high), False for values or levels."""
        return self.low is not None

    def cast(self, value: float) -> float | int:
        """A range value as the parameter records it: rounded to int if ``integer``."""
        return int(round(float(value))) if self.integer else float(value)

    def choices(self) -> list[Any]:
        """The categorical choices: the values, or the level names."""
        if self.levels is not None:
            return list(self.levels)
        return list(self.values or [])


class Sampler(_Strict):
    """How parameter points are drawn."""

    method: Literal["grid", "lhs", "sobol"] = Field("grid", description=(
        "'grid': every combination; 'lhs': Latin hypercube (scipy.stats.qmc); 'sobol': "
        "Saltelli/Sobol design for Sobol indices (SALib)."))
    samples: int | None = Field(None, ge=1, le=1_000_000, description=(
        "lhs: number of points. sobol: base sample N (a power of two); the design has "
        "N*(D+2) points, or N*(2D+2) with second_order."))
    second_order: bool = Field(False, description="sobol: also estimate second-order indices.")


class ReportOptions(_Strict):
    """What ``vcm-sim report`` draws."""

    metrics: list[str] | None = Field(None, description=(
        "Metrics to tabulate and plot (default: every kept metric)."))
    heatmaps: bool = Field(True, description="Draw a heatmap per metric for pairs of "
                                             "parameters with several levels.")
    sobol_fill_missing: float = Field(0.0, ge=0.0, le=0.2, description=(
        "Largest share of Sobol design points with no value of a metric (every run of the "
        "point failed or left it undefined) that is filled with the mean over the other "
        "points before computing indices; above it, the metric gets no indices. Only sensible "
        "when missing values are rare and unrelated to the parameters."))


class SweepSpec(_Strict):
    """A validated sweep file."""

    name: str = Field(min_length=1, max_length=100, pattern=f"^{SAFE_NAME.pattern}$",
                      description=(
        "Name of the sweep; the default output folder is results/<name>/runs."))
    description: str = ""
    scenario: str = Field("baseline", description="Preset name or path of a scenario TOML.")
    model: str = Field("vcm_sim.model:VCMModel", pattern=r"^[\w.]+:\w+$", description=(
        "'module:Class' of the model: called as Class(scenario, rng=Generator)."))
    seed: int = Field(ge=0, lt=2**63, description="Root seed of the sweep.")
    replications: int = Field(1, ge=1, le=100_000, description="Runs per parameter point.")
    common_random_numbers: bool = Field(False, description=(
        "Pair the points: replication r of every point runs with the same seed, so that "
        "differences between points are their parameters' effects, not noise (see "
        "docs/measurement.md)."))
    steps: int | None = Field(None, ge=1, le=100_000, description=(
        "Horizon in steps for every run (default: the scenario's)."))
    metrics: list[str] | None = Field(None, min_length=1, description=(
        "Summary metrics kept per run (default: all that the model reports)."))
    series: bool | list[str] = Field(False, description=(
        "Keep the per-step series of each run: true for every column, or a list of columns."))
    overrides: dict[str, Any] = Field(default_factory=dict, description=(
        "Dotted-path settings applied to every run before the parameters."))
    sampler: Sampler = Field(default_factory=Sampler)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    report: ReportOptions = Field(default_factory=ReportOptions)

    @model_validator(mode="after")
    def _sampler_fits(self) -> SweepSpec:
        method = self.sampler.method
        if method == "grid":
            for name, p in self.parameters.items():
                if p.is_range and p.num is None:
                    raise ValueError(f"parameter {name!r}: a grid range needs num (how many "
                                     f"values from low to high)")
            if self.sampler.samples is not None:
                raise ValueError("sampler.samples does not apply to a grid")
        else:
            if not self.parameters:
                raise ValueError(f"sampler {method!r} needs at least one parameter")
            if self.sampler.samples is None:
                raise ValueError(f"sampler {method!r} needs sampler.samples")
            for name, p in self.parameters.items():
                if p.num is not None:
                    raise ValueError(f"parameter {name!r}: num only applies to a grid")
        if method == "sobol":
            n = self.sampler.samples or 0
            if n & (n - 1):
                raise ValueError(f"sampler.samples = {n}: Sobol designs need a power of two "
                                 f"(e.g. {1 << max(n.bit_length() - 1, 0)} or "
                                 f"{1 << n.bit_length()})")
        elif self.sampler.second_order:
            raise ValueError("sampler.second_order only applies to method = 'sobol'")
        for name in self.parameters:
            if name in RESERVED_COLUMNS:
                raise ValueError(f"parameter name {name!r} is reserved; reserved: "
                                 f"{', '.join(RESERVED_COLUMNS)}")
        return self


def load_sweep(path: str | Path) -> tuple[SweepSpec, Scenario]:
    """Read and validate a sweep file; return it with its base scenario (overrides applied).

    Raises :class:`SweepError` listing what is wrong, before any run starts: bad keys or values,
    unknown parameter paths, and parameter values outside the scenario's valid ranges.
    """
    path = Path(path)
    data = read_toml(path, SweepError, "sweep")
    spec = parse_sweep(data, source=str(path))
    return spec, base_scenario(spec, root=path.parent, source=str(path))


def parse_sweep(data: dict[str, Any], source: str = "sweep") -> SweepSpec:
    """A :class:`SweepSpec` from plain data (nested tables of dotted paths are flattened)."""
    data = dict(data)
    if isinstance(data.get("overrides"), dict):
        data["overrides"] = flatten(data["overrides"])
    if isinstance(data.get("parameters"), dict):
        data["parameters"] = flatten(data["parameters"], is_leaf=_is_parameter)
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as err:
        raise SweepError(f"{source}: invalid sweep file:\n  "
                         + describe(err, SweepSpec, "sweep setting")) from None


def base_scenario(spec: SweepSpec, root: Path = Path("."), source: str = "sweep") -> Scenario:
    """The scenario every run starts from (the sweep's overrides and steps applied), after
    checking that every parameter value is a valid setting of it."""
    where = spec.scenario
    if where.endswith(".toml") and not Path(where).is_absolute():
        where = str(root / where)
    try:
        scenario = load_scenario(where)
        fixed = dict(spec.overrides)
        if spec.steps is not None:
            fixed["steps"] = spec.steps
        scenario = with_overrides(scenario, fixed)
    except ScenarioError as err:
        raise SweepError(f"{source}: scenario or overrides: {err}") from None
    for name, parameter in spec.parameters.items():
        _check_parameter(scenario, name, parameter, source)
    return scenario


def _check_parameter(scenario: Scenario, name: str, p: Parameter, source: str) -> None:
    if p.levels is not None:
        trials = [(f"levels.{label}", overrides) for label, overrides in p.levels.items()]
    elif p.is_range:
        trials = [(f"low = {p.low!r}", {name: p.cast(p.low)}),
                  (f"high = {p.high!r}", {name: p.cast(p.high)})]
    else:
        trials = [(f"values[{i}] = {v!r}", {name: v}) for i, v in enumerate(p.values or [])]
    for label, overrides in trials:
        try:
            with_overrides(scenario, flatten(overrides))
        except ScenarioError as err:
            detail = str(err).replace("invalid scenario:\n  ", "").replace("\n  ", "; ")
            raise SweepError(f"{source}: parameters.{name!r}: {label} is not a valid "
                             f"setting: {detail}") from None


def flatten(table: dict[str, Any], prefix: str = "",
            is_leaf: Callable[[dict[str, Any]], bool] = lambda table: False) -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists, scalars, empty tables and tables for
    which ``is_leaf`` is true are leaves."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not is_leaf(value):
            flat.update(flatten(value, path + ".", is_leaf))
        else:
            flat[path] = value
    return flat


def _kind(value: Any) -> str:
    """The kind of a parameter value, as a column of the run table holds one kind."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _is_parameter(table: dict[str, Any]) -> bool:
    """Unquoted ``[parameters.rules.market.offset_cap]`` nests tables; a table holding a
    parameter key (values, low, high, levels, ...) is a parameter."""
    return bool(set(table) & _PARAMETER_KEYS)
