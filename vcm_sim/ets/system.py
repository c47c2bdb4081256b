"""An emissions trading system inside a market: allocation, emissions, the allowance market,
offset purchases within the cap, and the yearly deadline.

The month runs in the market's three groups. ``open_month``: in the first month of a
compliance year the regulator allocates the year's allowances (free ones in proportion to
business-as-usual emissions, less last year's shortfall; auctioned ones to its own account),
then covered firms emit at the abatement the expected allowance price makes worth it. In
``trade_month`` covered firms first bid for the market's credits (:meth:`offset_bids`, cleared
with every other bid for credits), then trade allowances in a call auction of their own
(:meth:`clear_allowances`). ``close_month`` of the deadline month: each firm surrenders credits
up to the cap, then allowances, for the year's emissions, and pays the penalty on any shortfall.
The allowance price is formed by the covered firms' orders, not set; credits and allowances
meet in the covered firms' choices (a credit within the cap replaces an allowance).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from vcm_sim.ets.allowances import AllowanceBook
from vcm_sim.ets.covered import CoveredFirm, CoveredFirms, curves
from vcm_sim.ets.settings import Ets
from vcm_sim.market import MECHANISMS
from vcm_sim.projects import STEPS_PER_YEAR
from vcm_sim.streams import SETUP

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction
    from vcm_sim.trading import Orders

GRID_FLOOR = 1e-3
"""Lowest price of a covered firm's allowance orders, as a share of the penalty (the
highest): each month a firm states its demand or supply at every price a trade could take
place at, so one clearing finds the price without feeling its way from last month's."""


@dataclass
class EtsTally:
    """Flows of the ETS since recording started (tCO2e, credits, allowances, USD)."""

    allowances_traded: int = 0
    offsets_bought: int = 0
    offsets_surrendered: int = 0
    allowances_surrendered: int = 0
    shortfall_tco2: int = 0
    penalties_usd: float = 0.0
    auction_revenue_usd: float = 0.0
    abatement_tco2: float = 0.0
    abatement_cost_usd: float = 0.0


@dataclass(frozen=True)
class Deadline:
    """What each covered firm owed and gave at the last deadline (tCO2e, credits,
    allowances)."""

    obligation: np.ndarray
    offsets: np.ndarray
    allowances: np.ndarray
    shortfall: np.ndarray


