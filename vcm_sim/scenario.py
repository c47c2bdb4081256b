"""Scenarios: the rules plus the world they act on, loaded from TOML presets or files.

A scenario is a validated, immutable-by-convention pydantic model. Presets ship in
``vcm_sim/scenarios/*.toml``; ``load_scenario("baseline")`` loads one by name, and
``load_scenario("my.toml")`` a file. A file may start from another with ``extends``: a preset
name, or a ``.toml`` path relative to the file that names it. Overrides are nested keyword
arguments (``load_scenario("baseline", steps=60, rules={"market": {"offset_cap": 0.05}})``)
or dotted paths (``with_overrides(scenario, {"rules.market.offset_cap": 0.05})``); a table
given as a value merges into the table there, anything else (a list included) replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from vcm_sim.errors import UserError
from vcm_sim.rules import PROJECT_TYPES, ProjectTypeName, Rules, Strict, share
from vcm_sim.validation import describe, read_toml


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A scenario name: it becomes the output folder ``results/<name>``, so no path separators
and no '.' or '..'."""


class ScenarioError(UserError):
    """A scenario is invalid; the message names each bad field, its value and valid range."""


class Population(Strict):
    """How many agents of each kind."""

    firms: int = Field(1000, ge=1, le=1_000_000, description="Emitting firms.")
    developers: int = Field(200, ge=1, le=100_000, description="Project developers.")
    verifiers: int = Field(20, ge=1, le=10_000, description="Verification bodies.")
    traders: int = Field(0, ge=0, le=100_000, description="Speculative traders (0 for none).")


class ProjectType(Strict):
    """Physics and economics of one NbS project type."""

    mix: float = Field(ge=0.0, le=1.0, description="Share of new projects of this type.")
    rate_tco2_per_ha_yr: float = Field(gt=0.0, le=100.0, description=(
        "Mean true sequestration or avoided emission, tCO2e per hectare per year."))
    area_ha: float = Field(gt=0.0, le=1e7, description="Median project area, hectares.")
    additionality: float = share(0.8, "Mean additionality (0-1): the share of measured tonnes "
                                      "that would not have happened anyway.")
    leakage: float = share(0.1, "Share (0-1) of tonnes displaced elsewhere.")
    reversal_hazard_yr: float = share(0.01, "Annual probability (0-1) of a reversal (fire, "
                                            "pests) in a normal year.")
    reversal_severity: float = share(0.3, "Mean share (0-1) of the stored carbon lost in a "
                                          "reversal.")
    crediting_years: int = Field(30, ge=1, le=100, description="Crediting period, years.")
    capex_usd_per_ha: float = Field(ge=0.0, le=1e6, description="Up-front cost, USD per ha.")
    opex_usd_per_ha_yr: float = Field(ge=0.0, le=1e5, description="Running cost, USD/ha/yr.")
    buffer_share: float = share(0.1, "Buffer contribution (0-1) of each issuance.")


class Firms(Strict):
    """Emitting firms: emissions, pledges and costs."""

    emissions_tco2_yr: float = Field(50_000.0, gt=0.0, le=1e9,
                                     description="Median annual emissions per firm, tCO2e.")
    emissions_growth_yr: float = Field(-0.02, ge=-0.5, le=0.5,
                                       description="Annual change of emissions (share).")
    pledge_none: float = share(0.5, "Share of firms without a pledge (they buy nothing).")
    pledge_neutral: float = share(0.35, "Share with a carbon-neutral claim.")
    pledge_net_zero: float = share(0.15, "Share with a net-zero pledge (residual offsets).")
    neutral_coverage: float = share(0.3, "Share of emissions a carbon-neutral firm "
                                         "covers per year with credits or abatement.")
    residual_share: float = share(0.1, "Net-zero firms' residual emissions share "
                                       "neutralised with credits.")
    mac_slope_usd: float = Field(60.0, gt=0.0, le=10_000.0, description=(
        "Median marginal abatement cost at full abatement, USD per tCO2e (linear MAC)."))
    willingness_to_pay_usd: float = Field(9.0, gt=0.0, le=1000.0, description=(
        "Median value a firm puts on a credit backing its claim, USD per tCO2e."))
    quality_preference: float = share(0.3, "Share of firms that only buy high-tier credits "
                                           "(when quality tiers are on).")
    adoption_growth_yr: float = Field(0.03, ge=0.0, le=1.0, description=(
        "Annual probability that a firm without a pledge adopts a carbon-neutral one."))


