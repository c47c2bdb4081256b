"""What the page's controls set, and how that becomes a scenario.

The page starts from a preset and lets the instructor change the rules people talk about in
class. Each control is one field of :class:`PageSettings`; :meth:`PageSettings.scenario` applies
them to the preset as dotted-path overrides, so the validation and error messages are the
scenario's own. No Solara here: the mapping is plain Python and unit-testable.
"""

from __future__ import annotations

import math

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from vcm_sim.scenario import Scenario, load_scenario, preset_names, with_overrides

MAX_FIRMS = 2000
"""Largest population of firms the page offers (the slider's end); presets with more start
there. A step of the baseline (1000 firms) takes about a millisecond."""
MAX_DEVELOPERS = 400
"""Largest population of developers the page offers."""
DEFAULT_SEED = 42
PAGE_RATERS = 3
"""Rating agencies the ratings switch brings into a preset that has none."""
_BASELINE = load_scenario("baseline")
"""The page opens on the baseline: the controls' defaults are its values."""


def page_presets() -> list[str]:
    """The presets the page offers: those of one market (its charts show one market; a
    scenario of several markets runs with ``vcm-sim run``)."""
    return [name for name in preset_names() if not load_scenario(name).markets]


@dataclass(frozen=True)
class Control:
    """One input on the page: a slider (float or int) or a switch."""

    name: str
    label: str
    kind: str  # "float", "int" or "bool"
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05


CONTROLS: tuple[Control, ...] = (
    Control("verification_rigour", "Verification rigour (0-1)", "float", 0.0, 1.0, 0.05),
    Control("satellite_mrv", "Satellite MRV coverage (0-1)", "float", 0.0, 1.0, 0.05),
    Control("retired_credit_disclosure", "Disclose credits behind claims", "bool"),
    Control("regulator_assigns_verifiers", "Regulator assigns verifiers", "bool"),
    Control("quality_books", "Ratings on the books (buyers see them)", "bool"),
    Control("buffer_share", "Buffer share of issuance (0-0.5)", "float", 0.0, 0.5, 0.01),
    Control("offset_cap", "Offset cap (share of target)", "float", 0.0, 1.0, 0.05),
    Control("firms", "Emitting firms", "int", 20, MAX_FIRMS, 20),
    Control("developers", "Project developers", "int", 5, MAX_DEVELOPERS, 5),
    Control("trader_share", "Traders per firm (0-0.5)", "float", 0.0, 0.5, 0.05),
    Control("seed", "Random seed", "int", 0, 100, 1),
)
"""The page's inputs, in the order they are shown; names are :class:`PageSettings` fields."""


@dataclass(frozen=True)
class PageSettings:
    """The values of the page's controls.

    ``buffer_share`` None, or left at the preset's default (:func:`default_buffer_share`),
    keeps the preset's own rule (which may be the per-type shares of the project table); any
    other value sets one share for every issuance. ``trader_share`` is the number of
    speculative traders per emitting firm. Verifiers scale with developers so that a smaller
    population keeps the preset's market structure (clients per verifier). ``quality_books``
    splits the books by rating grade, label and vintage band (buyers see each credit's
    rating), with :data:`PAGE_RATERS` rating agencies where the preset has none.
    """

    preset: str = "baseline"
    verification_rigour: float = _BASELINE.rules.integrity.verification_rigour
    satellite_mrv: float = _BASELINE.rules.integrity.satellite_mrv
    retired_credit_disclosure: bool = _BASELINE.rules.disclosure.retired_credit_disclosure
    regulator_assigns_verifiers: bool = (
        _BASELINE.rules.integrity.verifier_assignment == "regulator")
    quality_books: bool = _BASELINE.rules.market.quality_books
    buffer_share: float | None = None
    offset_cap: float = _BASELINE.rules.market.offset_cap
    firms: int = min(_BASELINE.population.firms, MAX_FIRMS)
    developers: int = min(_BASELINE.population.developers, MAX_DEVELOPERS)
    trader_share: float = _BASELINE.population.traders / _BASELINE.population.firms
    seed: int = DEFAULT_SEED

    @classmethod
    def from_preset(cls, preset: str = "baseline", seed: int = DEFAULT_SEED) -> PageSettings:
        """The controls as the preset ``preset`` sets them (population capped at the sliders'
        ends)."""
        base = load_scenario(preset)
        integrity, pop = base.rules.integrity, base.population
        return cls(
            preset=preset,
            verification_rigour=integrity.verification_rigour,
            satellite_mrv=integrity.satellite_mrv,
            retired_credit_disclosure=base.rules.disclosure.retired_credit_disclosure,
            regulator_assigns_verifiers=integrity.verifier_assignment == "regulator",
            quality_books=base.rules.market.quality_books,
            buffer_share=default_buffer_share(base),
            offset_cap=base.rules.market.offset_cap,
            firms=min(pop.firms, MAX_FIRMS),
            developers=min(pop.developers, MAX_DEVELOPERS),
            trader_share=pop.traders / pop.firms,
            seed=seed,
        )

    @classmethod
    def from_values(cls, **values: Any) -> PageSettings:
        """Settings from control values; unknown names raise ``TypeError`` naming them."""
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown page settings {sorted(unknown)}; valid: "
                            f"{[f.name for f in fields(cls)]}")
        return replace(cls(), **values)

    def scenario(self) -> Scenario:
        """The preset with these settings applied (validated)."""
        base = load_scenario(self.preset)
        overrides: dict[str, Any] = {
            "rules.integrity.verification_rigour": float(self.verification_rigour),
            "rules.integrity.satellite_mrv": float(self.satellite_mrv),
            "rules.disclosure.retired_credit_disclosure": bool(self.retired_credit_disclosure),
            "rules.integrity.verifier_assignment":
                "regulator" if self.regulator_assigns_verifiers else "developer",
            "rules.market.offset_cap": float(self.offset_cap),
            "rules.market.quality_books": bool(self.quality_books),
            "population.firms": int(self.firms),
            "population.developers": int(self.developers),
            "population.verifiers": scaled_verifiers(base, int(self.developers)),
            "population.traders": int(round(self.trader_share * self.firms)),
        }
        if self.quality_books and not base.population.raters:
            overrides["population.raters"] = PAGE_RATERS
        if (self.buffer_share is not None
                and abs(self.buffer_share - default_buffer_share(base)) > 0.005):
            overrides["rules.integrity.buffer_share"] = float(self.buffer_share)
        return with_overrides(base, overrides)

    def values(self) -> dict[str, Any]:
        """The settings as a plain dict (the page model's keyword arguments)."""
        return asdict(self)


