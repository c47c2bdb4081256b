"""Traders: fundamentalists bet on reversion, chartists on trends, and, between linked
markets, arbitrageurs buy at home to sell where the price is best."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vcm_sim.agents.base import Member
from vcm_sim.scenario import Traders as TraderParams

FUNDAMENTALIST, CHARTIST, ARBITRAGEUR = 0, 1, 2


class Trader(Member):
    """A trader in one project type's credits."""

    prefix = "trader"

    @property
    def rule(self) -> str:
        """'fundamentalist', 'chartist' or 'arbitrageur'."""
        return ("fundamentalist", "chartist", "arbitrageur")[
            self.market.traders.rule[self.index]]


@dataclass
class TraderPopulation:
    """All traders as arrays."""

    rule: np.ndarray
    kind: np.ndarray

    @classmethod
    def create(cls, rng: np.random.Generator, n: int, params: TraderParams,
               type_mix: np.ndarray) -> TraderPopulation:
        """``n`` traders, each in one project type drawn from ``type_mix``, of them a share
        ``chartist_share`` chartists; but the first ``arbitrage_share`` of them (rounded,
        halves to even) are arbitrageurs, spread evenly over the types in the mix, so that
        no type is left without one by chance (no draw is spent on them)."""
        rule = (rng.random(n) < params.chartist_share).astype(np.int64)
        kind = rng.choice(len(type_mix), size=n, p=type_mix)
        arbitrageurs = round(params.arbitrage_share * n)
        rule[:arbitrageurs] = ARBITRAGEUR
        traded = np.flatnonzero(type_mix > 0)
        kind[:arbitrageurs] = traded[np.arange(arbitrageurs) % len(traded)]
        return cls(rule=rule, kind=kind)

    def expectations(self, last_price: np.ndarray, trend: np.ndarray,
                     fundamental: np.ndarray, params: TraderParams) -> np.ndarray:
        """Expected next price (USD per tCO2e) of each trader.

        Fundamentalists expect the long-run average of their type's price; chartists expect
        the last price plus the recent monthly trend, extrapolated ``trend_memory_months``
        months, and at least ``min_price_usd``.
        """
        k = self.kind
        chart = last_price[k] + params.trend_memory_months * trend[k]
        return np.where(self.rule == CHARTIST, np.maximum(chart, params.min_price_usd),
                        fundamental[k])

    def orders(self, expected: np.ndarray, last_price: np.ndarray, inventory: np.ndarray,
               typical_volume: np.ndarray, params: TraderParams
               ) -> tuple[np.ndarray, np.ndarray]:
        """Signed order quantities (credits; + buy, - sell) and limit prices (USD per tCO2e).

        A trader buys when it expects the price to rise by more than ``dead_band`` and sells
        (from inventory only) when it expects a fall; the size is ``aggressiveness`` times the
        relative mispricing times the type's typical volume per trader.
        """
        p = last_price[self.kind]
        gap = np.divide(expected - p, p, out=np.zeros_like(p), where=p > 0)
        size = np.floor(params.aggressiveness * np.abs(gap) * typical_volume[self.kind])
        buy = (gap > params.dead_band) & (size > 0)
        sell = (gap < -params.dead_band) & (inventory > 0)
        quantity = np.where(buy, size, 0) - np.where(sell, np.minimum(size, inventory), 0)
        return quantity.astype(np.int64), expected

    def arbitrage(self, value: np.ndarray, home_price: np.ndarray, holding: np.ndarray,
                  depth: np.ndarray, params: TraderParams) -> tuple[np.ndarray, np.ndarray]:
        """Credits each arbitrageur bids for at home and its limit price (per tCO2e, in the
        market's currency; zero credits for the other traders).

        ``value`` (per type) is the best last price a credit fetches in a market that takes
        it, net of the transfer cost abroad; ``home_price`` (per type) the last price at
        home. While the value exceeds the home price by more than ``dead_band``, an
        arbitrageur holds a position of ``aggressiveness`` times the relative gap (at most 1)
        times ``depth`` (per trader: the typical monthly volume of its type, per trader, in
        the market where its credits fetch the value) and bids for what it lacks of it beyond
        its ``holding`` (per trader: every credit it holds), at most the value less the dead
        band.
        """
        k = self.kind
        p = home_price[k]
        gap = np.divide(value[k] - p, p, out=np.zeros_like(p), where=p > 0)
        target = np.floor(params.aggressiveness * gap.clip(0.0, 1.0) * depth)
        buy = (self.rule == ARBITRAGEUR) & (gap > params.dead_band)
        quantity = np.where(buy, np.maximum(target - holding, 0.0), 0.0)
        return quantity.astype(np.int64), value[k] / (1.0 + params.dead_band)
