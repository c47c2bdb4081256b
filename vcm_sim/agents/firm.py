"""Emitting firms: emissions, pledges, abatement versus credits, bids and claims.

Pledges diffuse through the population (Bass: innovation plus imitation of peers), as far as
credits are affordable and trusted, and are dropped when they are not. Each firm with a pledge
claims a share of its emissions each year (its target ``T``, tCO2e), up to the pledge's
coverage (a share of emissions for a carbon-neutral claim, the residual for net zero): it
weighs the claim's value (its willingness to pay, falling linearly to zero at full coverage)
against the cost of a claimed tonne. Abatement has a linear marginal cost ``MAC(a) = slope *
a`` (USD per tCO2e at abated share ``a`` of T), so at price ``p`` it abates ``a* = p / slope``
(at least ``1 - offset_cap``) and wants credits for the rest. It buys once per claim year, in
a month drawn towards its reporting month (sooner when prices are expected to rise); what it
cannot buy it abates. When credits sell below what it expects to pay next year, discounted
at its cost of capital and the hazard that it drops its pledge, a firm also buys part of its
next claim year's credits ahead (:meth:`FirmPopulation.ahead_share`, price by price along its
demand curve); it holds them and retires them when that claim year opens, so it buys that
much less then.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from vcm_sim.agents.base import Member
from vcm_sim.projects import STEPS_PER_YEAR
from vcm_sim.scenario import Firms as FirmParams

NONE, NEUTRAL, NET_ZERO = 0, 1, 2
PLEDGES = ("none", "carbon_neutral", "net_zero")


class EmittingFirm(Member):
    """A firm that emits, may pledge, abates and buys and retires credits."""

    prefix = "firm"

    @property
    def pledge(self) -> str:
        """'none', 'carbon_neutral' or 'net_zero'."""
        return PLEDGES[self.market.firms.pledge[self.index]]

    @property
    def emissions_tco2_yr(self) -> float:
        """Current annual emissions, tCO2e."""
        return float(self.market.firms.emissions[self.index])

    @property
    def reputation(self) -> float:
        """Public reputation (0-1), cut by exposed greenwashing."""
        return float(self.market.firms.reputation[self.index])


@dataclass
class Demand:
    """This step's demand: one row per firm reporting with a target (its bid may be for zero
    credits when it abates everything or the offset cap is zero)."""

    firm: np.ndarray
    quantity: np.ndarray
    limit_usd: np.ndarray
    kind: np.ndarray
    segment: np.ndarray
    """Segment of its type each row bids in (see :mod:`vcm_sim.segments`; 0 when books do
    not split, :func:`vcm_sim.valuation.choose_segments` otherwise)."""
    target: np.ndarray
    step_price: np.ndarray
    """Limit prices of each firm's bids (rows: firms, columns: steps of its demand curve)."""
    step_quantity: np.ndarray
    """Credits bid at each step: together the credits the firm wants at each price."""
    step_ahead: np.ndarray
    """Credits bid at each step for the next claim year, held until it opens: together the
    credits the firm buys ahead at each price (:meth:`FirmPopulation.ahead_share`)."""


def bass_hazard(params: FirmParams, share: float) -> float:
    """Yearly hazard that a firm without a pledge adopts one, by Bass diffusion with market
    potential ``M = pledge_potential`` when ``share`` of all firms hold one: new adopters
    ``(p + q * share / M) * (M - share)`` over the firms without a pledge, ``1 - share``;
    zero once the pledged share reaches the potential. With ``M = 1`` it is
    ``p + q * share``."""
    p, q, potential = (params.pledge_innovation_yr, params.pledge_imitation_yr,
                       params.pledge_potential)
    if potential >= 1.0:
        return p + q * share
    if share >= potential:
        return 0.0
    return (p + q * share / potential) * (potential - share) / (1.0 - share)


