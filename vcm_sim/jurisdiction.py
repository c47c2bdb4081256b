"""One market (a jurisdiction): its registry, cash book, rules, participants and prices.

A :class:`Jurisdiction` holds everything one market is: its scenario (rules, populations,
project types), the registry every credit movement of the market goes through, the cash book
in which its participants pay, the populations as arrays and their Mesa agents, its projects
and hidden truth, and its price expectations. :class:`~vcm_sim.model.VCMModel` owns one or
several and orders their months; a one-market scenario is one of them.

One month of a market reads as the world does (see ``DESIGN.md``):

1. nature: projects accrue tonnes, reversals destroy stored carbon, scheduled events fire;
2. MRV: projects due for verification are verified and the registry issues credits;
3. supply: developers abandon projects that no longer pay their running costs, invest in
   new ones (which start after a validation pipeline), and newcomers enter when new
   projects pay; developers pay running costs;
4. market: firms due to buy and developers (and traders) post orders; books are cleared per
   project type (and quality tier), trades settled;
5. claims: firms retire what they bought behind a claim; exposures become scandals;
6. oversight: the regulator audits projects; developers past their credit line go bankrupt;
7. record: the declared reporters of :mod:`vcm_sim.metrics` are recorded.

A market with a compliance ETS (:mod:`vcm_sim.ets`) also allocates allowances and lets its
covered firms emit (after nature), buy credits within the offset cap (in the market phase,
with everyone else's bids) and trade allowances (after it), and surrender at the deadline
(after claims).

Every credit movement goes through :attr:`Jurisdiction.registry`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd
from pydantic import ValidationError

from vcm_sim import article6, metrics, start, trading, valuation
from vcm_sim.agents import (EmittingFirm, ProjectDeveloper, Regulator, Trader, Verifier)
from vcm_sim.agents.base import Member
from vcm_sim.agents.developer import (DeveloperPopulation, NpvTerms, levelized_cost, project_npv,
                                      running_revenue_short)
from vcm_sim.agents.firm import FirmPopulation
from vcm_sim.agents.rater import A_OR_ABOVE, RaterPanel, RatingAgency
from vcm_sim.agents.trader import TraderPopulation
from vcm_sim.agents.verifier import VerifierPool
from vcm_sim.claims import Sentiment, exposure_probability
from vcm_sim.cash import SOURCES, TRANSFERS, USES, CashBook, Statement
from vcm_sim.drivers import driver_events
from vcm_sim.ets.reporters import ets_reporters
from vcm_sim.ets.system import EmissionsTrading
from vcm_sim.issuance import BatchTruth, Verification, grow_array, verify
from vcm_sim.labels import LabelBook, approve_in, batch_labels
from vcm_sim.projects import (STEPS_PER_YEAR, Projects, TypeTable, draw_region_hazard,
                              draw_reversals, opportunity_cost_factor,
                              registered_mean_additionality)
from vcm_sim.registry import BUFFER, Registry
from vcm_sim.segments import BANDS, Segments
from vcm_sim.scenario import Event, Scenario, ScenarioError, check_changeable, with_overrides
from vcm_sim.streams import SETUP, Streams
from vcm_sim.trading import Quotes
from vcm_sim.validation import describe

if TYPE_CHECKING:
    from vcm_sim.linking import Link


@dataclass
class Tally:
    """Cumulative flows that are not stocks in the registry (units in the names)."""

    abatement_tco2: float = 0.0
    over_claimed_tco2: float = 0.0
    detected_over_tco2: float = 0.0
    buffer_shortfall_tco2: float = 0.0
    reversed_tco2: float = 0.0
    abandoned_tco2: float = 0.0
    developer_revenue_usd: float = 0.0
    developer_cost_usd: float = 0.0
    verification_fees_usd: float = 0.0
    fines_usd: float = 0.0
    firm_credit_spend_usd: float = 0.0
    bought_ahead_tco2: int = 0
    """Credits firms bought for their next claim year (held until it opens)."""
    firm_abatement_cost_usd: float = 0.0
    scandals: int = 0
    exposures: int = 0
    developer_entries: int = 0
    developer_exits: int = 0
    projects_started: int = 0
    projects_abandoned: int = 0
    sold_abroad_tco2: int = 0
    arbitraged_tco2: int = 0
    bought_abroad_tco2: int = 0
    bought_abroad_real_tco2: float = 0.0
    transfer_cost_usd: float = 0.0
    claimed_tco2: int = 0
    claimed_real_tco2: float = 0.0
    adjusted_tco2: int = 0
    """Corresponding adjustments: authorised credits this market's registry transferred
    abroad, each a tonne its inventory no longer counts (see :mod:`vcm_sim.article6`)."""
    double_claimed_tco2: int = 0
    """Credits this market's buyers bought abroad without a corresponding adjustment and
    retired behind offsetting claims: tonnes the host's inventory counts too."""


def high_integrity_floor(notch_width: float) -> float:
    """Real tonnes per credit from which a credit is of high integrity: the floor of grade A
    on the rating scale (0.7 with notches of 0.1; see :mod:`vcm_sim.agents.rater`)."""
    return 1.0 - (A_OR_ABOVE + 1) * notch_width


def integrity_counts(kind: np.ndarray, real: np.ndarray, credits: np.ndarray, floor: float,
                     n_types: int) -> np.ndarray:
    """Per project type (columns), the ``credits`` with at least ``floor`` real tonnes each
    (row 0) and all of them (row 1); ``kind``, ``real`` (real tonnes per credit) and
    ``credits`` aligned."""
    high = credits * (real >= floor)  # whole credits: 0 where below the floor
    # Whole credits summed as floats are exact: the rows convert to int64 as they stack.
    return np.array([np.bincount(kind, weights=high, minlength=n_types),
                     np.bincount(kind, weights=credits, minlength=n_types)], dtype=np.int64)


