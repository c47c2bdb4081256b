"""Project developers: invest in NbS projects, choose how far to inflate claims, sell credits."""

from __future__ import annotations

from dataclasses import dataclass, fields

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
        return self.market.types.names[self.market.developers.specialty[self.index]]

    @property
    def honesty(self) -> float:
        """Intrinsic cost of inflating claims (0 = none)."""
        return float(self.market.developers.honesty[self.index])

    @property
    def active(self) -> bool:
        """In business: False once bankrupt (a liquidator then sells off its credits)."""
        return bool(self.market.developers.active[self.index])

    @property
    def projects(self) -> np.ndarray:
        """Ids of the developer's projects."""
        return (self.market.projects.developer == self.index).nonzero()[0]


@dataclass
class DeveloperPopulation:
    """All developers as arrays, those that entered during the run appended."""

    specialty: np.ndarray
    honesty: np.ndarray
    home_region: np.ndarray
    active: np.ndarray
    """In business (not bankrupt)."""
    entered: np.ndarray
    """Month index of entry (the first simulated month for the founding population)."""
    markup: np.ndarray
    """Factor (at least 1) on the ask, learnt from selling out (:meth:`learn`)."""

    @classmethod
    def create(cls, rng: np.random.Generator, n: int, params: DeveloperParams,
               type_mix: np.ndarray, regions: int, month: int) -> DeveloperPopulation:
        """``n`` developers entering at ``month``, specialised by the type mix, with honesty
        Beta around the mean and a home region."""
        k = params.honesty_concentration
        mean = min(max(params.honesty, 1e-3), 1 - 1e-3)
        return cls(specialty=rng.choice(len(type_mix), size=n, p=type_mix),
                   honesty=rng.beta(mean * k, (1 - mean) * k, n),
                   home_region=rng.integers(0, regions, n),
                   active=np.ones(n, dtype=bool),
                   entered=np.full(n, month, dtype=np.int64),
                   markup=np.ones(n))

    def __len__(self) -> int:
        return len(self.specialty)

    def extend(self, newcomers: DeveloperPopulation) -> np.ndarray:
        """Append ``newcomers``; returns their indices."""
        start = len(self)
        for f in fields(self):
            setattr(self, f.name, np.concatenate([getattr(self, f.name),
                                                  getattr(newcomers, f.name)]))
        return np.arange(start, len(self))

    def choose_methods(self, developers: np.ndarray, detection: float, audit_yr: float,
                       penalty_multiple: float, params: DeveloperParams,
                       price: np.ndarray | None = None) -> np.ndarray:
        """Baseline inflation (claimed / verifiable - 1) of the method each developer picks
        for a new project, among ``params.baseline_methods`` (see :meth:`method_payoffs`)."""
        x = np.asarray(params.baseline_methods, dtype=float)
        payoff, _, _ = self.method_payoffs(developers, detection, audit_yr, penalty_multiple,
                                           params, price)
        return x[np.argmax(payoff, axis=1)]

    def planned_yield(self, developers: np.ndarray, detection: float, audit_yr: float,
                      penalty_multiple: float, params: DeveloperParams, years: np.ndarray,
                      price: np.ndarray | None = None) -> np.ndarray:
        """What each developer expects a verifiable tonne of a new project to bring over
        its crediting period (``years``, per developer), in credits at its type's price,
        under the method it would pick (:meth:`method_payoffs`): what they fetch relative
        to the type's price times one plus the method's yearly gain, weighted by the share
        of that gain expected to remain (each check that catches the method keeps
        ``inflation_kept_after_detection`` of its inflation, an audit resets it to 0), year
        by year at ``discount_rate`` (:func:`lasting_share`). 1 for a developer that would
        not inflate where buyers see no rating."""
        payoff, gain, caught = self.method_payoffs(developers, detection, audit_yr,
                                                   penalty_multiple, params, price)
        best = np.argmax(payoff, axis=1)
        pick = best[:, None]
        gain = np.take_along_axis(gain, pick, axis=1)[:, 0]
        cut = 1.0 - params.inflation_kept_after_detection
        remain = (1.0 - audit_yr) * (1.0 - caught[best] * cut)
        worth = 1.0 + gain * lasting_share(remain, params.discount_rate, years)
        return worth if price is None else worth * np.take_along_axis(price, pick, axis=1)[:, 0]

    def method_payoffs(self, developers: np.ndarray, detection: float, audit_yr: float,
                       penalty_multiple: float, params: DeveloperParams,
                       price: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per developer and baseline method (developers x methods), its expected payoff
        per verifiable tonne in a year; also per developer and method its gain, the extra
        credits it keeps per verifiable tonne in that year, and per method the chance that a
        check catches it.

        Per verifiable tonne, a method inflating by ``x`` yields ``1 + x`` credits if its
        claims pass; a check catches them with probability ``d_x = 1 - (1 - detection) ** (1
        + method_scrutiny * x)`` (aggressive baselines stand out), and a yearly audit with
        probability ``audit_yr`` takes the gain back with a fine of ``penalty_multiple``
        times it; each credit fetches ``price`` (per developer and method, relative to the
        type's price: what a credit of the rating the method would earn trades at, see
        :func:`vcm_sim.valuation.method_prices`; 1 where buyers see no rating);
        conscience and reputation cost ``conscience_cost * honesty * x**2``. The developer
        picks the method with the highest payoff, ``detection`` being what it expects of
        verifiers on average.
        """
        x = np.asarray(params.baseline_methods, dtype=float)
        caught = 1.0 - (1.0 - detection) ** (1.0 + params.method_scrutiny * x)
        gain = np.broadcast_to(x * (1.0 - caught - audit_yr * (1.0 + penalty_multiple)),
                               (len(developers), len(x)))
        credits = 1.0 + gain if price is None else (1.0 + gain) * price
        cost = params.conscience_cost * np.outer(self.honesty[developers], x ** 2)
        return credits - cost, gain, caught

    def candidates(self, rng: np.random.Generator, params: DeveloperParams, types: TypeTable,
                   area_spread: float) -> tuple[np.ndarray, np.ndarray]:
        """Developers in business that appraise a new project this month, each with
        probability ``invest_rate_yr / 12``, and the project's area (ha, lognormal around
        the type's median with sigma ``area_spread``). Whether each invests is the net
        present value of the project (:func:`project_npv`), known once its additionality
        (and with it its cost and the method its developer would pick) is drawn."""
        rate = params.invest_rate_yr / STEPS_PER_YEAR
        appraising = ((rng.random(len(self.specialty)) < rate) & self.active).nonzero()[0]
        kind = self.specialty[appraising]
        area = types.area[kind] * rng.lognormal(0.0, area_spread, len(appraising))
        return appraising, area

    def asks(self, seller: np.ndarray, forecast: np.ndarray, long_run_cost: np.ndarray,
             stock_years: np.ndarray, distress: np.ndarray, price_floor: float,
             noise: np.ndarray, params: DeveloperParams) -> np.ndarray:
        """Ask prices (USD per tCO2e) of developers ``seller`` for credits already issued.

        What it cost to produce them is sunk: a developer compares selling now with selling
        later. The price it expects to sell at later blends the market's (``forecast``, per
        type) with the price new supply needs in the long run (``long_run_cost``, per type,
        :func:`levelized_cost`), weighted by ``cost_anchor``; its credits would sell that
        much later as the market takes ``stock_years`` (per type) to absorb the stock
        developers hold, so the ask discounts it at ``discount_rate`` over that time (times
        ``carry_weight``). A
        developer drawing on its credit line asks ``1 - fire_sale_discount * distress`` of
        that (``distress`` 0-1 per developer), times its learnt :attr:`markup`. Never below
        the market's price floor.
        """
        kind = self.specialty[seller]
        if forecast.ndim == 1 and stock_years.ndim == 1:  # once per type, then per seller
            held = _held_value(forecast, long_run_cost, stock_years, params)[kind]
        else:
            held = _held_value(forecast[seller, kind] if forecast.ndim == 2 else forecast[kind],
                               long_run_cost[kind],
                               stock_years[seller, kind] if stock_years.ndim == 2
                               else stock_years[kind], params)
        urgency = 1.0 - params.fire_sale_discount * distress[seller]
        markup = self.markup[seller]
        return np.maximum(held * urgency * markup * noise, price_floor)

    def learn(self, seller: np.ndarray, offered: np.ndarray, sold: np.ndarray,
              rate: float) -> None:
        """Markups after a month's trade: sellers ``seller`` that sold all they ``offered``
        raise theirs by ``rate``; the others take it ``rate`` of the way back to 1, so a
        seller that found buyers keen tests how far they go, and one left with credits
        returns to what holding them is worth (Cliff's ZIP traders learn alike)."""
        markup = self.markup[seller]
        keen = (sold >= offered) & self.active[seller]  # a liquidator sells, it does not test
        self.markup[seller] = np.where(keen, markup * (1.0 + rate),
                                       1.0 + (markup - 1.0) * (1.0 - rate))

    def entrants(self, rng: np.random.Generator, params: DeveloperParams, types: TypeTable,
                 terms: NpvTerms, price: np.ndarray, fee_usd: float, pool: int) -> np.ndarray:
        """Specialties of the developers entering this month.

        The profitability index (NPV over up-front cost, :func:`project_npv`) of a median
        project of each type at ``price`` (per type, USD per tonne claimed) draws entrants: a
        Poisson number with mean ``entry_rate_yr / 12`` times ``pool`` (would-be entrants)
        times the mix-weighted index clipped to 0-2 (``terms`` as in :func:`project_npv`), each
        specialising in a type in proportion to its weighted index.
        """
        n_types = len(types.names)
        npv = project_npv(types, terms, slice(None), types.area, price, fee_usd)  # every type
        capex = types.capex_per_ha * types.area
        index = np.divide(npv, capex, out=np.zeros(n_types), where=capex > 0).clip(0.0, 2.0)
        pull = types.mix * index
        total = pull.sum()
        mean = params.entry_rate_yr / STEPS_PER_YEAR * pool * total
        n = int(rng.poisson(mean)) if mean > 0 else 0
        if not n:
            return np.zeros(0, dtype=np.int64)
        cdf = (pull / total).cumsum()
        return cdf.searchsorted(rng.random(n) * cdf[-1], side="right").clip(0, n_types - 1)


def _held_value(expected: np.ndarray, long_run_cost: np.ndarray, years: np.ndarray,
                params: DeveloperParams) -> np.ndarray:
    """What a credit held is worth now (USD per tCO2e): the price it is expected to sell at
    later (``expected`` blended with ``long_run_cost`` by ``cost_anchor``), discounted over
    the ``years`` (aligned) the market takes to absorb the stock, times ``carry_weight``
    (see :meth:`DeveloperPopulation.asks`)."""
    anchor = params.cost_anchor
    later = (1.0 - anchor) * expected + anchor * long_run_cost
    years = (params.carry_weight * years if params.carry_weight > 0
             else np.zeros(len(years)))  # a stock no one buys weighs nothing at weight 0
    return later * np.exp(-params.discount_rate * years)


@dataclass(frozen=True)
class NpvTerms:
    """Per type, the terms of a new project's net present value (:func:`project_npv`) that
    do not depend on the project, computed once for a type table and discounting."""

    kept: np.ndarray
    """Share of the tonnes left after leakage, ``1 - leakage``."""
    unbuffered: np.ndarray
    """Share of the credits left after the buffer, ``1 - buffer_share``."""
    present_value: np.ndarray
    """Present value of 1 USD a year over the crediting period, years."""

    @classmethod
    def of(cls, types: TypeTable, discount_rate: float, wait_years: float) -> NpvTerms:
        """Terms at ``discount_rate`` (per year), credits starting after ``wait_years`` (the
        validation pipeline)."""
        years = types.crediting_years
        annuity = ((1 - (1 + discount_rate) ** -years) / discount_rate if discount_rate > 0
                   else years)
        later = (1 + discount_rate) ** -wait_years
        return cls(1 - types.leakage, 1 - types.buffer_share, annuity * later)


def project_npv(types: TypeTable, terms: NpvTerms, kind: np.ndarray | slice, area: np.ndarray,
                price: np.ndarray, fee_usd: float, cost_factor: np.ndarray | float = 1.0
                ) -> np.ndarray:
    """Net present value (USD) of new projects of types ``kind`` and ``area`` (ha) at
    ``price`` (USD per verifiable tonne, aligned: a credit's price times the share of claims
    verifiers accept, times what the developer expects a verifiable tonne to bring,
    :meth:`DeveloperPopulation.planned_yield`): yearly tonnes (after leakage and buffer)
    times price, less running costs and the yearly verification fee, over the crediting
    period at the discount rate, starting after the validation pipeline (both in
    ``terms``), less the up-front cost paid now; both costs are the type's times
    ``cost_factor`` (per project, see :func:`vcm_sim.projects.opportunity_cost_factor`)."""
    credits_yr = area * types.rate[kind] * terms.kept[kind] * terms.unbuffered[kind]
    cash_yr = (credits_yr * price - types.opex_per_ha_yr[kind] * area * cost_factor
               - fee_usd)
    return terms.present_value[kind] * cash_yr - types.capex_per_ha[kind] * area * cost_factor


def lasting_share(remain: np.ndarray, discount_rate: float, years: np.ndarray) -> np.ndarray:
    """How much of a yearly gain that keeps a share ``remain`` of itself each year is worth
    over ``years`` against a gain that lasts, both discounted at ``discount_rate`` (per year;
    arrays aligned): ``sum_t (remain / (1 + r))**t`` over ``sum_t (1 / (1 + r))**t``, t = 0 to
    ``years - 1``. 1 when nothing is lost."""
    later = 1.0 / (1.0 + discount_rate)
    return _geometric(later * remain, years) / _geometric(np.full(len(years), later), years)


def _geometric(ratio: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``sum_t ratio**t`` for t = 0 to ``n - 1`` (arrays aligned; ratio 0 to 1)."""
    ratio = np.asarray(ratio, dtype=float)
    whole = ratio >= 1.0
    safe = np.where(whole, 0.0, ratio)
    return np.where(whole, n, (1.0 - safe ** n) / (1.0 - safe))


def levelized_cost(types: TypeTable, fee_usd: float, discount_rate: float,
                   wait_years: float = 0.0) -> np.ndarray:
    """Per type, the price (USD per tonne claimed) at which a median new project just pays:
    its up-front cost, grown at the discount rate over the ``wait_years`` before its credits
    start and spread over the crediting period, plus running cost and the yearly fee, over
    its yearly tonnes (after leakage and buffer)."""
    years = types.crediting_years
    recovery = (discount_rate / (1 - (1 + discount_rate) ** -years) if discount_rate > 0
                else 1.0 / years) * (1 + discount_rate) ** wait_years
    cost_yr = (types.capex_per_ha * recovery + types.opex_per_ha_yr) * types.area + fee_usd
    credits_yr = types.area * types.rate * (1 - types.leakage) * (1 - types.buffer_share)
    return np.divide(cost_yr, credits_yr, out=np.zeros(len(years)), where=credits_yr > 0)


def running_revenue_short(projects: Projects, types: TypeTable, ids: np.ndarray,
                          price: np.ndarray, fee_usd: float) -> np.ndarray:
    """Mask of projects ``ids`` whose yearly tonnes (as claimed, after the buffer) at the
    planned ``price`` (per type, USD per tonne claimed) no longer pay their yearly running
    cost (their type's times their :attr:`~vcm_sim.projects.Projects.cost_factor`) and
    verification fee: what is already spent is sunk, so these are worth
    abandoning."""
    kind = projects.kind[ids]
    area = projects.area_ha[ids]
    credits = (area * projects.rate[ids] * (1 - projects.leakage[ids])
               * (1 + projects.inflation[ids]) * (1 - types.buffer_share[kind]))
    opex = types.opex_per_ha_yr[kind] * area * projects.cost_factor[ids]
    return credits * price[kind] < opex + fee_usd


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
