"""Quality tiers: a separate market for each tier label (a rating, a standard, a label).

Credits of different integrity are not substitutes for a buyer who cares, so each tier clears
on its own and has its own price; comparing those prices measures the premium for high-integrity
credits. :func:`clear_by_tier` runs any period mechanism once per tier (the call auction clears
every tier in one vectorised pass); :class:`TieredBooks` keeps one continuous
:class:`~vcm_sim.market.order_book.OrderBook` per tier.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Protocol

import numpy as np

from vcm_sim.market.call_auction import (check_orders, check_tiers, clear_call_auction,
                                         clear_call_auction_by_tier, clear_call_auction_flat)
from vcm_sim.market.order_book import OrderBook
from vcm_sim.market.settlement import Matches, Trade


class Mechanism(Protocol):
    """A period's clearing: bids and asks in (USD per tCO2e, credits), matches out."""

    def __call__(self, bid_price: np.ndarray, bid_qty: np.ndarray, ask_price: np.ndarray,
                 ask_qty: np.ndarray, rng: np.random.Generator | None) -> Matches: ...


def clear_by_tier(mechanism: Mechanism, bid_price: np.ndarray, bid_qty: np.ndarray,
                  bid_tier: np.ndarray, ask_price: np.ndarray, ask_qty: np.ndarray,
                  ask_tier: np.ndarray, rng: np.random.Generator | None = None
                  ) -> dict[Hashable, Matches]:
    """Clear each tier's orders separately with ``mechanism``.

    ``bid_tier[i]`` and ``ask_tier[j]`` are the tier labels of bid ``i`` and ask ``j`` (labels
    of one type, such as strings); a bid only meets asks of its own tier. Returns, for every
    label present on either side in sorted order, that tier's matches with bid and ask indices
    into the full input arrays (a tier with one side only has no matches). Tiers are cleared in
    that order and share ``rng``, so one seed reproduces the whole clearing.

    The call auction takes a shortcut with the same result: all tiers in one vectorised pass
    (:func:`~vcm_sim.market.call_auction.clear_call_auction_by_tier`).

    Raises ValueError for bad orders (see ``check_orders``) or tier arrays whose length differs
    from their side's.
    """
    if mechanism is clear_call_auction:
        return clear_call_auction_by_tier(bid_price, bid_qty, bid_tier, ask_price, ask_qty,
                                          ask_tier, rng)
    bid_price, bid_qty, ask_price, ask_qty = check_orders(bid_price, bid_qty, ask_price, ask_qty)
    bid_tier, ask_tier = check_tiers(bid_price, bid_tier, ask_price, ask_tier)
    cleared: dict[Hashable, Matches] = {}
    labels = set(np.unique(bid_tier).tolist()) | set(np.unique(ask_tier).tolist())
    for tier in sorted(labels):
        bids, asks = np.flatnonzero(bid_tier == tier), np.flatnonzero(ask_tier == tier)
        matches = mechanism(bid_price[bids], bid_qty[bids], ask_price[asks], ask_qty[asks], rng)
        cleared[tier] = Matches(bids[matches.bid], asks[matches.ask], matches.quantity,
                                matches.price)
    return cleared


def clear_by_tier_flat(mechanism: Mechanism, bid_price: np.ndarray, bid_qty: np.ndarray,
                       bid_tier: np.ndarray, ask_price: np.ndarray, ask_qty: np.ndarray,
                       ask_tier: np.ndarray, rng: np.random.Generator | None = None,
                       checked: bool = False) -> tuple[np.ndarray, Matches]:
    """:func:`clear_by_tier` with all tiers' matches in one :class:`Matches`, tier after
    tier in sorted label order, and the tier label of each match (the call auction never
    splits them). ``checked=True`` (the model's own orders) lets the call auction skip
    re-validating them (see :func:`~vcm_sim.market.call_auction.clear_call_auction_flat`)."""
    if mechanism is clear_call_auction:
        return clear_call_auction_flat(bid_price, bid_qty, bid_tier, ask_price, ask_qty,
                                       ask_tier, rng, checked)
    cleared = clear_by_tier(mechanism, bid_price, bid_qty, bid_tier, ask_price, ask_qty,
                            ask_tier, rng)
    if not cleared:
        return np.asarray([]), Matches.empty()
    labels = np.concatenate([np.full(len(m), label) for label, m in cleared.items()])
    return labels, Matches(*(np.concatenate([getattr(m, column) for m in cleared.values()])
                             for column in ("bid", "ask", "quantity", "price")))


class TieredBooks:
    """One continuous order book per tier label, fixed at creation."""

    def __init__(self, tiers: Iterable[Hashable]) -> None:
        self._books = {tier: OrderBook() for tier in tiers}
        if not self._books:
            raise ValueError("TieredBooks needs at least one tier, got none")

    @property
    def tiers(self) -> tuple[Hashable, ...]:
        """The tier labels, in the order given."""
        return tuple(self._books)

    def __getitem__(self, tier: Hashable) -> OrderBook:
        """The book of ``tier``; ValueError naming the valid tiers for an unknown label."""
        try:
            return self._books[tier]
        except (KeyError, TypeError):
            raise ValueError(f"unknown tier {tier!r}; tiers are {list(self._books)}") from None

    def submit(self, tier: Hashable, side: str, price: float, quantity: int, trader: Hashable,
               batch_id: int | None = None) -> list[Trade]:
        """Submit a limit order to ``tier``'s book (see :meth:`OrderBook.submit`)."""
        return self[tier].submit(side, price, quantity, trader, batch_id)

    def best_quotes(self) -> dict[Hashable, tuple[float | None, float | None]]:
        """Each tier's (best bid, best ask) in USD per tCO2e, None for an empty side."""
        return {tier: (book.best_bid(), book.best_ask()) for tier, book in self._books.items()}

    def clear(self) -> None:
        """End the trading period in every tier."""
        for book in self._books.values():
            book.clear()
