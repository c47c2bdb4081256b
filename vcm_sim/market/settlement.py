"""Trades and their settlement: credits move in the registry, cash moves the other way.

Every mechanism reports what it matched as :class:`Trade` records (the order book, one by one)
or as :class:`Matches` (a whole clearing, as columns of order indices). Settlement is a separate
step: :func:`settle` checks that every seller can deliver, then transfers the credits through the
:class:`~vcm_sim.registry.Registry` and the cash between accounts, all or nothing.

Units: quantities are whole credits (1 credit = 1 tCO2e claimed), prices are USD per tCO2e,
cash is USD.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from vcm_sim.registry import Registry, RegistryError


@dataclass(frozen=True, slots=True)
class Trade:
    """One execution between a buyer and a seller.

    ``buyer`` and ``seller`` are the traders named by the two orders (registry account names
    when the trade is to be settled); ``price`` is in USD per tCO2e; ``quantity`` in credits;
    ``buy_order`` and ``sell_order`` identify the two orders (order ids in an
    :class:`~vcm_sim.market.order_book.OrderBook`, input positions in a clearing);
    ``batch_id`` is the registry batch delivered, or None when the sell order named none.
    """

    buyer: Hashable
    seller: Hashable
    price: float
    quantity: int
    buy_order: int
    sell_order: int
    batch_id: int | None = None


@dataclass(frozen=True, eq=False)  # arrays do not compare as a single bool
class Matches:
    """The trades of one clearing, as aligned columns.

    Row ``k`` says that bid ``bid[k]`` bought ``quantity[k]`` credits from ask ``ask[k]`` at
    ``price[k]`` USD per tCO2e, where bids and asks are numbered by their position in the
    arrays given to the mechanism.
    """

    bid: np.ndarray
    ask: np.ndarray
    quantity: np.ndarray
    price: np.ndarray

    @classmethod
    def empty(cls) -> Matches:
        """A clearing in which nothing traded."""
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none, np.zeros(0))

    def __len__(self) -> int:
        return len(self.quantity)

    @property
    def volume(self) -> int:
        """Credits traded."""
        return int(self.quantity.sum())

    @property
    def vwap(self) -> float:
        """Volume-weighted average price in USD per tCO2e; NaN when nothing traded."""
        volume = self.volume
        return float(self.price @ self.quantity) / volume if volume else math.nan

    def trades(self, buyers: Sequence[Hashable], sellers: Sequence[Hashable],
               batch_ids: Sequence[int] | None = None) -> list[Trade]:
        """The matches as :class:`Trade` records, ready for :func:`settle`.

        ``buyers[i]`` is the account behind bid ``i``, ``sellers[j]`` the account behind ask
        ``j`` and ``batch_ids[j]`` the registry batch ask ``j`` sells.
        """
        bids, asks = self.bid.tolist(), self.ask.tolist()
        batches = ([int(batch_ids[j]) for j in asks] if batch_ids is not None
                   else [None] * len(asks))
        return [Trade(buyers[i], sellers[j], p, q, i, j, b)
                for i, j, q, p, b in zip(bids, asks, self.quantity.tolist(),
                                         self.price.tolist(), batches)]


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct entries of a 1-d array without NaNs, as ``np.unique(values)``
    gives them, for the clearing's small per-month arrays, where ``np.unique``'s own overhead
    is most of its cost. Sorts ``values`` in place: pass an array of your own."""
    values.sort()
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def match_fills(bid_fill: np.ndarray, ask_fill: np.ndarray, price: float) -> Matches:
    """Pair the per-order fills of a uniform-price clearing into buyer-seller matches.

    Bought units are numbered in bid order and sold units in ask order; unit ``u`` of one side
    is delivered by unit ``u`` of the other, so each credit bought has exactly one seller, and
    there are at most ``n_filled_bids + n_filled_asks - 1`` matches. All matches are at
    ``price`` (USD per tCO2e). Vectorised: cumulative sums and ``searchsorted``.

    Raises ValueError when a fill is negative or not an integer, or when the two sides do not
    add up to the same number of credits.
    """
    bid_fill = _fills("bid_fill", bid_fill)
    ask_fill = _fills("ask_fill", ask_fill)
    bought, sold = int(bid_fill.sum()), int(ask_fill.sum())
    if bought != sold:
        raise ValueError(f"bids bought {bought} credits but asks sold {sold}")
    if not bought:
        return Matches.empty()
    bid, ask, quantity = pair_fills(bid_fill, ask_fill)
    return Matches(bid, ask, quantity, np.full(len(quantity), float(price)))


