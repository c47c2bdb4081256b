"""Project developers: invest in NbS projects, choose how far to inflate claims, sell credits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vcm_sim.agents.base import Member
from vcm_sim.projects import STEPS_PER_YEAR, Projects, TypeTable
from vcm_sim.scenario import Developers as DeveloperParams


class ProjectDeveloper(Member):
    """A developer specialised in one project type."""

    prefix = "developer"

    @property
    def project_type(self) -> str:
        """The NbS type this developer builds."""
        return self.model.types.names[self.model.developers.specialty[self.index]]

    @property
    def honesty(self) -> float:
        """Intrinsic cost of inflating claims (0 = none)."""
        return float(self.model.developers.honesty[self.index])

    @property
    def projects(self) -> np.ndarray:
        """Ids of the developer's projects."""
        return (self.model.projects.developer == self.index).nonzero()[0]


@dataclass
class DeveloperPopulation:
    """All developers as arrays."""

    specialty: np.ndarray
    honesty: np.ndarray
    home_region: np.ndarray
    rating_error: np.ndarray

    @classmethod
    def create(cls, rng: np.random.Generator, n: int, params: DeveloperParams,
               type_mix: np.ndarray, regions: int, rating_error_sd: float
               ) -> DeveloperPopulation:
        """``n`` developers, specialised by the type mix, honesty Beta around the mean, and
        each with a rating agency's persistent error on its real tonnes per credit."""
        k = params.honesty_concentration
        mean = min(max(params.honesty, 1e-3), 1 - 1e-3)
        return cls(specialty=rng.choice(len(type_mix), size=n, p=type_mix),
                   honesty=rng.beta(mean * k, (1 - mean) * k, n),
                   home_region=rng.integers(0, regions, n),
                   rating_error=rng.normal(0.0, rating_error_sd, n))

    def inflation(self, developers: np.ndarray, detection: float, audit_yr: float,
                  penalty_multiple: float, params: DeveloperParams) -> np.ndarray:
        """Baseline inflation (claimed / verifiable - 1) chosen for new projects.

        Per unit of price and verifiable tonne, inflating by ``x`` gains ``x`` if undetected,
        loses it with probability ``detection`` at verification, loses it plus a fine of
        ``penalty_multiple`` times its value with the yearly audit probability ``audit_yr``,
        and costs ``conscience_cost * honesty * x**2`` in conscience and reputation. The
        optimum is ``x* = (1 - detection - audit_yr * (1 + penalty)) / (2 * conscience_cost
        * honesty)``, clipped to ``[0, max_inflation]``.
        """
        margin = 1.0 - detection - audit_yr * (1.0 + penalty_multiple)
        # 2 * cost * honesty: the derivative of the quadratic conscience cost.
        x = margin / np.maximum(2 * params.conscience_cost * self.honesty[developers], 1e-9)
        return x.clip(0.0, params.max_inflation)

    def appraise(self, rng: np.random.Generator, params: DeveloperParams, types: TypeTable,
                 expected_price: np.ndarray, fee_usd: float,
                 area_spread: float) -> tuple[np.ndarray, np.ndarray]:
        """Developers that invest this step, and the area (ha) of each new project.

        Each developer appraises a project with probability ``invest_rate_yr / 12``: area
        lognormal around the type's median (sigma ``area_spread``); it invests when the net
        present value at the expected price of its type is positive: annual credits (after
        leakage and buffer) times price, less running costs and the yearly verification fee,
        over the crediting period at the discount rate, less the up-front cost.
        """
        rate = params.invest_rate_yr / STEPS_PER_YEAR
        appraising = (rng.random(len(self.specialty)) < rate).nonzero()[0]
        kind = self.specialty[appraising]
        area = types.area[kind] * rng.lognormal(0.0, area_spread, len(appraising))
        credits_yr = (area * types.rate[kind] * (1 - types.leakage[kind])
                      * (1 - types.buffer_share[kind]))
        cash_yr = credits_yr * expected_price[kind] - types.opex_per_ha_yr[kind] * area - fee_usd
        r, years = params.discount_rate, types.crediting_years[kind]
        annuity = np.where(r > 0, (1 - (1 + r) ** -years) / max(r, 1e-12), years)
        npv = annuity * cash_yr - types.capex_per_ha[kind] * area
        invest = npv > 0
        return appraising[invest], area[invest]

    def asks(self, seller: np.ndarray, expected_price: np.ndarray, unit_cost: np.ndarray,
             inventory_pressure: np.ndarray, price_floor: float, noise: np.ndarray,
             params: DeveloperParams) -> np.ndarray:
        """Ask prices (USD per tCO2e) of developers ``seller``.

        The expected price of the developer's type, discounted by up to ``inventory_discount``
        as ``inventory_pressure`` (0-1, per developer) rises, never below the running cost per
        credit times ``ask_markup`` or the price floor: below that a developer banks its
        credits.
        """
        discount = params.inventory_discount * inventory_pressure[seller]
        base = expected_price[self.specialty[seller]] * (1 - discount)
        return np.maximum.reduce([base * noise, unit_cost[seller] * params.ask_markup,
                                  np.full(len(seller), price_floor)])


def yearly_credits(projects: Projects, types: TypeTable, n_developers: int,
                   step: int) -> tuple[np.ndarray, np.ndarray]:
    """Credits each developer's active projects issue in a year, as claimed and after the
    buffer share (credits per year), and the mask of active projects."""
    active = projects.active(step)
    kind = projects.kind
    credits = (projects.area_ha * projects.rate * (1 - projects.leakage)
               * (1 + projects.inflation) * (1 - types.buffer_share[kind]))
    dev = projects.developer[active]
    return np.bincount(dev, weights=credits[active], minlength=n_developers), active


def unit_costs(projects: Projects, types: TypeTable, total_credits: np.ndarray,
               active: np.ndarray, fee_usd: float) -> np.ndarray:
    """Running cost per credit of each developer's active projects (USD per tCO2e).

    Yearly operating cost plus one verification fee per ``active`` project, over the yearly
    credits issued to the developer (``total_credits``, after buffer, from
    :func:`yearly_credits`); developers with no active project get the median.
    """
    n_developers = len(total_credits)
    cost = types.opex_per_ha_yr[projects.kind] * projects.area_ha + fee_usd
    total_cost = np.bincount(projects.developer[active], weights=cost[active],
                             minlength=n_developers)
    unit = np.divide(total_cost, total_credits, out=np.full(n_developers, np.nan),
                     where=total_credits > 0)
    known = np.isfinite(unit)
    if known.all():
        return unit
    return np.where(known, unit, _median(unit[known]) if known.any() else 0.0)


def _median(values: np.ndarray) -> float:
    """np.median of a non-empty 1-D array, without its overhead on small arrays."""
    ordered = np.sort(values)
    n = len(ordered)
    middle = ordered[n // 2]
    return middle if n % 2 else (ordered[n // 2 - 1] + middle) / 2