class Developers(Strict):
    """Project developers: finance and integrity strategy."""

    discount_rate: float = Field(0.08, ge=0.0, le=1.0, description="Annual discount rate.")
    initial_projects: int = Field(2, ge=0, le=100, description="Projects each starts with.")
    invest_rate_yr: float = share(0.5, "Annual probability of appraising a new project.")
    honesty: float = share(0.5, "Mean intrinsic cost of inflating claims (0 = none, 1 = "
                                "never inflates).")
    max_inflation: float = Field(1.0, ge=0.0, le=10.0, description=(
        "Largest baseline inflation a developer considers (claimed/true - 1)."))
    sell_share: float = share(0.5, "Share of inventory offered per step.")
    initial_cash_usd: float = Field(2e6, ge=0.0, le=1e12, description="Starting cash, USD.")


class Verifiers(Strict):
    """Verification bodies."""

    rigour_mean: float = share(0.5, "Mean own rigour (0-1), floored by the rules' minimum.")
    fee_usd: float = Field(40_000.0, ge=0.0, le=1e7, description=(
        "Fee per verification, USD (validation plus verification USD 30k-150k)."))
    capacity_yr: int = Field(60, ge=1, le=100_000, description=(
        "Verifications one verifier can perform per year."))
    leniency_drift: float = share(0.02, "Per-year rigour a developer-paid verifier gives up "
                                        "when it loses clients to laxer rivals.")
    strikes_to_suspend: int = Field(3, ge=1, le=100, description=(
        "Failed audits after which a verifier loses accreditation."))


class Traders(Strict):
    """Speculators (only when population.traders > 0)."""

    chartist_share: float = share(0.5, "Share of traders extrapolating trends (the rest are "
                                       "fundamentalists).")
    aggressiveness: float = Field(0.2, ge=0.0, le=5.0, description=(
        "Credits traded per USD of expected mispricing, as a share of typical volume."))
    initial_cash_usd: float = Field(1e6, ge=0.0, le=1e12, description="Starting cash, USD.")


class Nature(Strict):
    """Regions and reversal correlation."""

    regions: int = Field(12, ge=1, le=1000, description="Regions; reversals correlate within one.")
    bad_year_probability: float = share(0.1, "Annual probability a region has a bad fire/pest "
                                              "year.")
    bad_year_multiplier: float = Field(8.0, ge=1.0, le=100.0, description=(
        "Reversal hazard multiplier in a bad year."))
    hazard_multiplier: float = Field(1.0, ge=0.0, le=100.0, description=(
        "Scales every type's reversal hazard (a wildfire regime raises it)."))


class Event(Strict):
    """A scheduled event at a given step."""

    step: int = Field(ge=0, le=100_000, description="Step (month) at which it fires.")
    kind: Literal["scandal", "wildfire", "suspend_issuance", "resume_issuance", "set"]
    project_type: ProjectTypeName | None = Field(
        None, description="Scandal: the exposed type (default: the most-retired type).")
    severity: float = share(0.5, "Scandal: demand lost for the type; wildfire: share of "
                                 "regions hit.")
    path: str | None = Field(None, description="'set': the dotted rule path, e.g. "
                                               "'rules.market.offset_cap'.")
    value: Any = Field(None, description="'set': the new value.")


class Scenario(Strict):
    """Everything a run needs, apart from its seed."""

    name: str = Field("custom", max_length=100, description=(
        "Short name; ``vcm-sim run`` writes to results/<name>."))
    description: str = ""
    steps: int = Field(240, ge=1, le=100_000, description="Horizon in steps (months).")
    start_year: int = Field(2025, ge=1990, le=2200, description="Calendar year of step 0.")
    debug: bool = Field(False, description="Check registry invariants after every step.")
    population: Population = Field(default_factory=Population)
    rules: Rules = Field(default_factory=Rules)
    project_types: dict[ProjectTypeName, ProjectType]
    firms: Firms = Field(default_factory=Firms)
    developers: Developers = Field(default_factory=Developers)
    verifiers: Verifiers = Field(default_factory=Verifiers)
    traders: Traders = Field(default_factory=Traders)
    nature: Nature = Field(default_factory=Nature)
    events: list[Event] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _a_safe_folder_name(cls, name: str) -> str:
        if not SAFE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a safe folder name (it becomes results/<name>): "
                             "use letters, digits, '_', '.' and '-', starting with a letter "
                             "or digit")
        return name


