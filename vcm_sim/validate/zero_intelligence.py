"""Zero-intelligence traders on the continuous double auction, after Gode and Sunder (1993,
JPE 101(1): 119-137): the markets, one trading period, and allocative efficiency against the
competitive equilibrium. ``experiments/zi_validation.py`` writes the full replication and
``vcm-sim validate`` a shorter one.

Budget-constrained (ZI-C) buyers bid uniformly on the integers 1..value of their current unit
and sellers ask uniformly on cost..200; unconstrained (ZI-U) traders bid and ask uniformly on
1..200. A crossing order trades at the resting order's price and every trade clears the book.
Allocative efficiency = realised surplus / maximum surplus, in percent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vcm_sim.market.call_auction import call_auction
from vcm_sim.market.order_book import OrderBook

PRICE_MIN, PRICE_MAX = 1, 200

PUBLISHED = {  # Gode & Sunder (1993), Table 2: mean efficiency (%) in markets 1-5
    "ZI-C": [99.9, 99.2, 99.0, 98.2, 97.1],
    "ZI-U": [90.0, 90.0, 76.7, 48.8, 86.0],
}


def six(steps: list[int]) -> list[list[int]]:
    """Six traders holding the same units, in trading order."""
    return [list(steps) for _ in range(6)]


def staircase(first: int, last: int, beyond: int) -> list[list[int]]:
    """Market 5's side: 18 evenly spaced units dealt in turn to three traders (six each),
    and three traders with seven units each at ``beyond``, just past the equilibrium."""
    steps = np.floor(np.linspace(first, last, 18) + 0.5).astype(int).tolist()
    return [steps[k::3] for k in range(3)] + [[beyond] * 7 for _ in range(3)]


# Buyers' redemption values and sellers' costs (per trader, in trading order), read from the
# step curves of Gode & Sunder's Figs. 1-5 as digitised in ndouglas/SugarScape
# (crates/sugarscape-core/src/zi/market.rs); see README.md for how faithful they are.
MARKETS = {
    1: (six([102, 97, 92, 87, 82, 77]), six([34, 46, 58, 70, 82, 94])),
    2: (six([117, 105, 93, 81, 69, 57]), six([49, 54, 59, 64, 69, 74])),
    3: (six([133, 95, 90]), six([90, 95, 100])),
    4: (six([180, 175, 170, 165, 160]), six([90, 142, 170, 190, 198])),
    5: (staircase(159, 131, 127), staircase(96, 124, 131)),
}


@dataclass(frozen=True)
class Equilibrium:
    """Competitive equilibrium of a market: price (midpoint of the clearing interval), volume
    (units, including zero-surplus ones) and the maximum total surplus."""

    price: float
    volume: int
    surplus: float


def equilibrium(buyers: list[list[int]], sellers: list[list[int]]) -> Equilibrium:
    """The competitive equilibrium, by clearing every unit at its value or cost."""
    values = np.array([v for units in buyers for v in units], dtype=float)
    costs = np.array([c for units in sellers for c in units], dtype=float)
    cleared = call_auction(values, np.ones(len(values), dtype=int),
                           costs, np.ones(len(costs), dtype=int))
    surplus = values @ cleared.bid_fill - costs @ cleared.ask_fill
    return Equilibrium(cleared.price, cleared.volume, float(surplus))


def trading_period(buyers: list[list[int]], sellers: list[list[int]], constrained: bool,
                   shouts: int, rng: np.random.Generator) -> tuple[float, list[float]]:
    """Run one period; return the realised surplus (value minus cost of the units traded, in
    the experiment's currency) and the transaction prices in order."""
    limits = buyers + sellers
    n_buyers = len(buyers)
    next_unit = [0] * len(limits)
    active = list(range(len(limits)))
    book = OrderBook()
    surplus, prices = 0.0, []
    picks, draws = rng.random((2, shouts)).tolist()
    for pick, draw in zip(picks, draws):
        trader = active[int(pick * len(active))]
        limit = limits[trader][next_unit[trader]]
        is_buyer = trader < n_buyers
        if not constrained:
            low, high = PRICE_MIN, PRICE_MAX
        elif is_buyer:
            low, high = PRICE_MIN, limit
        else:
            low, high = limit, PRICE_MAX
        price = float(low + int(draw * (high - low + 1)))  # uniform on the integers low..high
        trades = book.submit("buy" if is_buyer else "sell", price, 1, trader)
        if not trades:
            continue
        [trade] = trades
        surplus += (limits[trade.buyer][next_unit[trade.buyer]]
                    - limits[trade.seller][next_unit[trade.seller]])
        prices.append(trade.price)
        book.clear()
        for party in (trade.buyer, trade.seller):
            next_unit[party] += 1
            if next_unit[party] == len(limits[party]):
                active.remove(party)
        if not any(t < n_buyers for t in active) or all(t < n_buyers for t in active):
            break  # one side has nothing left to trade
    return surplus, prices


def simulate(periods: int, shouts: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """Efficiency of every period in every market for both trader types, and the prices of
    each market's first period (for the plot)."""
    streams = iter(np.random.SeedSequence(seed).spawn(2 * len(MARKETS)))
    rows, first_prices = [], {}
    for market, (buyers, sellers) in MARKETS.items():
        best = equilibrium(buyers, sellers)
        for traders in ("ZI-C", "ZI-U"):
            rng = np.random.default_rng(next(streams))
            for period in range(1, periods + 1):
                surplus, prices = trading_period(buyers, sellers, traders == "ZI-C", shouts,
                                                 rng)
                rows.append({"market": market, "traders": traders, "period": period,
                             "efficiency_pct": 100 * surplus / best.surplus,
                             "trades": len(prices)})
                if period == 1:
                    first_prices[(market, traders)] = prices
    return pd.DataFrame(rows), first_prices


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and range of efficiency per market and trader type, beside
    the published means."""
    table = (runs.groupby(["market", "traders"])["efficiency_pct"]
             .agg(periods="size", mean_pct="mean", sd_pct="std", min_pct="min", max_pct="max")
             .reset_index())
    table["published_pct"] = [PUBLISHED[t][m - 1] for m, t in zip(table.market, table.traders)]
    return table
