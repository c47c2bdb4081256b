"""NbS projects and their physics: sequestration, additionality, leakage and reversal.

Projects are plain data (a struct of numpy arrays), not agents: they decide nothing. Each has
a true measured rate, an additionality share, a leakage share and a claimed inflation chosen by
its developer. Per step (one month) a project accrues

* verifiable tonnes: ``area * rate / 12 * (1 - leakage)``, what an honest, rigorous verifier
  would certify;
* claimed tonnes: verifiable ``* (1 + inflation)``, what the developer submits;
* real tonnes: verifiable ``* additionality``, what the atmosphere sees.

Real tonnes per credit is therefore ``additionality / (1 + inflation)`` for a claim that passes
verification untouched, and closer to one the more the verifier cuts (see
:mod:`vcm_sim.issuance`): the hidden truth that lets the model measure greenwashing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np
from scipy import special

from vcm_sim.rules import PROJECT_TYPES
from vcm_sim.scenario import Scenario

STEPS_PER_YEAR = 12


@dataclass
class TypeTable:
    """Per-type parameters as arrays indexed by type code (the order of ``PROJECT_TYPES``)."""

    names: tuple[str, ...]
    mix: np.ndarray
    rate: np.ndarray
    area: np.ndarray
    additionality: np.ndarray
    leakage: np.ndarray
    hazard_yr: np.ndarray
    severity: np.ndarray
    crediting_years: np.ndarray
    capex_per_ha: np.ndarray
    opex_per_ha_yr: np.ndarray
    buffer_share: np.ndarray
    initial_price: np.ndarray
    buyer_value: np.ndarray

    @cached_property
    def credit_mix(self) -> np.ndarray:
        """Share of each type in the credits of new projects (0-1): the project ``mix``
        weighted by a median project's yearly credits (area times rate, after leakage and
        buffer; the project mix itself when no type yields credits). Buyers' favourite types
        and the price index weigh types by it."""
        credits = self.mix * self.area * self.rate * (1 - self.leakage) * (1 - self.buffer_share)
        return credits / credits.sum() if credits.sum() > 0 else self.mix

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> TypeTable:
        """The scenario's project types, with the rules' buffer share applied if set."""
        types = [scenario.project_types.get(name) for name in PROJECT_TYPES]

        def column(attr: str) -> np.ndarray:
            return np.array([getattr(t, attr) if t else 0.0 for t in types], dtype=float)

        buffer = column("buffer_share")
        if scenario.rules.integrity.buffer_share is not None:
            buffer[:] = scenario.rules.integrity.buffer_share
        eligible = np.isin(PROJECT_TYPES, scenario.rules.integrity.eligible_types)
        mix = column("mix") * eligible
        return cls(PROJECT_TYPES, mix / mix.sum() if mix.sum() else mix, column("rate_tco2_per_ha_yr"),
                   column("area_ha"), column("additionality"), column("leakage"),
                   column("reversal_hazard_yr"), column("reversal_severity"),
                   column("crediting_years"), column("capex_usd_per_ha"),
                   column("opex_usd_per_ha_yr"), buffer, column("initial_price_usd"),
                   column("buyer_value"))


MONTH_ROUNDING = 1e-6
"""Months added to a mean capture month before it is floored to its month: float sums of
tonnes times months put an exact whole month (an odd number of equal months) a hair below it
about a third of the time, which in January made a vintage a year too old."""


def opportunity_cost_factor(share: float, additionality: np.ndarray,
                            mean: np.ndarray) -> np.ndarray:
    """Each project's costs relative to its type's: ``1 - share + share * additionality /
    mean`` (``mean``: its type's mean additionality, aligned), the ``share`` of costs that is
    the income of the land use the project stops growing with how much of that use it
    really stops (``projects.opportunity_cost_share``). Exactly 1 at share 0."""
    if not share:
        return np.ones(len(additionality))
    return 1.0 - share + share * additionality / mean


def registered_mean_additionality(mean: np.ndarray, concentration: float, threshold: float,
                                  strictness: float) -> np.ndarray:
    """Per type, the mean additionality of the projects the additionality test lets
    through: draws Beta around ``mean`` (``concentration``), less those below ``threshold``
    refused with probability ``strictness``, ``E[a | kept] = mean * (1 - strictness *
    I(threshold; a + 1, b)) / (1 - strictness * I(threshold; a, b))`` (``I`` the regularised
    incomplete Beta function). ``mean`` where the test would refuse every project."""
    a, b = mean * concentration, (1.0 - mean) * concentration
    kept = 1.0 - strictness * special.betainc(a, b, threshold)
    mass = mean * (1.0 - strictness * special.betainc(a + 1.0, b, threshold))
    return np.divide(mass, kept, out=np.asarray(mean, dtype=float).copy(), where=kept > 1e-12)


def _empty(dtype: type) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


@dataclass
class Projects:
    """All projects ever registered, one row each (struct of arrays).

    ``credited``: credits ever issued to the project; ``at_risk``: those whose carbon still
    stands (reversals destroy it); ``cost_factor``: its costs relative to its type's (see
    ``projects.opportunity_cost_share``).
    """

    kind: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    developer: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    region: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    area_ha: np.ndarray = field(default_factory=lambda: _empty(float))
    rate: np.ndarray = field(default_factory=lambda: _empty(float))
    additionality: np.ndarray = field(default_factory=lambda: _empty(float))
    leakage: np.ndarray = field(default_factory=lambda: _empty(float))
    inflation: np.ndarray = field(default_factory=lambda: _empty(float))
    cost_factor: np.ndarray = field(default_factory=lambda: _empty(float))
    registered_step: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    """Month the project was registered (its validation pipeline runs until ``start_step``)."""
    start_step: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    end_step: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    verify_month: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    pending_verifiable: np.ndarray = field(default_factory=lambda: _empty(float))
    """Tonnes accrued since the project last submitted to verification (tCO2e)."""
    pending_tonne_months: np.ndarray = field(default_factory=lambda: _empty(float))
    """Each pending tonne times the month it was captured, summed (tCO2e x month index):
    over ``pending_verifiable``, their mean capture month."""
    submitted_capture_month: np.ndarray = field(default_factory=lambda: _empty(float))
    """Tonne-weighted mean capture month (a month index) of the tonnes the project last
    submitted to verification: the vintage of the credits issued for them."""
    credited: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    at_risk: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    verifier: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    authorised: np.ndarray = field(default_factory=lambda: _empty(bool))
    """Whether the host has authorised the project's credits for international use
    (Article 6: see :mod:`vcm_sim.article6`)."""

    def __len__(self) -> int:
        return len(self.kind)

    def add(self, **columns: np.ndarray) -> np.ndarray:
        """Append projects given as equal-length columns (a column not given is 0, but
        ``cost_factor`` 1); returns their ids."""
        n = len(next(iter(columns.values())))
        start = len(self)
        for f in fields(self):
            old = getattr(self, f.name)
            fill = 1 if f.name == "cost_factor" else 0
            new = np.asarray(columns.get(f.name, np.full(n, fill, dtype=old.dtype)),
                             dtype=old.dtype)
            setattr(self, f.name, np.concatenate([old, new]))
        return np.arange(start, start + n)

    def active(self, step: int) -> np.ndarray:
        """Mask of projects inside their crediting period at ``step``."""
        return (self.start_step <= step) & (step < self.end_step)

    def accrue(self, step: int) -> np.ndarray:
        """Add one month of verifiable tonnes to active projects; returns them (tCO2e)."""
        monthly = self.area_ha * self.rate / STEPS_PER_YEAR * (1.0 - self.leakage)
        monthly = monthly * self.active(step)  # tonnes are never negative: +0 when inactive
        self.pending_verifiable += monthly
        self.pending_tonne_months += monthly * step
        return monthly

    def submit(self, ids: np.ndarray) -> None:
        """Projects ``ids`` submit their pending tonnes (at least a tonne each) to
        verification: their mean capture month is recorded and nothing is pending any more."""
        self.submitted_capture_month[ids] = (self.pending_tonne_months[ids]
                                             / self.pending_verifiable[ids])
        self.drop_pending(ids)

    def drop_pending(self, ids: np.ndarray) -> None:
        """Projects ``ids`` lose the tonnes pending verification (abandoned projects)."""
        self.pending_verifiable[ids] = 0.0
        self.pending_tonne_months[ids] = 0.0

    def vintage_month(self, ids: np.ndarray) -> np.ndarray:
        """Month index (whole) in which the tonnes projects ``ids`` last submitted were, on
        average, captured: the calendar year of that month is their credits' vintage. A mean
        half-way between two months (tonnes split evenly over two years) falls in the
        earlier one; a mean on a whole month, in it, though floating-point sums land a hair
        below it (:data:`MONTH_ROUNDING`)."""
        return np.floor(self.submitted_capture_month[ids] + MONTH_ROUNDING).astype(np.int64)


def draw_region_hazard(rng: np.random.Generator, regions: int, bad_year_probability: float,
                       bad_year_multiplier: float) -> np.ndarray:
    """Hazard multipliers of each region for a year: bad fire/pest years are correlated
    within a region (every project there shares the multiplier)."""
    bad = rng.random(regions) < bad_year_probability
    return np.where(bad, bad_year_multiplier, 1.0)


def draw_reversals(rng: np.random.Generator, projects: Projects, types: TypeTable,
                   region_hazard: np.ndarray, hazard_multiplier: float,
                   concentration: float) -> tuple[np.ndarray, np.ndarray]:
    """Projects reversed this step and the share (0-1) of their stored carbon lost.

    Monthly hazard = annual type hazard x regime multiplier x regional multiplier / 12; the
    share lost is Beta-distributed around the type's mean severity, with ``concentration``
    (a + b). Only projects that have issued credits can reverse credited carbon.

    Each project draws one row of two uniforms (whether it is hit; how badly, by the inverse
    Beta CDF), so its draws do not depend on how many other projects exist.
    """
    hazard = (types.hazard_yr[projects.kind] * hazard_multiplier
              * region_hazard[projects.region] / STEPS_PER_YEAR)
    draw = rng.random((len(projects), 2))
    hit = (draw[:, 0] < np.minimum(hazard, 1.0)) & (projects.at_risk > 0)
    ids = hit.nonzero()[0]
    if not len(ids):
        return ids, np.zeros(0)
    mean = types.severity[projects.kind[ids]]
    lost = special.betaincinv(np.maximum(mean * concentration, 1e-3),
                              np.maximum((1.0 - mean) * concentration, 1e-3), draw[ids, 1])
    return ids, lost
