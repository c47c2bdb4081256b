"""Covered firms of an ETS: emissions, abatement, allowance orders and the offsets they may
surrender.

A covered firm's marginal abatement cost is linear, ``MAC(a) = slope * a`` (currency per
tCO2e at abated share ``a``), so at an allowance price ``p`` it abates ``a = p / slope`` of
its business-as-usual emissions. Each month it asks how many allowances it will lack at the
deadline if the price is ``p``: its emissions so far plus the rest of the compliance year's
at ``a(p)``, less the allowances it holds and the credits it holds within the offset cap. It
bids for what it lacks and offers what it has to spare at a grid of prices up to the penalty
(its demand and supply curves). It looks no further than its compliance year: allowances it
does not need it sells at whatever the market pays, and what no one buys it banks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vcm_sim.agents.base import Member
from vcm_sim.ets.settings import Ets
from vcm_sim.projects import STEPS_PER_YEAR


class CoveredFirm(Member):
    """A firm under the ETS: it emits, abates, trades allowances and surrenders."""

    prefix = "covered"

    @property
    def allowances(self) -> int:
        """Allowances the firm holds (banked ones included)."""
        ets = self.market.ets
        return int(ets.book.held[self.index])


@dataclass
class CoveredFirms:
    """The covered firms' state, one row per firm."""

    bau_t_yr: np.ndarray
    """Business-as-usual emissions, tCO2e per year."""
    mac_slope: np.ndarray
    """Slope of the linear marginal abatement cost, currency per tCO2e at 100% abated."""
    emitted: np.ndarray
    """Emissions of the compliance year so far, tCO2e."""
    owed: np.ndarray
    """Allowances short at the last deadline, deducted from the next free allocation."""

    @classmethod
    def create(cls, rng: np.random.Generator, params: Ets) -> CoveredFirms:
        """``params.covered_firms`` firms with lognormal emissions and abatement slopes."""
        n = params.covered_firms
        bau = params.emissions_t_yr * rng.lognormal(0.0, params.emissions_spread, n)
        slope = params.mac_slope * rng.lognormal(0.0, params.mac_spread, n)
        return cls(bau, slope, np.zeros(n), np.zeros(n, dtype=np.int64))

    def abated_share(self, price: float | np.ndarray) -> np.ndarray:
        """Share (0-1) of its emissions each firm abates at allowance ``price`` (per firm
        or one for all, currency per tCO2e)."""
        return np.clip(np.divide(price, self.mac_slope), 0.0, 1.0)

    def emit(self, price: float) -> tuple[float, float]:
        """One month of emissions at the expected allowance ``price``; returns the tonnes
        abated and their cost (currency)."""
        share = self.abated_share(price)
        monthly = self.bau_t_yr / STEPS_PER_YEAR
        self.emitted += monthly * (1.0 - share)
        cost = self.mac_slope * share ** 2 / 2.0 * monthly
        return float((monthly * share).sum()), float(cost.sum())

    def projected(self, price: np.ndarray, months_left: int) -> np.ndarray:
        """Emissions each firm expects for its compliance year (tCO2e) if the allowance price
        is ``price`` (a firm-by-price grid, currency) for its ``months_left`` months."""
        rest = (self.bau_t_yr / STEPS_PER_YEAR * months_left)[:, None]
        return self.emitted[:, None] + rest * (1.0 - self.abated_share_grid(price))

    def abated_share_grid(self, price: np.ndarray) -> np.ndarray:
        """:meth:`abated_share` at a grid of prices, one row per firm."""
        return np.clip(price / self.mac_slope[:, None], 0.0, 1.0)

    def needs(self, grid: np.ndarray, months_left: int, allowances: np.ndarray,
              offsets: np.ndarray, cap: float, next_allocation: np.ndarray,
              growth: float, credit_price: float = math.inf,
              obtainable: float = 0.0) -> np.ndarray:
        """Allowances each firm would lack over the next twelve months (negative: would have
        to spare) at each price of ``grid`` (currency).

        This compliance year: its obligation at the deadline less the ``offsets`` (eligible
        credits held) the ``cap`` lets it surrender and, at prices above ``credit_price``
        (what credits cost, in currency), the ``obtainable`` share (0-1) of the room left
        under its cap, as there it buys credits rather than allowances; less the
        ``allowances`` it holds. The first months of the next compliance year: their
        emissions (grown by ``growth``) less, above ``credit_price``, the ``obtainable``
        share of the cap's credits, against as much of ``next_allocation`` (its free
        allocation for that year) as those months are of the year; only a shortage counts,
        as allowances cannot be borrowed. Looking a year ahead is what makes banking worth
        something: in the deadline month next year's emissions still respond to the price,
        so neither side of the market is fixed.
        """
        n = len(self.bau_t_yr)
        prices = np.broadcast_to(grid, (n, len(grid)))
        kept = 1.0 - self.abated_share_grid(prices)
        monthly = (self.bau_t_yr / STEPS_PER_YEAR)[:, None]
        obligation = np.ceil(self.emitted[:, None] + monthly * months_left * kept)
        most = np.floor(cap * obligation)
        held = np.minimum(offsets[:, None], most)
        buys = prices > credit_price
        usable = held + np.where(buys, np.floor(obtainable * (most - held)), 0)
        ahead = STEPS_PER_YEAR - months_left
        next_emissions = monthly * (1.0 + growth) * ahead * kept
        next_credits = next_emissions * np.where(buys, obtainable * cap, 0.0)
        next_cover = next_credits + (next_allocation * ahead / STEPS_PER_YEAR)[:, None]
        this_year = obligation - usable - allowances[:, None]
        return this_year + np.maximum(next_emissions - next_cover, 0.0)


def curves(needs: np.ndarray, grid: np.ndarray, held: np.ndarray
           ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray],
                      tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Bids and asks from each firm's ``needs`` at the rising prices of ``grid``: at each
    price a firm bids for what it would lack there beyond what it lacks one step up, and
    offers what it would spare there beyond what it spares one step down, never more than
    it ``held``. Returns (firm, price, quantity) for the bids, then for the asks."""
    want = np.maximum(needs, 0.0)
    above = np.concatenate([want[:, 1:], np.zeros((len(want), 1))], axis=1)
    bid_q = (want - above).astype(np.int64)
    spare = np.minimum(np.maximum(-needs, 0.0), held[:, None])
    below = np.concatenate([np.zeros((len(spare), 1)), spare[:, :-1]], axis=1)
    ask_q = (spare - below).astype(np.int64)
    firm, step = (bid_q > 0).nonzero()
    bids = firm, grid[step], bid_q[firm, step]
    firm, step = (ask_q > 0).nonzero()
    asks = firm, grid[step], ask_q[firm, step]
    return bids, asks