def preset_names() -> list[str]:
    """Names of the presets shipped with the package."""
    folder = resources.files("vcm_sim") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_path(name: str) -> Path:
    """Path of the preset TOML file called ``name``."""
    if name not in preset_names():
        raise ScenarioError(f"unknown scenario {name!r}; presets: {', '.join(preset_names())}")
    return Path(str(resources.files("vcm_sim") / "scenarios" / f"{name}.toml"))


def load_scenario(name_or_path: str | Path, **overrides: Any) -> Scenario:
    """Load a preset by name, or a TOML file by path, apply nested overrides and validate.

    A file may start from a preset with ``extends = "baseline"``, or from another file with
    ``extends = "base.toml"`` (relative to the file's folder), and give only what changes.
    """
    data = _read(name_or_path)
    return validate(_merge(data, overrides))


def _read(name_or_path: str | Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's data merged over its ``extends`` parents; ``chain`` holds the files whose
    parents are being read, to refuse a cycle."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = preset_path(str(name_or_path))
    if path.resolve() in chain:
        names = " -> ".join(str(p) for p in (*chain, path.resolve()))
        raise ScenarioError(f"extends cycle: {names}")
    data = read_toml(path, ScenarioError, "scenario")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    return _merge(_read(_parent_of(path, parent), (*chain, path.resolve())), data)


def _parent_of(path: Path, parent: Any) -> str | Path:
    """What ``extends = parent`` in the file at ``path`` names: a preset, or a .toml file
    relative to that file's folder (not to the working directory)."""
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends = {parent!r}: must be a preset name or the path "
                            f"of a .toml file, as a string")
    return path.parent / parent if parent.endswith(".toml") else parent


def validate(data: dict[str, Any]) -> Scenario:
    """A :class:`Scenario` from plain data, or :class:`ScenarioError` listing every problem."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError("invalid scenario:\n  " + describe(err, Scenario)) from None
    total = sum(t.mix for t in scenario.project_types.values())
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(f"project_types.*.mix must sum to 1, got {total:g}")
    pledges = scenario.firms.pledge_none + scenario.firms.pledge_neutral + scenario.firms.pledge_net_zero
    if abs(pledges - 1.0) > 1e-6:
        raise ScenarioError(f"firms.pledge_none + pledge_neutral + pledge_net_zero must sum "
                            f"to 1, got {pledges:g}")
    for event in scenario.events:
        if event.kind == "set":
            _check_set_event(scenario, event)
    return scenario


def with_overrides(scenario: Scenario,
                   overrides: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> Scenario:
    """A copy of ``scenario`` with dotted-path overrides applied in order, then validated.

    A value that is a table (dict) merges into the table at its path, key by key and at every
    depth; any other value, a list included, replaces what is there. Overrides may be a
    mapping or ``(path, value)`` pairs (pairs may repeat a path: two tables both merge).
    """
    data = scenario.model_dump()
    pairs = overrides.items() if isinstance(overrides, Mapping) else overrides
    for path, value in pairs:
        _set_path(data, path, value)
    return validate(data)


def _check_set_event(scenario: Scenario, event: Event) -> None:
    if not event.path:
        raise ScenarioError(f"event at step {event.step}: kind 'set' needs a 'path'")
    with_overrides(scenario.model_copy(update={"events": []}), {event.path: event.value})


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    node = data
    for depth, key in enumerate(keys[:-1]):
        if not isinstance(node, dict) or key not in node:
            raise ScenarioError(f"unknown setting {path!r}: no {'.'.join(keys[:depth + 1])!r}")
        node = node[key]
    if not isinstance(node, dict) or keys[-1] not in node:
        raise ScenarioError(f"unknown setting {path!r}")
    node.update(_merge({keys[-1]: node[keys[-1]]}, {keys[-1]: value}))


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


__all__ = ["Scenario", "ScenarioError", "load_scenario", "with_overrides", "preset_names",
           "validate", "PROJECT_TYPES"]
