"""Arbitrage between linked markets: traders that buy credits at home to sell them where they
fetch more.

Each month, before any market clears (:meth:`~vcm_sim.linking.Link.route`), :func:`plan`
reads every linked market's last price of each type in its standard book (where traders trade)
and gives each arbitrageur of a market its venue: the market whose buyers accept its type and
pay most for it net of the transfer cost abroad, if that beats the home price by more than the
arbitrageur's dead band; home otherwise. An arbitrageur whose venue is abroad offers there what
it holds that that market takes (without an adjustment: authorised credits excluded; within
that market's vintage cut-off), undercutting that market's last price by its dead band, but
never below what beats selling at home by that margin (:func:`asks_abroad`), and bids at home
for what it lacks of its position, counting every credit it holds (see
:meth:`~vcm_sim.agents.trader.TraderPopulation.arbitrage`). One whose venue is home offers all
it holds at home, at the home price, and buys nothing; so does one that holds credits it could
sell at home but not at its venue (too old for the venue's buyers, or authorised). Credits too
old for every market are its loss: they fill its position, so it stops buying rather than
pile them up. Prices stop being pulled together once the spread is within the transfer cost
and the dead band: that bound is the rule's; how fast, how far and at what volume the spread
closes is the markets' response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from vcm_sim import article6
from vcm_sim.agents.trader import ARBITRAGEUR
from vcm_sim.trading import claim_filter, standard_prices

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction
    from vcm_sim.linking import Link


@dataclass(frozen=True)
class Plan:
    """One market's arbitrageurs this month."""

    value: np.ndarray
    """Per type, the best last standard-book price a credit of the type fetches in a market
    whose buyers accept it, net of the transfer cost abroad (per credit, in the market's
    currency; markets compared in USD)."""
    home: np.ndarray
    """Per trader, whether it offers its credits at home this month (every trader but the
    arbitrageurs whose venue is abroad)."""
    venue: np.ndarray
    """Per trader, the position of the market where it offers its credits."""
    stock: np.ndarray
    """Per trader, the credits it offers at its venue abroad (0 for those at home)."""
    depth: np.ndarray
    """Per trader, the typical monthly volume of its type at its venue, per trader of its
    market (what its position is scaled by)."""
    held: np.ndarray
    """Per trader, every credit it holds (what its position counts)."""


def plan(link: Link, i: int) -> Plan:
    """This month's :class:`Plan` of the arbitrageurs of ``link.markets[i]``."""
    markets, origin = link.markets, link.markets[i]
    prices = link.in_usd(np.array([standard_prices(m) for m in markets]))
    net = np.where(link.accepts, prices - link.transfer_cost_usd, -np.inf)
    net[i] = prices[i]
    margin = 1.0 + origin.config.traders.dead_band
    best = np.where(net.max(axis=0) > prices[i] * margin, net.argmax(axis=0), i)
    value = net.max(axis=0) * link.per_usd[i]
    traders = origin.traders
    venue = np.where(traders.rule == ARBITRAGEUR, best[traders.kind], i)
    stock = np.zeros(len(venue))
    home_filter = claim_filter(origin)
    for j, market in enumerate(markets):
        going = venue == j
        if j == i or not going.any():
            continue
        takes = article6.batch_filter(origin, False, claim_filter(market, origin.registry))
        held = origin.registry.held(origin.trader_ids, takes)
        saleable = origin.registry.held(origin.trader_ids, _both(home_filter, takes))
        stuck = going & (origin.registry.held(origin.trader_ids, home_filter) > saleable)
        venue[stuck] = i
        stock = np.where(going & ~stuck, held, stock)
    typical = np.array([m.typical_volume for m in markets])
    depth = typical[venue, traders.kind] / max(len(venue), 1)
    held = origin.registry.held(origin.trader_ids)
    return Plan(value, venue == i, venue, stock, depth, held)


def asks_abroad(link: Link, i: int, j: int, plan_i: Plan) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """The arbitrageurs of ``link.markets[i]`` whose venue is market ``j``, with the credits
    they offer there and their asks (per credit, in ``j``'s currency): ``j``'s last
    standard-book price less the dead band (they undercut to sell), but never below what
    beats selling at home by the dead band (the home price plus the dead band, plus the
    transfer cost), nor below ``j``'s price floor. Called in
    :meth:`~vcm_sim.linking.Link.route`, before any market clears, like :func:`plan`."""
    origin, market = link.markets[i], link.markets[j]
    seller = ((plan_i.venue == j) & (plan_i.stock > 0)).nonzero()[0]
    kind = origin.traders.kind[seller]
    margin = 1.0 + origin.config.traders.dead_band
    at_home = (link.convert(standard_prices(origin)[kind] * margin, i, j)
               + link.transfer_cost_usd * link.per_usd[j])
    price = np.maximum(standard_prices(market)[kind] / margin, at_home)
    price = np.maximum(price, market.config.rules.market.price_floor_usd)
    return seller, plan_i.stock[seller], price


def _both(first: Callable[[int], bool] | None,
          second: Callable[[int], bool] | None) -> Callable[[int], bool] | None:
    """A batch predicate that holds where both do (None: no condition)."""
    if first is None:
        return second
    if second is None:
        return first
    return lambda b: first(b) and second(b)