class EmissionsTrading:
    """The ETS of ``market`` (a :class:`~vcm_sim.jurisdiction.Jurisdiction` whose scenario
    enables ``[ets]``): its covered firms (Mesa agents with registry and cash accounts), their
    allowance book and the allowance market's prices (in the ETS's currency)."""

    def __init__(self, market: Jurisdiction) -> None:
        self.market = market
        params = self.params
        self.firms = CoveredFirms.create(market.streams.get("ets", SETUP), params)
        n = params.covered_firms
        self.agents = CoveredFirm.create_agents(market.model, n, index=np.arange(n),
                                                market=market)
        for agent in self.agents:
            market.registry.open_account(agent.account)
            market.cash.open(agent.account, 0.0)
        self.accounts = [a.account for a in self.agents]
        self.ids = market.cash.ids(self.accounts)
        self.regulator_id = int(market.cash.ids([market.regulator.account])[0])
        self.book = AllowanceBook(n)
        self.expected_price = params.initial_price
        """Allowance price covered firms expect (currency per tCO2e): the last one seen."""
        self.price = math.nan
        """This month's allowance clearing price (NaN: nothing traded)."""
        self.volume = 0
        self.month_emissions = 0.0
        self.offsets_bought_month = 0
        """Credits covered firms bought this month."""
        self.offsets_paid_month_usd = 0.0
        self.offset_share = math.nan
        """Share of the last deadline's obligations met with credits."""
        self.last_deadline: Deadline | None = None
        self.obtainable = 0.0
        """Share (0-1) of the credits they bid for that covered firms expect to obtain: the
        share of their bids filled over the last twelve months (none in a month no eligible
        credit is on offer, or before they first bid)."""
        self.fills: deque[tuple[int, int]] = deque(maxlen=STEPS_PER_YEAR)
        """Credits bid for and bought in each of the last twelve months."""
        self.offsets_bid_month = 0
        """Credits covered firms bid for this month."""
        self.tally = EtsTally()
        self.surrendered = np.zeros(0, dtype=np.int64)
        """Credits of each batch surrendered for compliance so far."""
        self._surrendered_before = self.surrendered

    @property
    def params(self) -> Ets:
        """The ETS's settings now (a dated event may change them mid-run)."""
        return self.market.config.ets

    @property
    def eligible_types(self) -> np.ndarray:
        """Per project type, whether its credits may be surrendered."""
        names = list(self.market.types.names)
        return np.isin(names, self.params.offset_types or names)

    # -- the month --------------------------------------------------------------------------

    def months_into_year(self, t: int) -> int:
        """Months of the compliance year before month ``t`` (0 in its first month)."""
        return (t % STEPS_PER_YEAR - self.params.deadline_month) % STEPS_PER_YEAR

    def open_month(self, t: int) -> None:
        """Allocation in a compliance year's first month (and, pro rata, in the first
        simulated month when a run starts within a compliance year), then this month's
        emissions."""
        into = self.months_into_year(t)
        if into == 0 or t == self.market.first_month:
            self.allocate(t, (STEPS_PER_YEAR - into) / STEPS_PER_YEAR)
        self.offsets_bought_month, self.offsets_paid_month_usd = 0, 0.0
        abated, cost = self.firms.emit(self.expected_price)
        self.month_emissions = float((self.firms.bau_t_yr / STEPS_PER_YEAR).sum()) - abated
        self.tally.abatement_tco2 += abated
        self.tally.abatement_cost_usd += cost / self.params.per_usd

    def allocation_share(self, t: int) -> float:
        """Allowances per tonne of business-as-usual emissions for the compliance year that
        starts at month ``t``: ``allocation_share`` in ``start_year``, less
        ``allocation_decline_yr`` for each year after it (more for the years before it)."""
        p = self.params
        years = self.market.year_of(t) - self.market.config.start_year
        return float(np.clip(p.allocation_share - p.allocation_decline_yr * years, 0.0, 2.0))

    def free_allocation(self, share: float, bau: np.ndarray, part: float = 1.0
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Each firm's free allowances for a compliance year (``part`` of a whole one) at
        allocation ``share`` of business-as-usual emissions ``bau``, less what it owes; and
        what that withholds of what it owes."""
        p = self.params
        free = np.floor(share * bau * part * (1.0 - p.auction_share)).astype(np.int64)
        made_good = np.minimum(self.firms.owed, free)
        return free - made_good, made_good

    def allocate(self, t: int, part: float = 1.0) -> None:
        """The compliance year's cap (``part`` of a year's): :meth:`allocation_share` of
        the year's business-as-usual emissions; the auctioned share goes to the regulator,
        the rest to firms by emissions, less what each owes (made good: those allowances are
        never issued)."""
        p, firms = self.params, self.firms
        if t > self.market.first_month:
            firms.bau_t_yr *= 1.0 + p.emissions_growth_yr
        share = self.allocation_share(t)
        free, made_good = self.free_allocation(share, firms.bau_t_yr, part)
        firms.owed -= made_good
        self.book.issue(np.arange(len(free)), free)
        auctioned = int(np.floor((share * firms.bau_t_yr * part).sum() * p.auction_share))
        self.book.issue(np.array([self.book.regulator]), np.array([auctioned]))

    def eligible(self) -> Callable[[int], bool]:
        """Predicate on batch ids: may the batch be surrendered (an eligible type, within
        the market's vintage cut-off)?"""
        from vcm_sim.trading import vintage_filter

        market = self.market
        kind, project = market.projects.kind, market.truth.project
        vintage = vintage_filter(market)
        types = self.eligible_types
        if vintage is None:
            return lambda b: bool(types[kind[project[b]]])
        return lambda b: bool(types[kind[project[b]]]) and vintage(b)

    def offsets_held(self) -> np.ndarray:
        """Eligible credits each covered firm holds."""
        return self.market.registry.held(self.ids, self.eligible())

    def offset_bids(self, on_offer: np.ndarray, segment: np.ndarray) -> Orders:
        """This month's bids of covered firms for credits: each bids for its share of the
        months left of what the cap still lets it surrender at the deadline (on its
        emissions expected at the expected allowance price; spreading purchases over the
        year lets the allowance price tell it when credits stop paying), split over the
        eligible types in proportion to the credits of each on offer (``on_offer``, per
        type), at the allowance price it expects (a credit within the cap replaces an
        allowance), in USD, in the book of ``segment`` (per type: with quality books the
        segment with the most credits on offer, since any eligible credit replaces an
        allowance; 0 without)."""
        from vcm_sim.trading import Orders

        market, p = self.market, self.params
        supply = np.where(self.eligible_types, on_offer, 0.0)
        self.offsets_bid_month = 0
        if not supply.sum():
            return Orders.of([], [], [], [])
        quota = np.ceil(self.room_under_cap() / (self.months_left() + 1))
        split = np.floor(quota[:, None] * (supply / supply.sum())[None, :]).astype(np.int64)
        firm, kind = (split > 0).nonzero()
        limit = min(self.expected_price, p.penalty) / p.per_usd
        ceiling = market.config.rules.market.price_ceiling_usd
        if ceiling is not None:
            limit = min(limit, ceiling)
        self.offsets_bid_month = int(split.sum())
        return Orders.of(self.ids[firm], np.full(len(firm), limit), split[firm, kind],
                         market.segments.book(kind, segment[kind]))

    def room_under_cap(self) -> np.ndarray:
        """Credits each firm may still surrender this compliance year beyond the eligible
        ones it holds, on its emissions expected at the expected allowance price."""
        expected = np.broadcast_to(np.array([self.expected_price]), (len(self.ids), 1))
        obligation = np.ceil(self.firms.projected(expected, self.months_left()))[:, 0]
        return np.maximum(np.floor(self.params.offset_cap * obligation) - self.offsets_held(),
                          0.0)

    def months_left(self) -> int:
        """Months of the compliance year after the current one."""
        return STEPS_PER_YEAR - 1 - self.months_into_year(self.market.month_index)

    def credit_price(self) -> float:
        """What an eligible credit costs now, in the ETS's currency: the cheapest eligible
        type's last price (its expected price before it has traded)."""
        market = self.market
        price = np.where(np.isnan(market.latest_price_by_type), market.expected_price,
                         market.latest_price_by_type)
        return float(price[self.eligible_types].min()) * self.params.per_usd

    def note_offsets_bought(self, credits: int, usd: float) -> None:
        """Credits covered firms bought in this month's clearing, and what they paid."""
        self.tally.offsets_bought += credits
        self.offsets_bought_month += credits
        self.offsets_paid_month_usd += usd

    def clear_allowances(self, rng: np.random.Generator) -> None:
        """The month's allowance market: covered firms' demand and supply curves (see
        :mod:`vcm_sim.ets.covered`) and the regulator's auction, cleared by the market's
        mechanism; buyers pay sellers (or the regulator) in USD."""
        market, p, book = self.market, self.params, self.book
        self.fills.append((self.offsets_bid_month, self.offsets_bought_month))
        bid = sum(b for b, _ in self.fills)
        self.obtainable = (sum(q for _, q in self.fills) / bid
                           if bid and self.offsets_bid_month else 0.0)
        left = self.months_left()
        grid = p.penalty * np.geomspace(GRID_FLOOR, 1.0, p.bid_steps)
        held = book.held[:-1]
        next_year = market.month_index + left + 1
        growth = p.emissions_growth_yr
        next_free, _ = self.free_allocation(self.allocation_share(next_year),
                                            self.firms.bau_t_yr * (1.0 + growth))
        needs = self.firms.needs(grid, left, held, self.offsets_held().astype(float),
                                 p.offset_cap, next_free.astype(float), growth,
                                 self.credit_price(), self.obtainable)
        (bid_firm, bid_price, bid_qty), (ask_firm, ask_price, ask_qty) = curves(
            needs, grid, held)
        auction = int(book.held[book.regulator]) // (left + 1)
        if auction > 0:
            ask_firm = np.append(ask_firm, book.regulator)
            ask_price = np.append(ask_price, p.auction_reserve)
            ask_qty = np.append(ask_qty, auction)
        matches = MECHANISMS[market.config.rules.market.mechanism](
            bid_price, bid_qty, ask_price, ask_qty, rng)
        self.volume = matches.volume
        self.price = math.nan
        if not self.volume:
            self._learn_without_trade(bid_price, ask_price, grid)
            return
        buyer, seller = bid_firm[matches.bid], ask_firm[matches.ask]
        book.transfer(seller, buyer, matches.quantity)
        paid = matches.quantity * matches.price / p.per_usd
        payee = np.where(seller == book.regulator, self.regulator_id,
                         self.ids[np.minimum(seller, len(self.ids) - 1)])
        market.cash.pay(self.ids[buyer], payee, paid, "allowance_trades")
        self.tally.auction_revenue_usd += float(paid[seller == book.regulator].sum())
        self.tally.allowances_traded += self.volume
        self.price = float((matches.quantity * matches.price).sum() / self.volume)
        self._expect(self.price)

    def _expect(self, seen: float) -> None:
        """Covered firms expect the allowance price last ``seen`` (a martingale forecast).
        Smoothing it as developers smooth credit prices (``expectations.price_weight`` 0.3)
        was tried: firms then abate on a lagged price and the allowance price cycles, and
        the offset cap's effect on it was lost in the cycle (the 10% cap raised the price
        in 4 of 6 paired seeds)."""
        self.expected_price = seen

    def _learn_without_trade(self, bid_price: np.ndarray, ask_price: np.ndarray,
                             grid: np.ndarray) -> None:
        """A month in which no allowance traded still says where the price is: at the bottom
        of the ``grid`` when only sellers came (nobody lacks allowances even there), at the
        top (the penalty) when only buyers came, in the middle of the best bid and the best
        ask when they did not cross; it stays when nobody came."""
        if len(bid_price) and len(ask_price):
            self._expect((bid_price.max() + ask_price.min()) / 2.0)
        elif len(ask_price):
            self._expect(float(grid[0]))
        elif len(bid_price):
            self._expect(float(grid[-1]))

    def close_month(self, t: int) -> None:
        """At the deadline each firm surrenders eligible credits up to the cap, then
        allowances, for the compliance year's emissions, pays the penalty on the rest
        (which it also owes from next year's allocation), and starts a new year."""
        if self.months_into_year(t) != STEPS_PER_YEAR - 1:
            return
        market, p, firms, book = self.market, self.params, self.firms, self.book
        obligation = np.ceil(firms.emitted - 1e-9).astype(np.int64)
        offsets = self._surrender_offsets(np.floor(p.offset_cap * obligation).astype(np.int64),
                                          market.year)
        allowances = np.minimum(book.held[:-1], obligation - offsets)
        book.surrender(np.arange(len(obligation)), allowances)
        short = obligation - offsets - allowances
        firms.owed += short
        fines = short * p.penalty / p.per_usd
        market.cash.pay(self.ids, np.full(len(self.ids), self.regulator_id), fines,
                        "ets_penalties")
        self.tally.allowances_surrendered += int(allowances.sum())
        self.tally.shortfall_tco2 += int(short.sum())
        self.tally.penalties_usd += float(fines.sum())
        self.last_deadline = Deadline(obligation, offsets, allowances, short)
        total = int(obligation.sum())
        self.offset_share = int(offsets.sum()) / total if total else math.nan
        firms.emitted[:] = 0.0

    def _surrender_offsets(self, most: np.ndarray, year: int) -> np.ndarray:
        """Each firm retires up to ``most`` eligible credits, oldest first, behind its
        compliance claim for ``year``; returns the credits each surrendered."""
        market = self.market
        registry, eligible = market.registry, self.eligible()
        done = np.zeros(len(most), dtype=np.int64)
        batches, credits = [], []
        for i, account in enumerate(self.accounts):
            if most[i] <= 0:
                continue
            for batch, q in registry.plan_draw(account, int(most[i]), eligible):
                registry.retire(batch, account, q, account, claim=f"ets:{account}/{year}")
                batches.append(batch)
                credits.append(q)
                done[i] += q
        if batches:
            batch, quantity = np.array(batches), np.array(credits, dtype=np.int64)
            market.record_retirements(batch, quantity, behind_claims=False)
            if len(self.surrendered) < len(market.registry.batches):
                self.surrendered = np.pad(
                    self.surrendered, (0, len(market.registry.batches) - len(self.surrendered)))
            np.add.at(self.surrendered, batch, quantity)
            self.tally.offsets_surrendered += int(quantity.sum())
        return done

    # -- recording --------------------------------------------------------------------------

    def start_recording(self) -> None:
        """Flows restart at the first recorded month; stocks carry on."""
        self.tally = EtsTally()
        self._surrendered_before = self.surrendered.copy()

    def surrendered_since_recording(self, batches: int) -> np.ndarray:
        """Credits of each of the first ``batches`` batches surrendered since recording
        started."""
        out = np.zeros(batches, dtype=np.int64)
        out[:len(self.surrendered)] = self.surrendered
        out[:len(self._surrendered_before)] -= self._surrendered_before
        return out

    def check(self) -> None:
        """AssertionError unless the allowance book conserves allowances."""
        self.book.check()
