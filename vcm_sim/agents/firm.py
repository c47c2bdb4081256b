"""Emitting firms: emissions, pledges, abatement versus credits, bids and claims.

Each firm with a pledge has an annual target ``T`` (tCO2e): a share of its emissions for a
carbon-neutral claim, its residual emissions for a net-zero pledge. It buys once a year, in
its reporting month. Abatement has a linear marginal cost ``MAC(a) = slope * a`` (USD per
tCO2e at abated share ``a`` of T), so at expected price ``p`` it abates ``a* = p / slope`` and
wants credits for the rest, within the offset cap. What it cannot buy it abates.
"""

from __future__ import annotations

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
        return PLEDGES[self.model.firms.pledge[self.index]]

    @property
    def emissions_tco2_yr(self) -> float:
        """Current annual emissions, tCO2e."""
        return float(self.model.firms.emissions[self.index])

    @property
    def reputation(self) -> float:
        """Public reputation (0-1), cut by exposed greenwashing."""
        return float(self.model.firms.reputation[self.index])


@dataclass
class Demand:
    """This step's demand: one row per firm reporting with a target (its bid may be for zero
    credits when it abates everything or the offset cap is zero)."""

    firm: np.ndarray
    quantity: np.ndarray
    limit_usd: np.ndarray
    kind: np.ndarray
    high_tier: np.ndarray
    target: np.ndarray


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

    @classmethod
    def create(cls, rng: np.random.Generator, n: int, params: FirmParams,
               type_mix: np.ndarray) -> FirmPopulation:
        """``n`` firms with lognormal emissions, costs and willingness to pay."""
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
                   exposed_this_year=np.zeros(n, dtype=bool))

    def open_claim_year(self, month: int) -> None:
        """Firms reporting this month start a new claim: credits claimed and real tonnes
        behind it reset, and it has not been exposed yet. A claim is thus open to exposure
        for twelve months, whatever the reporting month."""
        reporting = self.buy_month == month
        self.claimed_this_year[reporting] = 0.0
        self.real_this_year[reporting] = 0.0
        self.claim_kind[reporting] = -1
        self.exposed_this_year[reporting] = False

    def grow(self, growth_yr: float) -> None:
        """One month of emissions change."""
        self.emissions *= (1.0 + growth_yr) ** (1.0 / STEPS_PER_YEAR)

    def adopt_pledges(self, rng: np.random.Generator, rate_yr: float, confidence: float) -> None:
        """Firms without a pledge adopt a carbon-neutral one; ``confidence`` (0-1) is the
        market's trust in credits, which scandals lower."""
        adopting = (self.pledge == NONE) & (rng.random(len(self.pledge))
                                            < rate_yr / STEPS_PER_YEAR * confidence)
        self.pledge[adopting] = NEUTRAL

    def targets(self, params: FirmParams, firm: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Annual tonnes that firms ``firm`` (default all) want neutralised (tCO2e; 0 without
        a pledge)."""
        pledge = self.pledge[firm]
        share = np.where(pledge == NEUTRAL, params.neutral_coverage,
                         np.where(pledge == NET_ZERO, params.residual_share, 0.0))
        return share * self.emissions[firm]

    def demand(self, rng: np.random.Generator, month: int, params: FirmParams,
               expected_price: np.ndarray, sentiment: np.ndarray, offset_cap: float,
               claim_standard: str, tiers: bool, type_mix: np.ndarray) -> Demand:
        """Bids of the firms reporting this month.

        Type: the firm's favourite, unless scandals turned it away (with the lost sentiment)
        or its price is above the firm's willingness to pay (then the best-value type).
        Quantity: credits for the share of the target not worth abating at the expected price
        of the chosen type, capped by ``offset_cap``. Limit price: willingness to pay,
        scaled by the type's sentiment (scandals lower it) and, for quality-seeking firms in
        the high tier, by ``high_tier_premium``. Under the 'sbti' claim standard only
        net-zero firms buy.
        """
        buying = (self.buy_month == month) & (self.pledge != NONE)
        if claim_standard == "sbti":
            buying &= self.pledge == NET_ZERO
        firm = buying.nonzero()[0]
        weights = type_mix * sentiment
        kind = self.favourite_kind[firm].copy()
        if weights.sum() > 0:
            # Firms whose favourite type fell out of favour switch with the lost sentiment.
            switch = (rng.random(len(firm)) > sentiment[kind]).nonzero()[0]
            if len(switch):  # inverse-CDF draws: what rng.choice(p=...) does, less overhead
                cdf = (weights / weights.sum()).cumsum()
                kind[switch] = (cdf / cdf[-1]).searchsorted(rng.random(len(switch)), side="right")
        # Firms priced out of their favourite type fall back on the best-value one.
        value_price = np.where(weights > 0, expected_price / np.maximum(sentiment, 1e-9), np.inf)
        priced_out = self.wtp[firm] * sentiment[kind] < expected_price[kind]
        kind[priced_out] = int(np.argmin(value_price))
        target = self.targets(params, firm)
        credit_share = self.credit_share(firm, expected_price[kind], offset_cap)
        high = self.quality_seeking[firm] & tiers
        premium = np.where(high, params.high_tier_premium, 1.0)
        limit = self.wtp[firm] * sentiment[kind] * premium
        quantity = np.floor(credit_share * target).astype(np.int64)
        return Demand(firm, quantity, limit, kind, high, target)

    def credit_share(self, firm: np.ndarray | slice, price: np.ndarray,
                     offset_cap: float) -> np.ndarray:
        """Share (0-1) of their targets firms ``firm`` want in credits at ``price`` (USD per
        tCO2e, one per firm): what is not worth abating, ``1 - price / slope``, within the
        offset cap."""
        abated_share = (price / self.mac_slope[firm]).clip(0.0, 1.0)
        return np.minimum(1.0 - abated_share, offset_cap)

    def expected_monthly_demand(self, params: FirmParams, expected_price: np.ndarray,
                                offset_cap: float, n_types: int) -> np.ndarray:
        """Credits per month firms would bid for, by their favourite type, at the expected
        prices (what a running market trades in a typical month; traders size on it)."""
        kind = self.favourite_kind
        share = self.credit_share(slice(None), expected_price[kind], offset_cap)
        return (np.bincount(kind, weights=share * self.targets(params), minlength=n_types)
                / STEPS_PER_YEAR)

    def abatement_cost(self, firm: np.ndarray, target: np.ndarray,
                       abated: np.ndarray) -> np.ndarray:
        """Cost (USD) of abating ``abated`` tonnes of ``target`` under the linear MAC."""
        share = np.divide(abated, target, out=np.zeros_like(abated), where=target > 0)
        return self.mac_slope[firm] * share ** 2 / 2.0 * target