@dataclass
class FirmPopulation:
    """All firms as arrays."""

    emissions: np.ndarray
    pledge: np.ndarray
    mac_slope: np.ndarray
    wtp: np.ndarray
    quality_seeking: np.ndarray
    reputation: np.ndarray
    favourite_kind: np.ndarray
    buy_month: np.ndarray
    claimed_this_year: np.ndarray
    real_this_year: np.ndarray
    claim_kind: np.ndarray
    exposed_this_year: np.ndarray
    purchased: np.ndarray
    """Has bought for its current claim year."""
    type_value: np.ndarray
    """Per type, what buyers pay for its credits relative to their willingness to pay (x)."""
    contributes: np.ndarray
    """Whether the firm's claims are contribution claims (not counted against its own
    emissions: see ``Firms.contribution_share``)."""
    covered: np.ndarray
    """Credits the firm held when its claim year opened, bought ahead and retired then
    behind its claim: what it need not buy this claim year."""

    @classmethod
    def create(cls, rng: np.random.Generator, n: int, params: FirmParams,
               type_mix: np.ndarray, type_value: np.ndarray) -> FirmPopulation:
        """``n`` firms with lognormal emissions, costs and willingness to pay; ``type_value``
        scales what they pay per type (:attr:`type_value`). The first
        ``contribution_share`` of them make contribution claims (firms are drawn
        independently, so they are a random sample, and no draw is spent on it)."""
        pledge = rng.choice(len(PLEDGES), size=n, p=[params.pledge_none, params.pledge_neutral,
                                                     params.pledge_net_zero])
        return cls(emissions=params.emissions_tco2_yr
                   * rng.lognormal(0.0, params.emissions_spread, n),
                   pledge=pledge,
                   mac_slope=params.mac_slope_usd * rng.lognormal(0.0, params.mac_spread, n),
                   wtp=params.willingness_to_pay_usd * rng.lognormal(0.0, params.wtp_spread, n),
                   quality_seeking=rng.random(n) < params.quality_preference,
                   reputation=np.ones(n),
                   favourite_kind=rng.choice(len(type_mix), size=n, p=type_mix),
                   buy_month=rng.integers(0, STEPS_PER_YEAR, n),
                   claimed_this_year=np.zeros(n),
                   real_this_year=np.zeros(n),
                   claim_kind=np.full(n, -1),
                   exposed_this_year=np.zeros(n, dtype=bool),
                   purchased=np.zeros(n, dtype=bool),
                   type_value=np.asarray(type_value, dtype=float),
                   contributes=np.arange(n) < round(params.contribution_share * n),
                   covered=np.zeros(n))

    def open_claim_year(self, month: int) -> np.ndarray:
        """Firms whose reporting month was last month start a new claim year: credits
        claimed and real tonnes behind them reset, nothing bought or covered yet, not
        exposed yet. A claim is thus open to exposure until the next claim year opens.
        Returns those firms (the market retires what they bought ahead behind the new
        claim, :attr:`covered`)."""
        opening = (self.buy_month == (month - 1) % STEPS_PER_YEAR).nonzero()[0]  # a twelfth
        self.claimed_this_year[opening] = 0.0
        self.real_this_year[opening] = 0.0
        self.claim_kind[opening] = -1
        self.exposed_this_year[opening] = False
        self.purchased[opening] = False
        self.covered[opening] = 0.0
        return opening

    def grow(self, growth_yr: float) -> None:
        """One month of emissions change."""
        self.emissions *= (1.0 + growth_yr) ** (1.0 / STEPS_PER_YEAR)

    def cheapest(self, price: np.ndarray, sentiment: np.ndarray) -> float:
        """The price (USD per tCO2e) of a trusted credit, the same for every firm: the lowest
        ratio of a type's ``price`` to what buyers make of it (their trust, ``sentiment``,
        times its :attr:`type_value`), over the types trusted at all (the type a priced-out
        firm falls back on, :meth:`demand`)."""
        appeal = (sentiment * self.type_value).tolist()  # a handful of types: plain floats
        return min((p / max(a, 1e-9) if a > 0 else math.inf)
                   for p, a in zip(price.tolist(), appeal))

    def affordability(self, price: np.ndarray, sentiment: np.ndarray) -> np.ndarray:
        """Per firm (0-1): how far the price of a trusted credit (:meth:`cheapest`) is below
        what a credit is worth to the firm: ``1 - price / wtp``, clipped."""
        return (1.0 - self.cheapest(price, sentiment) / self.wtp).clip(0.0, 1.0)

    def adopt_pledges(self, rng: np.random.Generator, params: FirmParams,
                      affordability: np.ndarray, confidence: float) -> None:
        """One month of pledge diffusion, one uniform draw per firm.

        A firm without a pledge adopts a carbon-neutral one with monthly hazard
        ``bass / 12 * affordability * confidence`` (``affordability`` per firm,
        :meth:`affordability`; ``confidence`` 0-1, the market's trust in nature-based
        credits), where ``bass`` is Bass diffusion's yearly hazard with market potential
        ``M`` (:func:`bass_hazard`); a pledged firm drops its pledge with monthly hazard
        ``pledge_drop_yr / 12 * (1 - affordability * confidence)``.
        """
        draw = rng.random(len(self.pledge))
        pledged = self.pledge != NONE
        share = np.count_nonzero(pledged) / len(pledged)
        welcome = affordability * confidence
        adopt = bass_hazard(params, share) * welcome
        drop = params.pledge_drop_yr * (1.0 - welcome)
        hazard = np.where(pledged, drop, adopt) / STEPS_PER_YEAR
        switch = (draw < hazard).nonzero()[0]
        self.pledge[switch] = np.where(pledged[switch], NONE, NEUTRAL)

    def coverage(self, params: FirmParams, firm: np.ndarray | slice) -> np.ndarray:
        """Largest share of its emissions each of firms ``firm`` claims under its pledge."""
        by_pledge = np.array([0.0, params.neutral_coverage, params.residual_share])
        return by_pledge[self.pledge[firm]]  # indexed by NONE, NEUTRAL, NET_ZERO

    def plan(self, params: FirmParams, firm: np.ndarray | slice, kind: np.ndarray,
             price: np.ndarray, sentiment: np.ndarray,
             offset_cap: float) -> tuple[np.ndarray, np.ndarray]:
        """Targets (tCO2e per year) and credit shares (0-1) of firms ``firm`` buying type
        ``kind`` at ``price`` (per type, USD per tCO2e).

        The credit share is what is not worth abating, within the cap: ``1 - a*`` with
        ``a* = max(p / slope, 1 - offset_cap)``. A claimed tonne then costs ``u = slope *
        a*^2 / 2 + p * (1 - a*)``; its value to the firm, ``w = wtp * sentiment * type_value``,
        falls to zero at the pledge's full coverage, so the firm claims ``coverage * (1 -
        u / w)`` of its emissions: a dearer credit or a tighter cap lowers
        the target itself, not only the split between credits and abatement. Under an
        ``obligation`` the firm covers its full coverage whatever it costs.
        """
        return self.plan_at(params, firm, kind, price[kind], sentiment, offset_cap)

    def plan_at(self, params: FirmParams, firm: np.ndarray | slice, kind: np.ndarray,
                p: np.ndarray, sentiment: np.ndarray, offset_cap: float,
                worth: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`plan` at a price per firm (``p``, USD per tCO2e, aligned with ``firm``; or
        several per firm, ``firm`` and ``kind`` a column against the columns of ``p``);
        ``worth``, what a credit is worth to each firm (USD per tCO2e), when the caller has
        it already."""
        slope = self.mac_slope[firm]
        share = _credit_share(slope, p, offset_cap)
        abated = 1.0 - share
        unit_cost = slope * abated ** 2 / 2.0 + p * share
        if worth is None:
            worth = self.wtp[firm] * (sentiment * self.type_value)[kind]
        # Prices are never negative, so neither is the cost's ratio to the worth: 1 - ratio is
        # at most 1 and only the floor at 0 binds.
        value_left = np.maximum(1.0 - np.divide(unit_cost, worth,
                                                out=np.full(unit_cost.shape, np.inf),
                                                where=worth > 0), 0.0)
        if params.obligation:
            value_left = np.ones(unit_cost.shape)
        target = self.coverage(params, firm) * value_left * self.emissions[firm]
        return target, share

    def claiming(self, claim_standard: str) -> np.ndarray:
        """Mask of the firms that make claims: those with a pledge, and under the 'sbti'
        claim standard only net-zero ones."""
        if claim_standard == "sbti":
            return self.pledge == NET_ZERO
        return self.pledge != NONE

    def buying(self, rng: np.random.Generator, month: int, params: FirmParams,
               trend: np.ndarray, claim_standard: str) -> np.ndarray:
        """Firms that buy this month, one uniform draw per firm.

        A pledged firm that has not bought for its claim year buys with hazard
        ``purchase_spread * (1 + purchase_anticipation * max(trend, 0)) / months_left``,
        ``trend`` being the expected log price change per year of its favourite type and
        ``months_left`` the months to its reporting month (1 in it: it must buy then).
        Under the 'sbti' claim standard only net-zero firms buy.
        """
        draw = rng.random(len(self.pledge))
        due = (self.claiming(claim_standard) & ~self.purchased).nonzero()[0]
        months_left = (self.buy_month[due] - month) % STEPS_PER_YEAR + 1
        eager_by_type = 1.0 + params.purchase_anticipation * np.maximum(trend, 0.0)
        eager = eager_by_type[self.favourite_kind[due]]
        hazard = np.where(months_left == 1, 1.0, params.purchase_spread * eager / months_left)
        return due[draw[due] < hazard]

    def ahead_share(self, params: FirmParams, expected: np.ndarray,
                    price: np.ndarray) -> np.ndarray:
        """Share (0-1) of its next claim year's credits a firm buys now at ``price`` (USD per
        tCO2e) when it expects to pay ``expected`` for them next year (aligned or
        broadcast): ``buy_ahead_response`` times the gain of buying now, ``ln(expected /
        price)``, less the cost of holding a credit a year, ``cost_of_capital_yr +
        pledge_drop_yr`` (a firm that drops its pledge has no use for it), within 0 and 1.
        With a large response it is arbitrage: all of next year's credits below
        ``expected * exp(-hurdle)``, none above."""
        hurdle = params.cost_of_capital_yr + params.pledge_drop_yr
        gain = np.log(np.divide(expected, price, out=np.ones(np.broadcast(expected,
                                                                           price).shape),
                                where=price > 0))
        return (params.buy_ahead_response * (gain - hurdle)).clip(0.0, 1.0)

    def demand(self, rng: np.random.Generator, firm: np.ndarray, params: FirmParams,
               price: np.ndarray, sentiment: np.ndarray, offset_cap: float,
               type_mix: np.ndarray, on_offer: np.ndarray) -> Demand:
        """Bids of firms ``firm`` (those buying this month, :meth:`buying`).

        Type: the firm's favourite, unless scandals turned it away (with probability the share
        of trust it lost against the best-trusted type),
        its price is above what the firm will pay for it or no seller holds it (``on_offer``,
        per type): then the best-value type on offer, if the firm will pay its price.
        Quantity: the credit share of its target (:meth:`plan`) at the price it plans with
        (``price``, per type: what it expects to pay, now and next year), less what it bought
        ahead for this claim year (:attr:`covered`); and, at each step of its demand curve, the
        share of its next claim year's credits worth buying ahead at that step's price
        (:meth:`ahead_share`; the next claim taken to be this one). Limit
        price: willingness to pay, scaled by the type's
        sentiment (scandals lower it) and :attr:`type_value`: what an unrated credit is
        worth to it. Segment: 0 (with quality books,
        :func:`vcm_sim.valuation.choose_segments` then picks one and scales the limits by
        its worth).
        """
        self.purchased[firm] = True
        weights = type_mix * sentiment
        kind = self.favourite_kind[firm]
        if weights.sum() > 0:
            # Firms whose favourite type fell out of favour switch with the trust it lost
            # against the best-trusted type: a loss every type shares moves no one.
            relative = sentiment / sentiment.max()
            switch = (rng.random(len(firm)) > relative[kind]).nonzero()[0]
            if len(switch):  # inverse-CDF draws: what rng.choice(p=...) does, less overhead
                cdf = (weights / weights.sum()).cumsum()
                kind[switch] = (cdf / cdf[-1]).searchsorted(rng.random(len(switch)), side="right")
        # Firms priced out of their favourite type fall back on the best-value one.
        appeal = sentiment * self.type_value
        value_price = np.where(weights > 0, price / np.maximum(appeal, 1e-9), np.inf)
        if on_offer.any():
            value_price = np.where(on_offer, value_price, np.inf)
        best = int(value_price.argmin())
        wtp = self.wtp[firm]
        priced_out = (wtp * appeal[kind] < price[kind]) | ~on_offer[kind]
        kind[priced_out & (wtp * appeal[best] >= price[best])] = best
        limit = wtp * appeal[kind]
        (target, quantity), (step_price, step_quantity, step_ahead) = self._plan_and_curve(
            params, firm, kind, price[kind], limit, sentiment, offset_cap)
        return Demand(firm, quantity, limit, kind, np.zeros(len(firm), dtype=np.int64), target,
                      step_price, step_quantity, step_ahead)

    def demand_curve(self, params: FirmParams, firm: np.ndarray, kind: np.ndarray,
                     worth: np.ndarray, sentiment: np.ndarray, offset_cap: float
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Each firm's demand curve as ``params.bid_steps`` bids: at prices ``worth * j /
        steps`` (j = 1..steps, ``worth`` what a credit of its type is worth to it, USD per
        tCO2e), the credits it would want at that price (:meth:`plan_at`) beyond those it
        wants at the next step up. A firm so buys more when credits are cheap and less when
        they are dear, instead of taking the planned quantity at any price up to its
        worth."""
        return self._plan_and_curve(params, firm, kind, worth, worth, sentiment,
                                    offset_cap)[1][:2]

    def _plan_and_curve(self, params: FirmParams, firm: np.ndarray, kind: np.ndarray,
                        planned: np.ndarray, worth: np.ndarray, sentiment: np.ndarray,
                        offset_cap: float
                        ) -> tuple[tuple[np.ndarray, np.ndarray],
                                   tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The targets (tCO2e per year) and whole credits wanted (:meth:`plan_at`, less those
        :attr:`covered`) at the ``planned`` prices (what the firms expect to pay, now and
        next year), :meth:`demand_curve`, and the credits bid at each of its steps for the
        next claim year (:meth:`ahead_share` at the step's price), from one vectorised
        evaluation of the plan at every step's price and at the planned one."""
        steps = params.bid_steps
        prices = worth[:, None] * _step_fractions(steps)
        at = np.concatenate([prices, planned[:, None]], axis=1)
        target, share = self.plan_at(params, firm[:, None], kind[:, None], at, sentiment,
                                     offset_cap, worth[:, None])
        claim = np.floor(share * target)
        wanted = np.maximum(claim - self.covered[firm, None], 0.0)
        quantity = _bids(wanted[:, :steps])
        ahead = np.zeros(quantity.shape, dtype=np.int64)
        if params.buy_ahead_response:  # next year's credits as wanted at the planned price
            share_ahead = self.ahead_share(params, planned[:, None], prices)
            ahead = _bids(np.floor(share_ahead * claim[:, steps:]))
        return ((target[:, steps], wanted[:, steps].astype(np.int64)),
                (prices, quantity, ahead))

    def credit_share(self, firm: np.ndarray | slice, price: np.ndarray,
                     offset_cap: float) -> np.ndarray:
        """Share (0-1) of their targets firms ``firm`` want in credits at ``price`` (USD per
        tCO2e, one per firm): what is not worth abating, ``1 - price / slope``, within the
        offset cap."""
        return _credit_share(self.mac_slope[firm], price, offset_cap)

    def expected_monthly_demand(self, params: FirmParams, price: np.ndarray,
                                sentiment: np.ndarray, offset_cap: float,
                                n_types: int) -> np.ndarray:
        """Credits per month pledged firms would bid for, by their favourite type, at
        ``price`` (what a running market trades in a typical month; traders size on it)."""
        kind = self.favourite_kind
        target, credit_share = self.plan(params, slice(None), kind, price, sentiment,
                                         offset_cap)
        return (np.bincount(kind, weights=credit_share * target, minlength=n_types)
                / STEPS_PER_YEAR)

    def abatement_cost(self, firm: np.ndarray, target: np.ndarray,
                       abated: np.ndarray) -> np.ndarray:
        """Cost (USD) of abating ``abated`` tonnes of ``target`` under the linear MAC."""
        share = np.divide(abated, target, out=np.zeros(len(abated)), where=target > 0)
        return self.mac_slope[firm] * share ** 2 / 2.0 * target


def _bids(wanted: np.ndarray) -> np.ndarray:
    """Bids (whole credits, int64) of a demand curve given the credits ``wanted`` at each of
    its step prices (columns, cheapest first, never rising with the price): at each step,
    those wanted beyond the next step's."""
    above = np.concatenate([wanted[:, 1:], np.zeros((len(wanted), 1))], axis=1)
    return np.maximum(wanted - above, 0).astype(np.int64)


def _credit_share(slope: np.ndarray, price: np.ndarray, offset_cap: float) -> np.ndarray:
    """:meth:`FirmPopulation.credit_share` of firms with MAC slopes ``slope`` (USD per
    tCO2e)."""
    # No floor at 0 on the abated share: the cap (a share, at most 1) bounds what it would
    # leave above 1 all the same.
    abated_share = np.minimum(price / slope, 1.0)
    return np.minimum(1.0 - abated_share, offset_cap)


@functools.cache
def _step_fractions(steps: int) -> np.ndarray:
    """The demand curve's step prices as fractions of a credit's worth: ``j / steps`` for
    j = 1..steps (read-only: shared by every month's bids)."""
    fraction = np.arange(1, steps + 1) / steps
    fraction.flags.writeable = False
    return fraction