def default_buffer_share(scenario: Scenario) -> float:
    """The buffer share the slider shows for ``scenario``, rounded to the slider's step.

    The scenario's uniform share if it sets one, else the mix-weighted mean of the per-type
    shares of its project table.
    """
    uniform = scenario.rules.integrity.buffer_share
    if uniform is not None:
        return round(uniform, 2)
    types = scenario.project_types.values()
    total = sum(t.mix for t in types)
    return round(sum(t.mix * t.buffer_share for t in types) / total, 2)


def scaled_verifiers(scenario: Scenario, developers: int) -> int:
    """Verifiers for ``developers`` developers at the scenario's developers per verifier."""
    pop = scenario.population
    return max(2, min(pop.verifiers, round(pop.verifiers * developers / pop.developers)))


def describe(scenario: Scenario) -> str:
    """One line naming the rules and population in force, for the page's status bar."""
    integrity, disclosure, market = (scenario.rules.integrity, scenario.rules.disclosure,
                                     scenario.rules.market)
    buffer = ("per project type" if integrity.buffer_share is None
              else f"{integrity.buffer_share:.0%}")
    pop = scenario.population
    return (f"rigour {integrity.verification_rigour:.2f} · satellite MRV "
            f"{integrity.satellite_mrv:.0%} · disclosure "
            f"{'on' if disclosure.retired_credit_disclosure else 'off'} · verifiers chosen by "
            f"{integrity.verifier_assignment} · buffer {buffer} · offset cap "
            f"{market.offset_cap:.0%} · ratings on the books "
            f"{'on' if market.quality_books else 'off'} · {pop.firms} firms, "
            f"{pop.developers} developers, {pop.verifiers} verifiers, {pop.traders} traders, "
            f"{pop.raters} rating agencies")


__all__ = ["CONTROLS", "Control", "PageSettings", "default_buffer_share", "describe",
           "page_presets", "preset_names", "scaled_verifiers"]


def pending_changes(params: dict, settings: PageSettings) -> list[str]:
    """The controls whose values in ``params`` (Mesa's model parameters: a value, or before
    the inputs first report, the control's dict with its ``value``) differ from ``settings``,
    the model's: 'Offset cap (share of target) 0.5' and the like, in the page's order."""
    in_force = settings.values()
    changed = []
    for control in CONTROLS:
        value = params.get(control.name, in_force[control.name])
        if isinstance(value, dict):
            value = value.get("value")
        current = in_force[control.name]
        if control.kind == "bool":
            if bool(value) != bool(current):
                changed.append(f"{control.label} {'on' if value else 'off'}")
        elif value is None or current is None:
            if value != current:
                changed.append(f"{control.label} {value}")
        elif not math.isclose(float(value), float(current), abs_tol=1e-9):
            changed.append(f"{control.label} {value:g}")
    return changed