class Jurisdiction:
    """One market: developers, firms, verifiers, a regulator and traders under one scenario.

    ``model`` is the Mesa model its agents belong to; ``config`` the market's scenario;
    ``streams`` its random streams; ``name`` its name (empty in a one-market scenario). Built,
    it stands at the first simulated month (burn-in included) with its past seeded
    (:func:`vcm_sim.start.seed_history`); the model runs its months with :meth:`open_month`,
    :meth:`trade_month` and :meth:`close_month`.
    """

    def __init__(self, model: mesa.Model, config: Scenario, streams: Streams,
                 name: str = "") -> None:
        self.model = model
        self.name = name
        self.config = config
        s = self.config
        self.streams = streams
        self.types = TypeTable.from_scenario(s)
        self.registry = Registry(name=name or "registry")
        approve_in(self.registry, s.rules.label)
        self.link: Link | None = None
        """The link to other markets (set by the model when its scenario links them)."""
        self.reporters: dict[str, Callable[[Jurisdiction], float]] = (
            metrics.REPORTERS | metrics.LINK_REPORTERS if name else metrics.REPORTERS)
        """What is recorded every month: :data:`vcm_sim.metrics.REPORTERS`, and in a
        scenario that declares markets :data:`vcm_sim.metrics.LINK_REPORTERS`."""
        self.projects = Projects()
        self.truth = BatchTruth()
        self.sentiment = Sentiment(len(self.types.names))
        self.tally = Tally()
        self._build_populations()
        self._open_accounts()
        self.ets = EmissionsTrading(self) if s.ets.enabled else None
        """The market's compliance ETS (None without one)."""
        if self.ets is not None:
            self.reporters = self.reporters | ets_reporters(s.ets)
        n_types = len(self.types.names)
        self.expected_price = self.types.initial_price.copy()
        self._expected_history = [self.expected_price.copy()]
        self.price_trend = np.zeros(n_types)
        self.forecast_price = self.expected_price.copy()
        self.long_run_price = self.expected_price.copy()
        self.demand_by_type = np.zeros(n_types, dtype=np.int64)
        self.issued_by_type = np.zeros(n_types, dtype=np.int64)
        """Credits issued so far per project type (buffer deposits included), like the
        registry's ``issued``: seeded past and burn-in included."""
        self.retired_by_type = np.zeros(n_types, dtype=np.int64)
        """Credits retired so far per project type, like the registry's ``retired``."""
        self.labels = LabelBook()
        """Which batches carry the integrity label, and labelled credits issued and retired."""
        self.price_by_type = np.full(n_types, np.nan)
        self.latest_price_by_type = np.full(n_types, np.nan)
        self.segments = Segments.of(self)
        """How the books split each project type (:mod:`vcm_sim.segments`)."""
        self._reset_books()
        self.acceptance = np.ones(n_types)
        """Per type, credits accepted per tonne claimed, as developers have seen it in
        verifications (:meth:`_learn_acceptance`); what they expect of their own claims."""
        self._new_projects: tuple[TypeTable | None, tuple, tuple[np.ndarray, NpvTerms] | None] = (
            None, (), None)
        self._unrated_yield: tuple = ((), None, None, None)
        self.price_index = np.nan
        self.price_history: list[np.ndarray] = []
        self.sales_history: list[int] = []
        """Credits traded each month."""
        self.claimed_months: list[list[int]] = []
        """Per month simulated: the credits retired in this registry behind claims, as [their
        ages at retirement (year minus vintage, years) summed, their number]."""
        self.claimed_quality: list[np.ndarray] = []
        """Per month simulated, per project type: the credits retired in this registry behind
        claims with the real tonnes of a credit rated A or above (hidden truth at retirement:
        :func:`high_integrity_floor`; row 0) and all of them (row 1)."""
        self.issued_quality = np.zeros((2, n_types), dtype=np.int64)
        """This month, per project type: the credits issued with the real tonnes of a credit
        rated A or above (hidden truth at issuance; row 0) and all of them (row 1)."""
        self.volume_by_type = np.zeros(n_types, dtype=np.int64)
        self.typical_volume = self.firms.expected_monthly_demand(
            s.firms, self.expected_price, self.sentiment.level, s.rules.market.offset_cap,
            n_types)
        self.issuance_open = True
        self.traded_month = (0.0, 0)
        """Value (USD) and volume (credits) of this month's trades."""
        self.adjusted_month = (0.0, 0)
        """Value (USD) and volume (credits) of the adjusted credits this month's trades
        delivered to this market's buyers (Article 6, see :mod:`vcm_sim.article6`)."""
        self.traded_by_type = np.zeros((2, n_types))
        """Value (USD, row 0) and volume (credits, row 1) per type of the trades in this
        market's books since recording started."""
        self.adjusted_by_type = np.zeros((2, n_types))
        """The same of the adjusted credits among them."""
        self.last_demand = 0
        self.region_hazard = draw_region_hazard(self.streams.get("fire_years", SETUP),
                                                s.nature.regions, s.nature.bad_year_probability,
                                                s.nature.bad_year_multiplier)
        self.fire_season = np.ones(s.nature.regions)
        self.fire_season_until = -1
        self._pending_events: list[dict] = ([e.model_dump() for e in s.events]
                                            + driver_events(s))
        self._monthly: dict[str, tuple[int, Any]] = {}
        """Figures computed once per month (:meth:`_once_a_month`): name -> (month, value)."""
        self.claimed_by_band = np.zeros((0, 3), dtype=np.int64)
        """Per batch this market issued, its credits retired behind claims since recording
        started under each rating band (rows grow with the batches; see
        :meth:`claims_by_rating`)."""
        self._retired_before = np.zeros(0, dtype=np.int64)
        self.imports: dict[Jurisdiction, tuple[list[int], list[int]]] = {}
        """Per market credits came from, the batches of this registry they arrived in and
        their batches in that market's registry (Article 6 transfers: their hidden truth is
        the origin's)."""
        self._imports_recorded_from: dict[Jurisdiction, int] = {}
        self.first_recorded_batch = 0
        self._rows: list[dict[str, float]] = []
        self.cash_statements: list[Statement] = []
        """The cash-flow statement of each recorded month (see :mod:`vcm_sim.cash`)."""
        self._month = self.first_month - 1
        self._seed_projects()
        start.seed_history(self)
        self.first_run_batch = len(self.registry.batches)
        """The first batch issued in a simulated month (burn-in included): those before it
        are the seeded past's."""

    # -- construction ------------------------------------------------------------------------

    def _build_populations(self) -> None:
        s, mix = self.config, self.types.mix
        pop = s.population

        def setup(name: str) -> np.random.Generator:
            return self.streams.get(name, SETUP)
        self.firms = FirmPopulation.create(setup("firms"), pop.firms, s.firms,
                                           self.types.credit_mix, self.types.buyer_value)
        self.developers = DeveloperPopulation.create(setup("developers"), pop.developers,
                                                     s.developers, mix, s.nature.regions,
                                                     self.first_month)
        self.verifiers = VerifierPool.create(setup("verifiers"), pop.verifiers, s.verifiers)
        self.traders = TraderPopulation.create(setup("traders"), pop.traders, s.traders,
                                               self.types.credit_mix)
        self.raters = RaterPanel.create(setup("ratings"), pop.raters, s.rating_agencies)
        model = self.model
        self.firm_agents = EmittingFirm.create_agents(model, pop.firms, index=np.arange(pop.firms),
                                                      market=self)
        self.developer_agents = ProjectDeveloper.create_agents(
            model, pop.developers, index=np.arange(pop.developers), market=self)
        self.verifier_agents = Verifier.create_agents(model, pop.verifiers,
                                                      index=np.arange(pop.verifiers), market=self)
        self.trader_agents = Trader.create_agents(model, pop.traders,
                                                  index=np.arange(pop.traders), market=self)
        self.rater_agents = RatingAgency.create_agents(model, pop.raters,
                                                       index=np.arange(pop.raters), market=self)
        self.regulator = Regulator(model, 0, self)

    def _open_accounts(self) -> None:
        s = self.config
        starting = {ProjectDeveloper: s.developers.initial_cash_usd,
                    Trader: s.traders.initial_cash_usd}
        opening = [0.0]  # the buffer pool
        for agent in self.members():
            self.registry.open_account(agent.account)
            opening.append(float(starting.get(type(agent), 0.0)))
        self.cash = CashBook(self.registry.accounts, opening)
        self.developer_accounts = [a.account for a in self.developer_agents]
        self.firm_accounts = [a.account for a in self.firm_agents]
        self.trader_accounts = [a.account for a in self.trader_agents]
        self.verifier_accounts = [a.account for a in self.verifier_agents]
        self.developer_ids = self.cash.ids(self.developer_accounts)
        self.firm_ids = self.cash.ids(self.firm_accounts)
        self.trader_ids = self.cash.ids(self.trader_accounts)
        self.verifier_ids = self.cash.ids(self.verifier_accounts)

    def members(self) -> list[Member]:
        """The market's agents in the order they were created: firms, developers,
        verifiers, traders, the regulator (the order of its accounts)."""
        return [*self.firm_agents, *self.developer_agents, *self.verifier_agents,
                *self.trader_agents, self.regulator]

    def _seed_projects(self) -> None:
        """Projects running before the first simulated month, staggered in age and in
        month of verification (their past is written by :func:`vcm_sim.start.seed_history`)."""
        s = self.config
        rng = self.streams.get("projects", SETUP)
        n = s.developers.initial_projects * s.population.developers
        dev = np.repeat(np.arange(s.population.developers), s.developers.initial_projects)
        age = rng.integers(0, s.projects.initial_age_years * STEPS_PER_YEAR, n)
        kind = self.developers.specialty[dev]
        area = self.types.area[kind] * rng.lognormal(0.0, s.projects.area_spread, n)
        self._register(dev, area, self._draw_additionality(kind, rng),
                       start=self.first_month - age, rng=rng)

    def _draw_additionality(self, kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Additionality (0-1, the share of a claimed tonne that is additional) of new
        projects of types ``kind``: Beta around the type's mean
        (``projects.additionality_concentration``). Its developer knows it when it appraises
        the project; verifiers and buyers do not."""
        k = self.config.projects.additionality_concentration
        mean = self.types.additionality[kind].clip(1e-3, 1 - 1e-3)
        return rng.beta(mean * k, (1 - mean) * k)

    def _cost_factor(self, kind: np.ndarray, additionality: np.ndarray) -> np.ndarray:
        """Costs of projects of types ``kind`` and ``additionality`` relative to their type's
        (:func:`~vcm_sim.projects.opportunity_cost_factor`), normalised by the mean
        additionality of the type's projects that pass the additionality test, so that the
        registered projects of a type cost its table's costs on average."""
        s = self.config
        share = s.projects.opportunity_cost_share
        if not share:
            return np.ones(len(kind))
        rules = s.rules.integrity
        mean = registered_mean_additionality(
            self.types.additionality.clip(1e-3, 1 - 1e-3), s.projects.additionality_concentration,
            rules.additionality_threshold, rules.additionality_strictness)
        return opportunity_cost_factor(share, additionality, mean[kind])

    def expected_detection(self) -> float:
        """The chance developers expect a verifier's check to catch inflation, on average
        under the market's verification rules."""
        s = self.config
        rules = s.rules.integrity
        return self.verifiers.expected_detection(rules.verifier_assignment,
                                                 rules.verification_rigour,
                                                 rules.satellite_mrv,
                                                 s.verifiers.satellite_boost)

    def _register(self, dev: np.ndarray, area: np.ndarray, additionality: np.ndarray,
                  start: np.ndarray | int, rng: np.random.Generator) -> np.ndarray:
        """Register projects of developers ``dev`` with ``area`` (ha) and ``additionality``,
        drawing their other attributes from ``rng``; the additionality test may reject some.
        Returns the mask of the projects registered."""
        s, types = self.config, self.types
        rules = s.rules.integrity
        kind = self.developers.specialty[dev]
        rejected = ((additionality < rules.additionality_threshold)
                    & (rng.random(len(dev)) < rules.additionality_strictness))
        keep = ~rejected
        dev, kind, area, additionality = dev[keep], kind[keep], area[keep], additionality[keep]
        start = np.broadcast_to(np.asarray(start), keep.shape)[keep]
        if not len(dev):
            return keep
        inflation = self.developers.choose_methods(
            dev, self.expected_detection(), rules.project_audit_rate, rules.penalty_multiple,
            s.developers, valuation.method_prices(self, kind, additionality))
        years = types.crediting_years[kind]
        ids = np.arange(len(self.projects), len(self.projects) + len(dev))
        self.projects.add(
            authorised=article6.authorised(ids, s.rules.article6.authorised_share),
            kind=kind, developer=dev, region=self._regions(dev, rng), area_ha=area,
            rate=types.rate[kind] * rng.lognormal(0.0, s.projects.rate_spread, len(dev)),
            additionality=additionality, leakage=types.leakage[kind], inflation=inflation,
            cost_factor=self._cost_factor(kind, additionality),
            registered_step=np.minimum(start, self._month),
            start_step=start, end_step=start + (years * STEPS_PER_YEAR).astype(np.int64),
            verify_month=rng.integers(0, STEPS_PER_YEAR, len(dev)),
            verifier=np.full(len(dev), -1))
        return keep

    def _regions(self, dev: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Most projects sit in their developer's home region; some elsewhere."""
        elsewhere = rng.random(len(dev)) < self.config.projects.outside_home_share
        other = rng.integers(0, self.config.nature.regions, len(dev))
        return np.where(elsewhere, other, self.developers.home_region[dev])

    # -- the step ----------------------------------------------------------------------------

    @property
    def first_month(self) -> int:
        """Month index of the first simulated month: ``-burn_in`` (0 without burn-in)."""
        return -self.config.burn_in

    @property
    def month_index(self) -> int:
        """Index of the month being run (or last run), in months from the first recorded
        month: negative during burn-in, 0 for the first month in :meth:`results`. Mesa's
        ``steps`` and ``time`` count recorded months only."""
        return self._month

    @property
    def year(self) -> int:
        """Calendar year of the current step (see :meth:`year_of`)."""
        return self.year_of(self.month_index)

    def year_of(self, month: int | np.ndarray) -> int | np.ndarray:
        """Calendar year of month index ``month`` (or of each of an array of them):
        ``start_year`` is the first recorded year; burn-in months and the seeded past fall
        in the years before it."""
        return self.config.start_year + month // STEPS_PER_YEAR

    def draws(self, name: str) -> np.random.Generator:
        """This month's generator of stream ``name`` (see :mod:`vcm_sim.streams`)."""
        return self.streams.get(name, self._month - self.first_month)

    def open_month(self) -> None:
        """The first phases of the market's next month, up to its market: nature, MRV,
        supply, running costs. The model then runs :meth:`trade_month` and
        :meth:`close_month` (of every market in turn, so that linked markets see each other's
        prices and offers of the same month)."""
        self._month += 1
        t = self._month
        self.registry.step = t
        self.claimed_months.append([0, 0])
        self.claimed_quality.append(np.zeros((2, len(self.types.names)), dtype=np.int64))
        self.issued_quality = np.zeros((2, len(self.types.names)), dtype=np.int64)
        self._nature(t)
        if self.ets is not None:
            self.ets.open_month(t)
        self._mrv(t)
        self._supply(t)
        if len(self.rater_agents):
            self.raters.cover_new(self.draws("ratings"), len(self.projects))
        self._pay_running_costs()

    def trade_month(self) -> None:
        """The market phase of the month :meth:`open_month` opened."""
        self._market(self._month)

    def close_month(self, record: bool) -> None:
        """The last phases of the month: claims, audits, bankruptcies and wind-downs;
        ``record`` appends its row of reporters (burn-in months are not recorded)."""
        t = self._month
        self._claims(t)
        if self.ets is not None:
            self.ets.close_month(t)
        self.regulator.audit_projects()
        self._bankruptcies(t)
        self._wind_downs(t)
        if record:
            self._record()
        statement = self.cash.close_month()
        if record:
            self.cash_statements.append(statement)
        if self.config.debug:
            statement.check()
            self.registry.check()
            if not np.array_equal(self.cash.ids(self.registry.accounts),
                                  np.arange(len(self.cash.balance))):
                raise AssertionError("cash book positions are not the registry's account ids")
            if self.ets is not None:
                self.ets.check()
            retired = self.registry.per_batch("retired")[self.issued_here()]
            if not np.array_equal(self.truth.view("retired"), retired):
                raise AssertionError("the model's retirement mirror disagrees with the registry")
            if (self.issued_by_type.sum(), self.retired_by_type.sum()) != (
                    self.registry.totals()["issued"], retired.sum()):
                raise AssertionError("the per-type tallies disagree with the registry's totals")

    def _nature(self, t: int) -> None:
        s = self.config
        if t % STEPS_PER_YEAR == 0:
            self.region_hazard = draw_region_hazard(self.draws("fire_years"), s.nature.regions,
                                                    s.nature.bad_year_probability,
                                                    s.nature.bad_year_multiplier)
            self.new_verification_year()
        for event in [e for e in self._pending_events if e["step"] == t]:
            self.regulator.apply_event(event["kind"], event["project_type"], event["severity"],
                                       event["path"], event["value"])
        self._pending_events = [e for e in self._pending_events if e["step"] != t]
        self.firms.grow(s.firms.emissions_growth_yr)
        level = self.sentiment.level
        self.firms.adopt_pledges(self.draws("firms"), s.firms,
                                 self.firms.affordability(self.forecast_price, level),
                                 self.sentiment.confidence)
        self.projects.accrue(t)
        self.reversals(self.draws("reversals"))
        self.sentiment.recover(s.sentiment.recovery_per_month)

    def new_verification_year(self) -> None:
        """January: verifiers' capacity resets and leniency drifts (see
        :meth:`~vcm_sim.agents.verifier.VerifierPool.new_year`)."""
        rules = self.config.rules.integrity
        self.verifiers.new_year(rules.verifier_assignment, rules.verification_rigour,
                                self.config.verifiers)

    def reversals(self, rng: np.random.Generator) -> None:
        """This month's reversals, drawn from ``rng``: a reversal destroys a share of a
        project's credited carbon still standing; the registry cancels as many buffer
        credits, as far as the pool holds, and what it cannot cover is lost from the
        project's credits (their real tonnes fall)."""
        if self.month_index >= self.fire_season_until:
            self.fire_season[:] = 1.0
        ids, lost = draw_reversals(rng, self.projects, self.types,
                                   self.region_hazard * self.fire_season,
                                   self.config.nature.hazard_multiplier,
                                   self.config.projects.severity_concentration)
        projects = self.projects
        for p, share in zip(ids.tolist(), lost.tolist()):
            required = int(round(projects.at_risk[p] * share))
            projects.at_risk[p] -= required
            self.tally.reversed_tco2 += required
            uncovered = required - self._cancel_from_buffer(required, p)
            self.tally.buffer_shortfall_tco2 += uncovered
            self.truth.write_off(p, uncovered)

    def _cancel_from_buffer(self, required: int, project: int, cause: str = "reversal") -> int:
        return self.registry.draw_down(BUFFER, required, f"{cause} of project {project}")

    def _mrv(self, t: int) -> None:
        """Verification of the projects due this month; developers pay the fees."""
        if not self.issuance_open:
            return
        result, developer = self.verify_due(t, self.draws("verifier_choice"),
                                            self.draws("verification"))
        if result is None:
            return
        fees = self.verifiers.fee_usd[result.verifier]
        self.cash.pay(self.developer_ids[developer], self.verifier_ids[result.verifier], fees,
                      "verification_fees")
        fees_usd = float(fees.sum())
        self.tally.developer_cost_usd += fees_usd
        self.tally.verification_fees_usd += fees_usd
        self.issue(result, developer)

    def verify_due(self, t: int, choice: np.random.Generator, check: np.random.Generator
                   ) -> tuple[Verification | None, np.ndarray]:
        """Verify the projects whose verification month is ``t``, who have at least a tonne
        pending and whose pending credits would pay the fee at the price their developer
        plans with (the others defer to next year, their tonnes still pending): assign
        verifiers, verify, cut the inflation of those caught. Returns the verification (None
        if nobody was due or no verifier had room) and each verified project's developer;
        issuance is the caller's. Verifiers are chosen with draws from ``choice``, claims
        checked with draws from ``check``: one row for every project registered, by id, drawn
        on every call, so two runs that share projects draw the same rows for them whichever
        of them each run verifies."""
        s, projects = self.config, self.projects
        rules = s.rules.integrity
        draw = check.random((len(projects), 3))
        noise = choice.random((len(projects), len(self.verifiers.rigour)))
        due = ((projects.verify_month == t % STEPS_PER_YEAR)
               & (projects.pending_verifiable >= 1.0)
               & (projects.start_step <= t)).nonzero()[0]
        kind = projects.kind[due]
        worth = (projects.pending_verifiable[due] * (1.0 + projects.inflation[due])
                 * (1.0 - self.types.buffer_share[kind]) * self.forecast_price[kind])
        due = due[worth >= s.verifiers.fee_usd]
        if not len(due):
            return None, due
        detect = self.verifiers.detection(slice(None), rules.verification_rigour,
                                          rules.satellite_mrv, s.verifiers.satellite_boost)
        verifier = self.verifiers.assign(noise[due], projects.inflation[due] > 0,
                                         rules.verifier_assignment, detect, s.verifiers)
        taken = verifier >= 0
        due, verifier = due[taken], verifier[taken]
        if not len(due):
            return None, due
        result = verify(draw[due], due, verifier, projects.pending_verifiable[due],
                        projects.inflation[due], projects.additionality[due], detect[verifier],
                        s.developers.method_scrutiny, s.verifiers.baseline_error_sd)
        self._learn_acceptance(projects.kind[due], result)
        self.tally.over_claimed_tco2 += float(result.over_claimed.sum())
        self.tally.detected_over_tco2 += float(result.cut.sum())
        projects.submit(due)
        projects.verifier[due] = verifier
        if result.detected.any():
            self.raters.evidence(projects, due[result.detected])
            kept = s.developers.inflation_kept_after_detection
            projects.inflation[due[result.detected]] *= kept
        return result, projects.developer[due]

    def _learn_acceptance(self, kind: np.ndarray, result: Verification) -> None:
        """Developers update :attr:`acceptance` from a verification round: per type verified,
        the credits accepted over the tonnes claimed, weighted in as ``price_weight`` weighs
        a month's price."""
        n = len(self.types.names)
        claimed = np.bincount(kind, weights=result.claimed, minlength=n)
        accepted = np.bincount(kind, weights=result.accepted, minlength=n)
        seen = claimed > 0
        ratio = np.divide(accepted, claimed, out=np.ones(n), where=seen)
        w = self.config.expectations.price_weight
        self.acceptance = np.where(seen, (1 - w) * self.acceptance + w * ratio, self.acceptance)

    def issue(self, result: Verification, developer: np.ndarray) -> None:
        """Issue the accepted credits of a verification round, one batch per project whose
        vintage is the year its tonnes were captured (of the month their tonne-weighted mean
        capture falls in: registries split a monitoring period that straddles two years into
        two vintages, the model keeps one batch), the type's buffer share to the pool, the
        label if its type is approved (:mod:`vcm_sim.labels`), and record their hidden
        truth."""
        issued = result.accepted >= 1
        project, quantity = result.project[issued], result.accepted[issued]
        if not len(project):
            return
        kind = self.projects.kind[project]
        labels = batch_labels(self.config.rules.label, kind)
        names = self.types.names
        vintage = self.year_of(self.projects.vintage_month(project))
        batch = self.registry.issue_many(
            [f"project-{p}" for p in project.tolist()], vintage, quantity,
            [self.developer_accounts[d] for d in developer[issued].tolist()],
            self.types.buffer_share[kind], labels,
            None if labels is None else [names[k] for k in kind.tolist()])
        self.labels.record_issue(batch, labels, quantity)
        real = result.real_per_credit[issued]
        self.issued_quality += integrity_counts(
            kind, real, quantity, high_integrity_floor(self.config.rating_agencies.notch_width),
            len(names))
        self.truth.extend(batch, project, quantity, real, result.over_credited[issued],
                          result.verifier[issued], vintage)
        np.add.at(self.issued_by_type, kind, quantity)
        self.projects.credited[project] += quantity
        self.projects.at_risk[project] += quantity

    def _supply(self, t: int) -> None:
        """Abandonment, investment and entry (see :meth:`abandon_unprofitable`,
        :meth:`_invest`, :meth:`_enter`), all at the price per claimed tonne developers
        expect in the long run: :meth:`developer_outlook` times the share of claims accepted."""
        outlook = self.developer_outlook() * self.acceptance
        self.abandon_unprofitable(t, outlook)
        self._invest(t, outlook)
        self._enter(t, outlook)

    def abandon_unprofitable(self, t: int, outlook: np.ndarray) -> np.ndarray:
        """Once a year, in each running project's verification month, its developer
        abandons it if its yearly credits at the price it expects in the long run
        (``outlook``, per type, USD per claimed tonne) no longer pay its running cost and
        verification fee (what it cost to start is sunk). Returns the projects abandoned (see
        :meth:`abandon`)."""
        projects = self.projects
        review = (projects.verify_month == t % STEPS_PER_YEAR).nonzero()[0]
        review = review[(projects.start_step[review] <= t) & (t < projects.end_step[review])]
        short = running_revenue_short(projects, self.types, review, outlook,
                                      self.config.verifiers.fee_usd)
        return self.abandon(review[short], t)

    def developer_outlook(self) -> np.ndarray:
        """Per type, the price (USD per tCO2e) developers expect in the long run: the mean
        expected price of the last twelve months and the levelized cost of new supply
        (:func:`~vcm_sim.agents.developer.levelized_cost`), weighted by ``cost_anchor``, as
        in their asks."""
        anchor = self.config.developers.cost_anchor
        return (1.0 - anchor) * self.long_run_price + anchor * self.new_supply_cost()

    def pipeline_years(self) -> float:
        """Mean validation pipeline of a new project, years: how long its credits wait."""
        p = self.config.projects
        return (p.pipeline_months_min + p.pipeline_months_max) / 2 / STEPS_PER_YEAR

    def new_supply_cost(self) -> np.ndarray:
        """Per type, the price (USD per credit) at which a median new project just pays
        (:func:`~vcm_sim.agents.developer.levelized_cost`), with its claims accepted at the
        rate developers have seen (:attr:`acceptance`)."""
        return self._new_project_terms()[0] / np.maximum(self.acceptance, 1e-9)

    def _new_project_terms(self) -> tuple[np.ndarray, NpvTerms]:
        """Per type, the levelized cost of a median new project (USD per tonne claimed,
        :func:`~vcm_sim.agents.developer.levelized_cost`) and the terms of a new project's
        NPV (:class:`~vcm_sim.agents.developer.NpvTerms`), computed again only when the type
        table, the fee, the discount rate or the pipeline changes (set_rule may change them
        mid-run)."""
        key = (self.config.verifiers.fee_usd, self.config.developers.discount_rate,
               self.pipeline_years())
        types, known, terms = self._new_projects
        if terms is None or types is not self.types or known != key:
            terms = levelized_cost(self.types, *key), NpvTerms.of(self.types, *key[1:])
            self._new_projects = self.types, key, terms
        return terms

    def abandon(self, ids: np.ndarray, t: int) -> np.ndarray:
        """Abandon projects ``ids`` from month ``t``: they stop accruing (tonnes pending
        verification are lost), and the carbon behind their credits still standing counts as
        reversed: the registry cancels as many buffer credits as the pool holds, and what it
        cannot cover is lost from the projects' credits. Returns ``ids``."""
        if not len(ids):
            return ids
        projects = self.projects
        projects.end_step[ids] = np.minimum(projects.end_step[ids], t)
        projects.drop_pending(ids)
        for p in ids.tolist():
            required = int(projects.at_risk[p])
            projects.at_risk[p] = 0
            self.tally.abandoned_tco2 += required
            uncovered = required - self._cancel_from_buffer(required, p, "abandonment")
            self.tally.buffer_shortfall_tco2 += uncovered
            self.truth.write_off(p, uncovered)
        self.tally.projects_abandoned += len(ids)
        return ids

    def _invest(self, t: int, outlook: np.ndarray) -> None:
        """Developers appraising a project this month draw it (area and additionality, so
        its costs) and invest when its net present value at the long-run price
        (``outlook``, per type, USD per claimed tonne) times what they expect a verifiable
        tonne of it to bring (:meth:`_planned_yield`) is positive and they can pay the
        up-front cost; they pay only for projects the additionality test accepts."""
        s = self.config
        dev, area = self.developers.candidates(self.draws("developers"), s.developers,
                                               self.types, s.projects.area_spread)
        if not len(dev):
            return
        rng = self.draws("projects")
        kind = self.developers.specialty[dev]
        additionality = self._draw_additionality(kind, rng)
        factor = self._cost_factor(kind, additionality)
        price = outlook[kind] * self._planned_yield(dev, kind, additionality)
        npv = project_npv(self.types, self._new_project_terms()[1], kind, area, price,
                          s.verifiers.fee_usd, factor)
        capex = self.types.capex_per_ha[kind] * area * factor
        go = (npv > 0) & (self.cash.balance[self.developer_ids[dev]] >= capex)
        self._start_projects(dev[go], area[go], additionality[go], capex[go], t, rng)

    def _planned_yield(self, dev: np.ndarray, kind: np.ndarray,
                       additionality: np.ndarray) -> np.ndarray:
        """What each developer of ``dev`` expects a verifiable tonne of its new project (of
        type ``kind`` and ``additionality``) to bring over its crediting period, in credits
        at the type's price, under the method it would pick
        (:meth:`~vcm_sim.agents.developer.DeveloperPopulation.planned_yield`)."""
        prices = valuation.method_prices(self, kind, additionality)
        if prices is None:
            return self._unrated_planned_yield()[dev]
        s = self.config
        rules = s.rules.integrity
        return self.developers.planned_yield(
            dev, self.expected_detection(), rules.project_audit_rate, rules.penalty_multiple,
            s.developers, self.types.crediting_years[kind], prices)

    def _unrated_planned_yield(self) -> np.ndarray:
        """Per developer, its planned yield where buyers see no rating (every method's
        credits at the type's price), which depends only on the developer (its honesty and
        type, fixed for its life) and on the rules, verifiers and settings it plans with:
        computed again only when one of those changes or developers enter."""
        s = self.config
        rules = s.rules.integrity
        detection = self.expected_detection()
        terms = (detection, rules.project_audit_rate, rules.penalty_multiple,
                 len(self.developers))
        known, params, types, planned = self._unrated_yield
        if planned is None or known != terms or params is not s.developers \
                or types is not self.types:
            planned = self.developers.planned_yield(
                np.arange(len(self.developers)), detection, rules.project_audit_rate,
                rules.penalty_multiple, s.developers,
                self.types.crediting_years[self.developers.specialty])
            self._unrated_yield = terms, s.developers, self.types, planned
        return planned

    def _start_projects(self, dev: np.ndarray, area: np.ndarray, additionality: np.ndarray,
                        capex: np.ndarray, t: int, rng: np.random.Generator) -> None:
        """Register new projects of ``dev`` (areas in ha, additionality, up-front costs in
        USD), each starting to accrue after its validation pipeline; the developers pay the
        up-front cost of those the additionality test accepts."""
        if not len(dev):
            return
        variation = self.config.projects
        pipeline = rng.integers(variation.pipeline_months_min,
                                variation.pipeline_months_max + 1, len(dev))
        registered = self._register(dev, area, additionality, start=t + 1 + pipeline, rng=rng)
        paid = capex[registered]
        self.tally.projects_started += int(registered.sum())
        self.cash.spend(self.developer_ids[dev[registered]], paid, "capex")
        self.tally.developer_cost_usd += float(paid.sum())

    def _enter(self, t: int, outlook: np.ndarray) -> None:
        """Newcomers enter when new projects pay at the long-run price (``outlook``, per
        type, USD per claimed tonne; see
        :meth:`~vcm_sim.agents.developer.DeveloperPopulation.entrants`): each opens accounts
        with ``initial_cash_usd`` of equity and starts a project of its type at once."""
        s = self.config
        rng = self.draws("entry")
        kind = self.developers.entrants(rng, s.developers, self.types,
                                        self._new_project_terms()[1], outlook,
                                        s.verifiers.fee_usd, s.population.developers)
        if not len(kind):
            return
        one_type = np.eye(len(self.types.names))
        newcomers = [DeveloperPopulation.create(rng, 1, s.developers, one_type[k],
                                                s.nature.regions, t)
                     for k in kind.tolist()]
        new = np.concatenate([self.developers.extend(n) for n in newcomers])
        for d in new.tolist():
            agent = ProjectDeveloper(self.model, d, self)
            self.registry.open_account(agent.account)
            self.cash.open(agent.account, s.developers.initial_cash_usd)
            self.developer_accounts.append(agent.account)
            self.developer_agents.add(agent)
        self.developer_ids = self.cash.ids(self.developer_accounts)
        self.tally.developer_entries += len(new)
        area = self.types.area[kind] * rng.lognormal(0.0, s.projects.area_spread, len(new))
        additionality = self._draw_additionality(kind, rng)
        capex = self.types.capex_per_ha[kind] * area * self._cost_factor(kind, additionality)
        ok = self.cash.balance[self.developer_ids[new]] >= capex
        self._start_projects(new[ok], area[ok], additionality[ok], capex[ok], t, rng)

    def _bankruptcies(self, t: int) -> None:
        """Developers in business whose cash is below minus their credit line exit: each of
        their running or planned projects passes to the developer of the same type in
        business with most cash, if any has cash, or is abandoned; their credits stay in
        their account, which a liquidator sells off at a fire-sale price."""
        s = self.config
        devs = self.developers
        cash = self.cash.balance[self.developer_ids]
        broke = (devs.active & (cash < -s.developers.credit_line_usd)).nonzero()[0]
        if not len(broke):
            return
        devs.active[broke] = False
        self.tally.developer_exits += len(broke)
        projects = self.projects
        for d in broke.tolist():
            ids = ((projects.developer == d) & (projects.end_step > t)).nonzero()[0]
            heir = self.heir(d)
            if heir is None:
                self.abandon(ids, t)
            else:
                projects.developer[ids] = heir

    def _wind_downs(self, t: int) -> None:
        """Developers in business with no project running or in the pipeline and no credits
        left close down (their cash goes to their owners): a shell stays out of the market's
        counts until it would enter again as a newcomer."""
        devs = self.developers
        projects = self.projects
        live = np.bincount(projects.developer[projects.end_step > t], minlength=len(devs))
        idle = (devs.active & (live == 0)).nonzero()[0]
        held = self.registry.held(self.developer_ids[idle])
        idle = idle[held == 0]
        devs.active[idle] = False
        self.tally.developer_exits += len(idle)

    def heir(self, developer: int) -> int | None:
        """The developer in business of ``developer``'s type with most cash, if it has any:
        who takes over a bankrupt's projects."""
        devs = self.developers
        same = (devs.active & (devs.specialty == devs.specialty[developer])).nonzero()[0]
        if not len(same):
            return None
        cash = self.cash.balance[self.developer_ids[same]]
        best = int(np.argmax(cash))
        return int(same[best]) if cash[best] > 0 else None

    def _pay_running_costs(self) -> None:
        """Every developer pays this month's operating cost of its active projects."""
        opex = self._running_costs()
        self.tally.developer_cost_usd += float(opex.sum())
        self.cash.spend(self.developer_ids, opex, "opex")

    def _running_costs(self) -> np.ndarray:
        """This month's operating cost of each developer's active projects (USD)."""
        projects = self.projects
        active = projects.active(self.month_index)
        yearly = (self.types.opex_per_ha_yr[projects.kind] * projects.area_ha
                  * projects.cost_factor)
        cost = yearly / STEPS_PER_YEAR
        return np.bincount(projects.developer[active], weights=cost[active],
                           minlength=len(self.developers.specialty))

    # -- market ------------------------------------------------------------------------------

    def _market(self, t: int) -> None:
        s = self.config
        rules = s.rules
        month = t % STEPS_PER_YEAR
        opening = self.firms.open_claim_year(month)
        if s.firms.buy_ahead_response:
            self._retire_held(opening)
        if self.link is None:
            stock, abroad = trading.Stock.of(self), None
        else:  # read before any linked market cleared this month
            stock, abroad = self.link.prepared(self)
        buying = self.firms.buying(self.draws("purchases"), month, s.firms, self.price_trend,
                                   rules.disclosure.claim_standard)
        demand = self.firms.demand(self.draws("firms"), buying, s.firms, self.forecast_price,
                                   self.sentiment.level, rules.market.offset_cap,
                                   self.types.credit_mix,
                                   trading.on_offer(self, stock,
                                                    None if abroad is None else abroad.orders))
        if self.segments.on:
            valuation.choose_segments(self, demand, stock.offered_books, stock.age_books,
                                      self.draws("firms"))
        self.last_demand = int(demand.quantity.sum())
        self.demand_by_type = np.bincount(demand.kind, weights=demand.quantity,
                                          minlength=len(self.types.names)).astype(np.int64)
        self.adjusted_month = (0.0, 0)
        value, volume, bought, quotes = trading.trade(self, demand, stock, abroad)
        self.traded_month = (float(value.sum()), int(volume.sum()))
        n = self.segments.n
        by_type = ((value, volume) if n == 1  # one book per type: the type's sums are its own
                   else (value.reshape(-1, n).sum(axis=1), volume.reshape(-1, n).sum(axis=1)))
        self.traded_by_type[0] += by_type[0]
        self.traded_by_type[1] += by_type[1]
        abated = np.maximum(demand.target - self.firms.covered[demand.firm] - bought, 0.0)
        self.tally.abatement_tco2 += float(abated.sum())
        self.tally.firm_abatement_cost_usd += float(
            self.firms.abatement_cost(demand.firm, demand.target, abated).sum())
        self._update_prices(value, volume, *by_type, quotes)
        if self.ets is not None:
            self.ets.clear_allowances(self.draws("ets"))

    def _retire_held(self, firm: np.ndarray) -> None:
        """Firms ``firm``, whose claim year opens, retire the credits they hold (bought ahead
        for it) behind the new claim, as far as they still claim (a pledge; a net-zero one
        under the 'sbti' standard), the claim needs them (the credits of their target at the
        price they plan with, for their favourite type) and the claim rules admit them (a
        vintage cut-off, a label): those count as :attr:`~FirmPopulation.covered`. The rest
        stays in the firm's account (``held_by_firms``) for a later claim."""
        s, firms = self.config, self.firms
        firm = firm[firms.claiming(s.rules.disclosure.claim_standard)[firm]]
        eligible = trading.claim_filter(self)
        held = self.registry.held(self.firm_ids[firm], eligible)
        if not held.any():
            return
        kind = firms.favourite_kind[firm]
        target, share = firms.plan(s.firms, firm, kind, self.forecast_price,
                                   self.sentiment.level, s.rules.market.offset_cap)
        used = np.minimum(held, np.floor(share * target)).astype(np.int64)
        retiring = used > 0
        firm, used = firm[retiring], used[retiring]
        trading.deliver_own(self, self.firm_ids[firm], used, firm, eligible)
        firms.covered[firm] = used

    def _update_prices(self, value: np.ndarray, volume: np.ndarray, type_value: np.ndarray,
                       type_volume: np.ndarray, quotes: Quotes | None = None) -> None:
        """Record this month's prices from value (USD) and volume (credits) per book, and
        their sums per type (``type_value``, ``type_volume``); ``quotes``, the best bids of
        types bid for that did not trade (:func:`best_bids`)."""
        latest = np.divide(value, volume, out=self.latest_price_by_book.copy(),
                           where=volume > 0)
        if self.segments.on:
            # Chained over dozens of thin books per type the index drifts (a run's index
            # quadrupled while its average price fell): chain each type's price, adjusted for
            # quality with the books' relative prices as expected before this month's trades.
            adjusted = self._quality_adjusted(value, volume)
            self.price_index = metrics.chain_link(self.price_index, self.latest_adjusted_price,
                                                  adjusted, self.types.credit_mix)
            self.latest_adjusted_price = adjusted
            self._update_segment_prices(value, volume, type_value, type_volume)
        else:
            weights, self.segment_share = self.book_weights(volume)
            self.price_index = metrics.chain_link(self.price_index, self.latest_price_by_book,
                                                  latest, weights)
        self.latest_price_by_book = latest
        self._update_type_prices(type_value, type_volume, quotes)

    def _quality_adjusted(self, value: np.ndarray, volume: np.ndarray) -> np.ndarray:
        """Per type, this month's price (USD per tCO2e) of a credit of the quality its price
        stands for: the value traded in its books over their volume, each credit weighted by
        its book's :attr:`relative_price` as expected before the month's trades (a hedonic
        adjustment: trade moving to dearer segments does not raise it, a book's price moving
        does); the last such price where the type did not trade."""
        n = self.segments.n
        weighted = (volume * self.relative_price).reshape(-1, n).sum(axis=1)
        traded = value.reshape(-1, n).sum(axis=1)
        return np.divide(traded, weighted, out=self.latest_adjusted_price.copy(),
                         where=weighted > 0)

    def _update_segment_prices(self, value: np.ndarray, volume: np.ndarray,
                               type_value: np.ndarray, type_volume: np.ndarray) -> None:
        """This month's average prices per rating band and of labelled credits, from value
        (USD) and volume (credits) per book and per type, the month in :attr:`book_months`,
        and each book's :attr:`relative_price`: towards its price over its type's where it
        traded, towards 1 where it did not, by ``expectations.price_weight``."""
        segments = self.segments
        weight = self.config.expectations.price_weight
        traded = volume > 0
        type_price = np.divide(type_value, type_volume, out=np.ones(len(type_value)),
                               where=type_volume > 0).repeat(segments.n)
        seen = np.divide(value, volume * type_price, out=np.ones(len(value)), where=traded)
        self.relative_price += weight * (seen - self.relative_price)
        segment = np.arange(len(value)) % segments.n
        band = segments.band(segment)
        by_band = (np.bincount(band, weights=value, minlength=len(BANDS)),
                   np.bincount(band, weights=volume, minlength=len(BANDS)))
        self.price_by_band = np.divide(by_band[0], by_band[1], out=np.full(len(BANDS), np.nan),
                                       where=by_band[1] > 0)
        labelled = segments.labelled(segment)
        sold = volume[labelled].sum()
        self.price_labelled = float(value[labelled].sum() / sold) if sold else np.nan
        self.book_months.append((value, volume))

    def book_weights(self, volume: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weight of each book (type and segment, see :mod:`vcm_sim.segments`) in this
        month's change of the price index, given its ``volume`` (credits): the type's share
        of credits (:attr:`~vcm_sim.projects.TypeTable.credit_mix`) split between its
        segments by their mean share of the type's volume last month (:attr:`segment_share`)
        and this (a Tornqvist weight). Also this month's split, a type that did not trade
        keeping its last."""
        n = self.segments.n
        if n == 1:  # one book per type: it has the type's weight and all of its volume
            return self.types.credit_mix, self.segment_share
        by_type = volume.reshape(-1, n).astype(float)
        total = by_type.sum(axis=1, keepdims=True)
        share = np.divide(by_type, total, out=self.segment_share.copy(), where=total > 0)
        weights = self.types.credit_mix.repeat(n) * ((share + self.segment_share) / 2).ravel()
        return weights, share

    def _update_type_prices(self, value: np.ndarray, volume: np.ndarray,
                            quotes: Quotes | None = None) -> None:
        """Prices per type from this month's ``value`` (USD) and ``volume`` (credits), and
        the expected price: each traded type's moves towards its price, by ``price_weight``
        times the month's volume against the type's typical volume (at most 1); each type
        bid for without trading moves towards its quote (``quotes``,
        :func:`~vcm_sim.trading.untraded_quotes`) alike, by the credits bid, since posted
        orders that did not cross tell what buyers would pay as a trade would; a best bid
        with no ask against it only raises the expected price (buyers would pay at least
        that)."""
        traded = volume > 0
        price = np.divide(value, volume, out=np.full(len(value), np.nan), where=traded)
        self.price_by_type = price
        self.latest_price_by_type = np.where(traded, price, self.latest_price_by_type)
        self.price_history.append(price)
        self.sales_history.append(int(volume.sum()))
        self.volume_by_type = volume
        learn = self.config.expectations
        volume_w = learn.volume_weight
        # A thin month's price says less: its weight shrinks with volume below typical.
        thin = np.minimum(np.divide(volume, self.typical_volume, out=np.ones(len(volume)),
                                    where=self.typical_volume > 0), 1.0)
        price_w = learn.price_weight * thin
        self.expected_price = np.where(
            traded, (1 - price_w) * self.expected_price + price_w * price, self.expected_price)
        if quotes is not None:
            kind = quotes.kind
            seen = np.minimum(np.divide(quotes.quantity, self.typical_volume[kind],
                                        out=np.ones(len(kind)),
                                        where=self.typical_volume[kind] > 0), 1.0)
            expected = self.expected_price[kind]
            target = np.where(quotes.floor, np.maximum(quotes.price, expected), quotes.price)
            self.expected_price[kind] = expected + learn.price_weight * seen * (target - expected)
        # Months without trade count too: a market that stops buying is a thinner market.
        self.typical_volume = (1 - volume_w) * self.typical_volume + volume_w * volume
        self._update_forecast()

    def _update_forecast(self) -> None:
        """The trend of the expected price over ``trend_months`` (log change per year); the
        price buyers and developers plan with, ``expected * exp(trend_weight * trend)``
        (the exponent within -1 and 1); and the long-run price, the mean expected price over
        the last twelve months, by which developers judge whether a project still pays."""
        learn = self.config.expectations
        history = self._expected_history
        history.append(self.expected_price.copy())
        if len(history) > max(learn.trend_months + 1, STEPS_PER_YEAR):
            del history[0]
        months = min(learn.trend_months, len(history) - 1)
        if months:
            self.price_trend = (np.log(history[-1] / history[-1 - months])
                                * STEPS_PER_YEAR / months)
        self.forecast_price = self.expected_price * np.exp(
            np.minimum(np.maximum(learn.trend_weight * self.price_trend, -1.0), 1.0))
        recent = history[-STEPS_PER_YEAR:]
        self.long_run_price = np.add.reduce(np.array(recent), axis=0) / len(recent)  # the mean

    # -- claims and oversight ----------------------------------------------------------------

    def _claims(self, t: int) -> None:
        """Open claims may be exposed, each at most once; an exposure hits the firm and the
        buyers' sentiment towards the type of credits behind the claim."""
        s = self.config
        firms = self.firms
        claiming = ((firms.claimed_this_year > 0) & ~firms.exposed_this_year).nonzero()[0]
        if not len(claiming):
            return
        shortfall = 1.0 - firms.real_this_year[claiming] / firms.claimed_this_year[claiming]
        p = exposure_probability(shortfall, s.rules.disclosure,
                                 s.rules.integrity.claim_audit_rate, s.exposure,
                                 self.ratings_published)
        exposed = claiming[self.draws("claims").random(len(claiming)) < p]
        if not len(exposed):
            return
        self.tally.exposures += len(exposed)
        firms.reputation[exposed] *= s.firms.exposure_reputation_factor
        firms.quality_seeking[exposed] = True
        firms.exposed_this_year[exposed] = True
        for kind in firms.claim_kind[exposed].tolist():
            self.sentiment.shock(kind, s.sentiment.contagion_per_exposure,
                                 s.sentiment.sector_contagion)

    # -- public helpers ----------------------------------------------------------------------

    def reference_price(self) -> float:
        """This step's mean price across the types that traded (USD per tCO2e), or the mean
        expectation when none did."""
        if np.isfinite(self.price_by_type).any():
            return float(np.nanmean(self.price_by_type))
        return float(self.expected_price.mean())

    def record_retirements(self, batch: np.ndarray, credits: np.ndarray,
                           behind_claims: bool = True) -> None:
        """Mirror retirements the registry has just made (``credits`` of each ``batch``) in
        the hidden truth and the per-type tally; retirements ``behind_claims`` (not an ETS's
        surrenders) also count as labelled or not and, with rating agencies, under the
        rating band their projects have now (:meth:`claims_by_rating`)."""
        np.add.at(self.truth.retired, batch, credits)
        project = self.truth.project[batch]
        kind = self.projects.kind[project]
        np.add.at(self.retired_by_type, kind, credits)
        if not behind_claims:
            return
        self.record_claims(self.truth.vintage[batch], self.truth.real_now(batch), credits,
                           kind)
        self.labels.record_retirements(batch, credits)
        if len(self.rater_agents):
            self.claimed_by_band = grow_array(self.claimed_by_band, self.truth.size)
            band = self.raters.band(self.consensus(), project)
            np.add.at(self.claimed_by_band, (batch, band), credits)

    @property
    def ratings_published(self) -> bool:
        """Whether rating agencies publish ratings here: some exist and cover projects."""
        return len(self.rater_agents) > 0 and self.config.rating_agencies.coverage > 0

    def consensus(self) -> np.ndarray:
        """The rating agencies' consensus grade of each project they have seen (see
        :meth:`~vcm_sim.agents.rater.RaterPanel.consensus`), computed once a month, when first
        asked: in the market phase, after the month's verifications and audits moved it."""
        return self._once_a_month("consensus", lambda: self.raters.consensus(self.projects))

    def record_claims(self, vintage: np.ndarray, real: np.ndarray, credits: np.ndarray,
                      kind: np.ndarray) -> None:
        """Count ``credits`` retired in this registry behind claims this month, of vintages
        ``vintage``, with ``real`` real tonnes per credit, of project types ``kind`` (aligned),
        in :attr:`claimed_months` and :attr:`claimed_quality`."""
        if self.claimed_months:
            month = self.claimed_months[-1]
            month[0] += int(np.dot(credits, self.year - vintage))
            month[1] += int(credits.sum())
            self.claimed_quality[-1] += integrity_counts(
                kind, real, credits, high_integrity_floor(self.config.rating_agencies.notch_width),
                len(self.types.names))

    def retired_real(self) -> tuple[int, float]:
        """Credits retired behind claims in this registry since recording started and the
        real tonnes behind them today (hidden truth: of imported credits, their origin's),
        computed once per step. Credits an ETS's covered firms surrendered are not claims:
        they replace allowances (see :func:`~vcm_sim.ets.reporters.offset_integrity`)."""
        return self._once_a_month("retired_real", self._retired_real)

    def _retired_real(self) -> tuple[int, float]:
        retired = self.claimed_since_recording()
        credits, real = int(retired.sum()), float(retired @ self.truth.real_now())
        here = self.registry.per_batch("retired") if self.imports else None
        for origin, (batches, origin_batches) in self.imports.items():
            since = self._imports_recorded_from.get(origin, 0)
            imported = here[batches[since:]]
            credits += int(imported.sum())
            real += float(imported @ origin.truth.real_now(np.array(origin_batches[since:],
                                                                     dtype=np.int64)))
        return credits, real

    def _once_a_month(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, computed at most once a month (and afresh when recording starts)
        however many reporters ask for it."""
        month, value = self._monthly.get(name, (None, None))
        if month != self._month:
            value = compute()
            self._monthly[name] = (self._month, value)
        return value

    def claimed_since_recording(self) -> np.ndarray:
        """Per batch this market issued, its credits retired here behind claims since
        recording started (an ETS's surrenders are not claims)."""
        retired = self.truth.view("retired").copy()
        retired[:len(self._retired_before)] -= self._retired_before
        if self.ets is not None:
            retired -= self.ets.surrendered_since_recording(len(retired))
        return retired

    def claims_by_label(self) -> tuple[np.ndarray, np.ndarray]:
        """Credits of the batches this market issued retired here behind claims since
        recording started, and the real tonnes behind them today: labelled, then not;
        computed once per step."""
        return self._once_a_month("claims_by_label", self._claims_by_label)

    def _claims_by_label(self) -> tuple[np.ndarray, np.ndarray]:
        retired = self.claimed_since_recording()
        # Every issue grows the label mask to the registry's batches: it covers them all.
        unlabelled = (~self.labels.labelled[:len(retired)]).astype(np.int64)
        return (np.bincount(unlabelled, weights=retired, minlength=2),
                np.bincount(unlabelled, weights=retired * self.truth.real_now(), minlength=2))

    def claims_by_rating(self) -> tuple[np.ndarray, np.ndarray]:
        """Credits of the batches this market issued retired here behind claims since
        recording started, and the real tonnes behind them today, per rating band their
        projects had when they were retired (the agencies' consensus: A or above, below A,
        unrated); computed once per step."""
        def compute() -> tuple[np.ndarray, np.ndarray]:
            # Rows grow with retirements; batches none of whose credits were retired yet
            # have none.
            self.claimed_by_band = grow_array(self.claimed_by_band, self.truth.size)
            claimed = self.claimed_by_band[:self.truth.size]
            return claimed.sum(axis=0).astype(float), claimed.T @ self.truth.real_now()
        return self._once_a_month("claims_by_rating", compute)

    def note_import(self, origin: Jurisdiction, batch: int, origin_batch: int) -> None:
        """Credits of ``origin``'s batch ``origin_batch`` have arrived in this registry's
        batch ``batch`` (a new imported batch: see :attr:`imports`)."""
        batches, origin_batches = self.imports.setdefault(origin, ([], []))
        batches.append(batch)
        origin_batches.append(origin_batch)

    def issued_here(self) -> np.ndarray:
        """Mask of this registry's batches it issued itself (not imported)."""
        return np.array([b.origin is None for b in self.registry.batches], dtype=bool)

    def most_retired_type(self) -> int:
        """Code of the project type with most retired credits (the scandal default)."""
        retired = self.registry.per_batch("retired")[self.issued_here()]
        if not retired.sum():
            return int(np.argmax(self.types.mix))
        kind = self.projects.kind[self.truth.view("project")]
        return int(np.argmax(np.bincount(kind, weights=retired, minlength=len(self.types.names))))

    def trigger(self, kind: str, project_type: str | None = None,
                severity: float = Event.model_fields["severity"].default) -> None:
        """Fire an event at the start of the next step (for the instructor's buttons):
        'scandal', 'wildfire', 'suspend_issuance' or 'resume_issuance'. It is validated now,
        like a scheduled event, and acts exactly as one scheduled for that step."""
        try:
            event = Event(step=self.month_index + 1, kind=kind, project_type=project_type,
                          severity=severity)
        except ValidationError as err:
            raise ValueError(f"cannot trigger: {describe(err, Event)}") from None
        if event.kind == "set":
            raise ValueError("trigger() fires events; change a rule with set_rule()")
        self._pending_events.append(event.model_dump())

    def set_rule(self, path: str, value: object) -> None:
        """Change a setting mid-run by dotted path (validated), e.g. 'rules.market.offset_cap';
        the registry learns the label's approvals anew (:func:`vcm_sim.labels.approve_in`)."""
        check_changeable(path)
        config = with_overrides(self.config, {path: value}, as_market=bool(self.name))
        article6 = config.rules.article6
        if self.link is None and (article6.authorised_share > 0 or article6.adjusted_only):
            raise ScenarioError(f"{path} = {value!r}: Article 6 rules need linked markets, and "
                                f"market {self.name or 'of this scenario'!r} is not linked")
        if self.link is not None and config.rules.market.quality_books:
            raise ScenarioError(f"{path} = {value!r}: linked markets trade in one book per "
                                "type (quality books across a link are not built yet)")
        approve_in(self.registry, config.rules.label, self.config.rules.label)
        self.config = config
        self.types = TypeTable.from_scenario(self.config)
        self._resegment()

    def _resegment(self) -> None:
        """Split or merge the books when the rules change how they split (a 'set' event on
        ``rules.market.quality_books``; a new vintage cut keeps the books)."""
        segments = Segments.of(self)
        split = segments.n != self.segments.n
        self.segments = segments
        if split:
            self._reset_books()

    def _reset_books(self) -> None:
        """The state kept per book, for :attr:`segments` as they now split: every book of a
        type starts from the type's latest price (none before the first trade), at relative
        price 1, and the window of :func:`vcm_sim.metrics.rating_premium` starts afresh."""
        n_types, segments = len(self.types.names), self.segments
        self.latest_price_by_book = self.latest_price_by_type.repeat(segments.n)
        self.segment_share = np.zeros((n_types, segments.n))
        self.segment_share[:, segments.plain] = 1.0
        """Per type, the share of its last month's volume in each segment."""
        self.relative_price = np.ones(segments.books(n_types))
        """Per book, the price buyers and sellers expect in it relative to its type's expected
        price (1 for every book without quality books; see :meth:`_update_segment_prices`)."""
        self.latest_adjusted_price = self.latest_price_by_type.copy()
        """With quality books, each type's latest quality-adjusted price, USD per tCO2e, the
        price index's link (:meth:`_quality_adjusted`)."""
        self.book_months: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=STEPS_PER_YEAR)
        """With quality books, value (USD) and volume (credits) per book of each of the last
        12 months (for :func:`vcm_sim.metrics.rating_premium`)."""
        self.price_by_band = np.full(len(BANDS), np.nan)
        """This month's average price per rating band (:data:`~vcm_sim.segments.BANDS`), USD
        per tCO2e; NaN where none traded (all NaN without quality books)."""
        self.price_labelled = np.nan
        """This month's average price of labelled credits with quality books, USD per tCO2e."""

    # -- recording ---------------------------------------------------------------------------

    def start_recording(self) -> None:
        """What is counted from the first recorded month: cumulative flows and ratios
        restart (the tally, retirements behind the integrity metrics, this month's registry
        flows), and the price index is re-based on every type's latest price, so a type that
        first traded during burn-in does not join it later; stocks (registry balances, cash,
        projects) carry on."""
        self.tally = Tally()
        self.price_index = np.nan  # re-based on the first recorded month's latest prices
        self.first_recorded_batch = len(self.registry.batches)
        self._retired_before = self.truth.view("retired").copy()
        self._imports_recorded_from = {o: len(b) for o, (b, _) in self.imports.items()}
        self.traded_by_type[:] = 0.0
        self.adjusted_by_type[:] = 0.0
        self._monthly.clear()
        self.claimed_by_band[:] = 0
        self.totals_before = self.registry.totals()
        self.developer_cash_before = self.cash.balance[self.developer_ids].copy()
        self.developers_active_before = self.developers.active.copy()
        if self.ets is not None:
            self.ets.start_recording()

    def _record(self) -> None:
        row = {name: reporter(self) for name, reporter in self.reporters.items()}
        self._rows.append(row)
        self.totals_before = self.registry.totals()

    def frame(self) -> pd.DataFrame:
        """The recorded months so far, one row of reporters each, money in USD: a market
        whose currency is not USD converts its money columns (named ``*usd*``) at the
        scenario's exchange rate and adds its prices in its own currency,
        ``price_<code>`` and ``price_index_<code>`` (``price_cny``)."""
        frame = pd.DataFrame(self._rows, columns=list(self.reporters))
        if self.config.currency == "USD":
            return frame
        rate = self.config.per_usd
        code = self.config.currency.lower()
        local = frame[["price_usd", "price_index_usd"]].rename(
            columns={"price_usd": f"price_{code}", "price_index_usd": f"price_index_{code}"})
        money = [c for c in frame.columns if metrics.USD_COLUMN.search(c)]
        frame[money] = frame[money] / rate
        return pd.concat([frame, local], axis=1)

    def cash_flows(self) -> pd.DataFrame:
        """The monthly cash-flow statement, one row per recorded month: ``step``, the cash
        held by all accounts at the month's start and end (``opening_usd``,
        ``closing_usd``), and every declared flow (:mod:`vcm_sim.cash`) as
        ``source_<name>_usd``, ``use_<name>_usd`` and ``transfer_<name>_usd`` (0 when it
        moved nothing). Closing less opening is the sources less the uses, every month. In
        USD, whatever the market's currency."""
        columns = {"source": SOURCES, "use": USES, "transfer": TRANSFERS}
        rows = []
        for statement in self.cash_statements:
            row = {"opening_usd": statement.opening_usd, "closing_usd": statement.closing_usd}
            for kind, names in columns.items():
                flows = getattr(statement, f"{kind}s")
                row |= {f"{kind}_{name}_usd": flows.get(name, 0.0) for name in names}
            rows.append(row)
        frame = pd.DataFrame(rows, columns=["opening_usd", "closing_usd",
                                            *(f"{kind}_{name}_usd"
                                              for kind, names in columns.items()
                                              for name in names)]) / self.config.per_usd
        frame.insert(0, "step", [row["step"] for row in self._rows])
        return frame
