"""Clearing mechanisms for credits, and the settlement of their trades.

Two mechanisms, one module each, chosen by name in the market rules through :data:`MECHANISMS`:

* ``"call_auction"`` (the default): a uniform-price call auction over all of a period's
  orders (:func:`call_auction`, vectorised);
* ``"double_auction"``: a continuous double auction (:class:`OrderBook`, price-time priority),
  with the period's orders arriving in random order.

Both mechanisms take the same arrays (limit prices in USD per tCO2e, quantities in credits) and
return :class:`Matches`; :meth:`Matches.trades` names the accounts and batches, and
:func:`settle` moves credits in the registry and cash between accounts, never delivering more
than a seller holds. :func:`clear_by_tier` and :class:`TieredBooks` run a separate market per
book label (a project type and, with quality books, a segment). Nothing here knows about
agents.
"""

from collections.abc import Mapping
from types import MappingProxyType

from vcm_sim.market.call_auction import (AuctionResult, call_auction, check_orders,
                                         clear_call_auction)
from vcm_sim.market.order_book import Order, OrderBook, clear_double_auction
from vcm_sim.market.settlement import Matches, Trade, match_fills, settle
from vcm_sim.market.tiers import Mechanism, TieredBooks, clear_by_tier, clear_by_tier_flat

MECHANISMS: Mapping[str, Mechanism] = MappingProxyType({
    "call_auction": clear_call_auction,
    "double_auction": clear_double_auction,
})
"""Period mechanisms by the name the market rules use."""

__all__ = [
    "MECHANISMS",
    "AuctionResult",
    "Matches",
    "Mechanism",
    "Order",
    "OrderBook",
    "TieredBooks",
    "Trade",
    "call_auction",
    "check_orders",
    "clear_by_tier",
    "clear_by_tier_flat",
    "clear_call_auction",
    "clear_double_auction",
    "match_fills",
    "settle",
]