def pair_fills(bid_fill: np.ndarray, ask_fill: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`match_fills` without its checks, for fills a clearing has just computed
    (non-negative int64, the same credits on both sides): each match's bid, ask and
    credits (empty int64 arrays when nothing trades)."""
    bids, asks = bid_fill.nonzero()[0], ask_fill.nonzero()[0]
    return pair_orders(bids, bid_fill[bids], asks, ask_fill[asks])


def pair_orders(bids: np.ndarray, bid_fill: np.ndarray, asks: np.ndarray,
                ask_fill: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`pair_fills` of the filled orders only: bids ``bids`` filled ``bid_fill``
    (positive int64, aligned) and asks likewise, each side's units numbered in the order
    given; each match's bid and ask (entries of ``bids`` and ``asks``) and credits."""
    bid_ends, ask_ends = bid_fill.cumsum(), ask_fill.cumsum()
    # A match ends wherever a bid's or an ask's units end (each end once).
    ends = distinct(np.concatenate([bid_ends, ask_ends]))
    quantity = ends.copy()
    quantity[1:] -= ends[:-1]
    return bids[bid_ends.searchsorted(ends)], asks[ask_ends.searchsorted(ends)], quantity


def settle(registry: Registry, cash: MutableMapping[str, float], trades: Iterable[Trade]) -> None:
    """Deliver every trade's credits and pay for them, all or nothing.

    For each trade, in order, ``quantity`` credits of ``batch_id`` go from ``seller`` to
    ``buyer`` in ``registry`` and ``price * quantity`` USD go from ``cash[buyer]`` to
    ``cash[seller]``: the amount paid is the amount received, so the sum of ``cash`` is
    conserved (exactly when prices and balances are on a binary grid, otherwise up to
    floating-point rounding of the two additions). ``cash`` maps registry account names to USD;
    a plain dict is fine. Budgets are not checked: cash may go negative, and keeping bids within
    budget is the bidder's business.

    Every trade is checked first against the holdings the sellers will have when its turn comes
    (credits bought earlier in the same call can be sold again). A trade a seller cannot
    deliver, an unknown account or batch, a missing cash account, a trade without a batch, a
    non-positive or non-integer quantity, or a negative or non-finite price raises
    :class:`~vcm_sim.registry.RegistryError` (a ValueError) naming the trade and the offending
    value, and nothing is changed.
    """
    trades = list(trades)
    held: dict[tuple[str, int], int] = {}
    for k, trade in enumerate(trades):
        quantity, batch = _check_trade(k, trade, cash)
        source = (trade.seller, batch)
        available = held[source] if source in held else registry.balance(trade.seller, batch)
        if quantity > available:
            raise RegistryError(
                f"trade {k}: {trade.seller!r} holds {available} credits of batch {batch}, "
                f"cannot deliver {quantity}")
        held[source] = available - quantity
        sink = (trade.buyer, batch)
        received = held[sink] if sink in held else registry.balance(trade.buyer, batch)
        held[sink] = received + quantity
    for trade in trades:
        registry.transfer(trade.batch_id, trade.seller, trade.buyer, trade.quantity)
        value = trade.price * trade.quantity
        cash[trade.buyer] -= value
        cash[trade.seller] += value


def _check_trade(k: int, trade: Trade, cash: MutableMapping[str, float]) -> tuple[int, int]:
    """The trade's quantity and batch, or RegistryError naming what is wrong with trade ``k``."""
    quantity, price, batch = trade.quantity, trade.price, trade.batch_id
    if not (isinstance(quantity, Integral) and not isinstance(quantity, bool) and quantity > 0):
        raise RegistryError(f"trade {k}: quantity must be a positive integer (credits), "
                            f"got {quantity!r}")
    if not (isinstance(price, Real) and not isinstance(price, bool)
            and 0.0 <= price < math.inf):
        raise RegistryError(f"trade {k}: price must be finite and >= 0 (USD per tCO2e), "
                            f"got {price!r}")
    if batch is None:
        raise RegistryError(f"trade {k}: names no batch; the sell order must name the batch "
                            "it delivers")
    for account in (trade.buyer, trade.seller):
        if account not in cash:
            raise RegistryError(f"trade {k}: no cash balance for account {account!r}")
    return int(quantity), batch


def _fills(name: str, values: np.ndarray) -> np.ndarray:
    """``values`` as a 1-D int64 array of non-negative fills, or ValueError."""
    fill = np.asarray(values)
    if fill.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {fill.shape}")
    if fill.size and fill.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers (credits), got dtype {fill.dtype}")
    if fill.size and fill.min() < 0:
        i = int(np.flatnonzero(fill < 0)[0])
        raise ValueError(f"{name}[{i}] must be >= 0 (credits), got {fill[i]}")
    return fill.astype(np.int64, copy=False)
