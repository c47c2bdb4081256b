"""Continuous double auction: a limit order book with price-time priority.

Orders arrive one at a time; an order that crosses the other side trades at once, at the
resting order's price, best price first and, at equal prices, oldest first; whatever is left
rests in the book until it trades, is cancelled or the period ends (:meth:`OrderBook.clear`).
Each side is a binary heap, so a submission costs O(log n) per resting order it touches;
cancellation is lazy (the heap entry is dropped when it reaches the top).

Prices are USD per tCO2e, quantities whole credits.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from heapq import heapify, heappop, heappush
from numbers import Integral, Real

import numpy as np

from vcm_sim.market.call_auction import check_orders
from vcm_sim.market.settlement import Matches, Trade

SIDES = ("buy", "sell")

# Fields of a resting order's record (a list, for speed): remaining credits, limit price,
# trader and the batch it sells (None for buy orders).
_QTY, _PRICE, _TRADER, _BATCH = range(4)


@dataclass(frozen=True, slots=True)
class Order:
    """A resting order as shown by :meth:`OrderBook.orders`; ``quantity`` is what remains."""

    order_id: int
    side: str
    price: float
    quantity: int
    trader: Hashable
    batch_id: int | None


class OrderBook:
    """A continuous double auction for one kind of credit.

    Order ids are consecutive integers from 0 in order of submission (the id of the order just
    submitted is :attr:`last_order_id`), unique for the life of the book. Traders are opaque
    labels, passed through to the trades; use registry account names to settle them.
    A trader's buy may trade against the same trader's sell: preventing self-trades is the
    trader's business.
    """

    def __init__(self) -> None:
        self._bids: list[tuple[float, int]] = []  # heap of (-price, order_id)
        self._asks: list[tuple[float, int]] = []  # heap of (price, order_id)
        self._live: dict[int, list] = {}  # resting orders' records by order id
        self._next_id = 0
        self._stale = 0  # heap entries of cancelled orders still in a heap

    def __len__(self) -> int:
        """Number of resting orders."""
        return len(self._live)

    @property
    def last_order_id(self) -> int | None:
        """Id of the most recently submitted order (None before the first)."""
        return self._next_id - 1 if self._next_id else None

    def submit(self, side: str, price: float, quantity: int, trader: Hashable,
               batch_id: int | None = None) -> list[Trade]:
        """Submit a limit order and return the trades it makes, in order of execution.

        ``side`` is "buy" or "sell"; ``price`` the limit in USD per tCO2e (finite, >= 0);
        ``quantity`` the credits wanted or offered (a positive integer); ``batch_id`` the
        registry batch a sell order delivers (copied into its trades; buy orders name none).
        Each trade executes at the resting order's price; what is not filled rests in the book.

        Raises ValueError naming the offending value, and leaves the book unchanged, for an
        unknown side, a NaN, infinite or negative price, a non-integer or non-positive
        quantity, or a batch on a buy order.
        """
        if side == "buy":
            is_buy = True
        elif side == "sell":
            is_buy = False
        else:
            raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")
        if type(price) is not float:
            price = _price(price)
        if not 0.0 <= price < math.inf:
            raise ValueError(f"price must be finite and >= 0 (USD per tCO2e), got {price!r}")
        if type(quantity) is not int:
            quantity = _quantity(quantity)
        if quantity <= 0:
            raise ValueError(f"quantity must be a positive integer (credits), got {quantity!r}")
        if batch_id is not None:
            batch_id = _batch(batch_id, is_buy)

        order_id = self._next_id
        self._next_id = order_id + 1
        live = self._live
        trades: list[Trade] = []
        if is_buy:
            asks = self._asks
            while asks:
                ask_price, resting_id = asks[0]
                resting = live.get(resting_id)
                if resting is None:
                    heappop(asks)
                    self._stale -= 1
                    continue
                if ask_price > price:
                    break
                fill = quantity if quantity < resting[_QTY] else resting[_QTY]
                trades.append(Trade(trader, resting[_TRADER], resting[_PRICE], fill, order_id,
                                    resting_id, resting[_BATCH]))
                quantity -= fill
                if fill == resting[_QTY]:
                    heappop(asks)
                    del live[resting_id]
                else:
                    resting[_QTY] -= fill
                if not quantity:
                    return trades
            live[order_id] = [quantity, price, trader, None]
            heappush(self._bids, (-price, order_id))
        else:
            bids = self._bids
            while bids:
                neg_bid, resting_id = bids[0]
                resting = live.get(resting_id)
                if resting is None:
                    heappop(bids)
                    self._stale -= 1
                    continue
                if -neg_bid < price:
                    break
                fill = quantity if quantity < resting[_QTY] else resting[_QTY]
                trades.append(Trade(resting[_TRADER], trader, resting[_PRICE], fill, resting_id,
                                    order_id, batch_id))
                quantity -= fill
                if fill == resting[_QTY]:
                    heappop(bids)
                    del live[resting_id]
                else:
                    resting[_QTY] -= fill
                if not quantity:
                    return trades
            live[order_id] = [quantity, price, trader, batch_id]
            heappush(self._asks, (price, order_id))
        return trades

    def cancel(self, order_id: int) -> bool:
        """Withdraw a resting order; False if it had already traded, been cancelled or cleared.

        Raises ValueError for an id this book never issued.
        """
        if not (isinstance(order_id, Integral) and not isinstance(order_id, bool)
                and 0 <= order_id < self._next_id):
            raise ValueError(f"unknown order id {order_id!r}; this book issued ids 0 to "
                             f"{self._next_id - 1}")
        if order_id not in self._live:
            return False
        del self._live[order_id]
        self._stale += 1
        if self._stale > 64 and self._stale > len(self._live):
            self._compact()
        return True

    def best_bid(self) -> float | None:
        """Highest resting buy price in USD per tCO2e, None when there is no bid."""
        top = self._top(self._bids)
        return self._live[top[1]][_PRICE] if top else None

    def best_ask(self) -> float | None:
        """Lowest resting sell price in USD per tCO2e, None when there is no ask."""
        top = self._top(self._asks)
        return self._live[top[1]][_PRICE] if top else None

    def orders(self, side: str) -> list[Order]:
        """Resting orders of ``side`` ("buy" or "sell") in priority order (best price, oldest)."""
        if side not in SIDES:
            raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")
        live = self._live
        heap = self._bids if side == "buy" else self._asks
        return [Order(i, side, live[i][_PRICE], live[i][_QTY], live[i][_TRADER], live[i][_BATCH])
                for _, i in sorted(entry for entry in heap if entry[1] in live)]

    def clear(self) -> None:
        """End the trading period: every resting order is cancelled."""
        self._bids.clear()
        self._asks.clear()
        self._live.clear()
        self._stale = 0

    def _top(self, heap: list[tuple[float, int]]) -> tuple[float, int] | None:
        """The best live entry of ``heap``, dropping cancelled entries above it."""
        while heap and heap[0][1] not in self._live:
            heappop(heap)
            self._stale -= 1
        return heap[0] if heap else None

    def _compact(self) -> None:
        """Drop cancelled entries from both heaps, so memory follows the live orders."""
        for heap in (self._bids, self._asks):
            heap[:] = [entry for entry in heap if entry[1] in self._live]
            heapify(heap)
        self._stale = 0


def clear_double_auction(bid_price: np.ndarray, bid_qty: np.ndarray, ask_price: np.ndarray,
                         ask_qty: np.ndarray, rng: np.random.Generator | None) -> Matches:
    """The continuous double auction as a mechanism for one trading period.

    The period's orders (as for :func:`~vcm_sim.market.call_auction.call_auction`) arrive at a
    fresh :class:`OrderBook` one by one, in an order shuffled by ``rng``; each trades at the
    resting order's price; what is still resting at the end of the period is cancelled.
    Returns the trades as :class:`~vcm_sim.market.settlement.Matches` in order of execution.

    Raises ValueError for bad orders (see ``check_orders``) or when ``rng`` is None: the
    arrival order is random and must come from the caller's generator.
    """
    bid_price, bid_qty, ask_price, ask_qty = check_orders(bid_price, bid_qty, ask_price, ask_qty)
    if rng is None:
        raise ValueError("the double auction draws the arrival order of orders and needs rng, "
                         "got None")
    n_bids = len(bid_price)
    prices = bid_price.tolist() + ask_price.tolist()
    quantities = bid_qty.tolist() + ask_qty.tolist()
    book = OrderBook()
    trades: list[Trade] = []
    for k in rng.permutation(len(prices)).tolist():
        if k < n_bids:
            trades += book.submit("buy", prices[k], quantities[k], k)
        else:
            trades += book.submit("sell", prices[k], quantities[k], k - n_bids)
    if not trades:
        return Matches.empty()
    return Matches(np.array([t.buyer for t in trades], dtype=np.int64),
                   np.array([t.seller for t in trades], dtype=np.int64),
                   np.array([t.quantity for t in trades], dtype=np.int64),
                   np.array([t.price for t in trades], dtype=np.float64))


def _price(price: object) -> float:
    """``price`` as a float, or ValueError if it is not a real number."""
    if isinstance(price, Real) and not isinstance(price, bool):
        return float(price)
    raise ValueError(f"price must be a number (USD per tCO2e), got {price!r}")


def _quantity(quantity: object) -> int:
    """``quantity`` as an int, or ValueError if it is not an integer."""
    if isinstance(quantity, Integral) and not isinstance(quantity, bool):
        return int(quantity)
    raise ValueError(f"quantity must be a positive integer (credits), got {quantity!r}")


def _batch(batch_id: object, is_buy: bool) -> int:
    """``batch_id`` as an int, or ValueError on a buy order or for a non-integer id."""
    if is_buy:
        raise ValueError(f"a buy order names no batch, got batch_id={batch_id!r}")
    if isinstance(batch_id, Integral) and not isinstance(batch_id, bool) and batch_id >= 0:
        return int(batch_id)
    raise ValueError(f"batch_id must be a non-negative integer, got {batch_id!r}")
