"""Uniform-price call auction: all orders of a period are cleared at once, at one price.

The default mechanism of the model. Bids and asks arrive as numpy arrays (prices in USD per
tCO2e, quantities in whole credits); clearing is a handful of vectorised numpy calls (two
argsorts, cumulative sums, comparisons) and two binary searches, O(n log n), with no Python
loop over orders.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from vcm_sim.market.settlement import Matches, distinct, match_fills, pair_orders

_INT64_MAX = np.iinfo(np.int64).max
_MAX_TOTAL = 2.0**62
"""Most credits one side of a clearing may hold: running totals stay well inside int64."""


@dataclass(frozen=True, eq=False)  # arrays do not compare as a single bool
class AuctionResult:
    """Outcome of one call auction.

    ``price``: the clearing price in USD per tCO2e (NaN when nothing trades); ``volume``:
    credits traded; ``bid_fill`` and ``ask_fill``: credits filled for each order, aligned with
    the input arrays (int64).
    """

    price: float
    volume: int
    bid_fill: np.ndarray
    ask_fill: np.ndarray

    def matches(self) -> Matches:
        """Buyer-seller pairs of the fills (see :func:`~vcm_sim.market.settlement.match_fills`)."""
        return match_fills(self.bid_fill, self.ask_fill, self.price)


def call_auction(bid_price: np.ndarray, bid_qty: np.ndarray, ask_price: np.ndarray,
                 ask_qty: np.ndarray, rng: np.random.Generator | None = None) -> AuctionResult:
    """Clear limit orders at a single price that maximises the volume traded.

    Inputs: ``bid_price``/``ask_price`` limit prices in USD per tCO2e (finite, >= 0) and
    ``bid_qty``/``ask_qty`` quantities in credits (positive integers), one entry per order.

    **Volume.** Take bid units in order of falling price and ask units in order of rising price;
    the volume ``V`` is the largest number of units such that the ``V``-th bid unit's price is at
    or above the ``V``-th ask unit's. No single price can clear more.

    **Price.** Every price in ``[lo, hi]`` clears ``V`` units with all orders strictly better
    than it filled in full, where ``lo`` is the higher of the last accepted ask unit's price and
    the first rejected bid unit's price, and ``hi`` the lower of the last accepted bid unit's
    price and the first rejected ask unit's price (a missing rejected unit imposes nothing). The
    clearing price is the midpoint of that interval, ``(lo + hi) / 2``. Nothing trades (price
    NaN, volume 0) when a side is empty or no bid reaches an ask.

    **Fills.** Bids priced above the clearing price and asks priced below it are filled in
    full. Orders exactly at the price (the margin) share what is left of ``V`` pro rata to their
    quantities; whole credits are handed out by cumulative rounding, so each marginal order gets
    its exact share rounded down or up and the shares add up to ``V``. The rounding goes through
    the marginal orders in input order when ``rng`` is None (earlier orders get the leftover
    credits first) and in an order shuffled by ``rng`` otherwise. ``rng`` is used for nothing
    else, and the same generator state gives the same result.

    Raises ValueError naming the offending value, for mismatched lengths, NaN, infinite or
    negative prices, and non-integer or non-positive quantities.
    """
    bid_price, bid_qty, ask_price, ask_qty = check_orders(bid_price, bid_qty, ask_price, ask_qty)
    volume, price = _clearing(bid_price, bid_qty, ask_price, ask_qty)
    if not volume:
        return AuctionResult(math.nan, 0, np.zeros(len(bid_qty), dtype=np.int64),
                             np.zeros(len(ask_qty), dtype=np.int64))
    bid_fill = _fill(bid_price > price, bid_price == price, bid_qty, volume, rng)
    ask_fill = _fill(ask_price < price, ask_price == price, ask_qty, volume, rng)
    return AuctionResult(price, volume, bid_fill, ask_fill)


def clear_call_auction(bid_price: np.ndarray, bid_qty: np.ndarray, ask_price: np.ndarray,
                       ask_qty: np.ndarray, rng: np.random.Generator | None = None) -> Matches:
    """The call auction as a mechanism: :func:`call_auction`, paired into :class:`Matches`."""
    return call_auction(bid_price, bid_qty, ask_price, ask_qty, rng).matches()


def check_orders(bid_price: np.ndarray, bid_qty: np.ndarray, ask_price: np.ndarray,
                 ask_qty: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate a period's orders as every mechanism expects them.

    Returns float64 prices and int64 quantities, or raises ValueError naming the first
    offending value: arrays that are not one-dimensional or whose lengths differ, prices that
    are NaN, infinite or negative, quantities that are not integers or not positive.
    """
    bid_price, ask_price = _prices("bid_price", bid_price), _prices("ask_price", ask_price)
    bid_qty, ask_qty = _quantities("bid_qty", bid_qty), _quantities("ask_qty", ask_qty)
    for side, prices, quantities in (("bid", bid_price, bid_qty), ("ask", ask_price, ask_qty)):
        if len(prices) != len(quantities):
            raise ValueError(f"{side}_price has {len(prices)} entries but {side}_qty has "
                             f"{len(quantities)}")
    return bid_price, bid_qty, ask_price, ask_qty


def check_tiers(bid_price: np.ndarray, bid_tier: np.ndarray, ask_price: np.ndarray,
                ask_tier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tier labels as arrays, or ValueError when a side's labels and prices differ in shape
    or a label is NaN."""
    bid_tier, ask_tier = np.asarray(bid_tier), np.asarray(ask_tier)
    for side, tiers, prices in (("bid", bid_tier, bid_price), ("ask", ask_tier, ask_price)):
        if tiers.shape != prices.shape:
            raise ValueError(f"{side}_tier has shape {tiers.shape} but {side}_price has "
                             f"{prices.shape}")
        if tiers.dtype.kind in "fc" and np.isnan(tiers).any():
            raise ValueError(f"{side}_tier holds NaN; a tier label must equal itself")
    return bid_tier, ask_tier


def clear_call_auction_by_tier(bid_price: np.ndarray, bid_qty: np.ndarray, bid_tier: np.ndarray,
                               ask_price: np.ndarray, ask_qty: np.ndarray, ask_tier: np.ndarray,
                               rng: np.random.Generator | None = None
                               ) -> dict[Hashable, Matches]:
    """A separate call auction in every tier, all cleared in one vectorised pass.

    The result, and what is drawn from ``rng``, are exactly those of calling
    :func:`clear_call_auction` on each tier's orders in sorted label order (see
    :func:`~vcm_sim.market.tiers.clear_by_tier` for the arguments and the result), but the
    cost is a few sorts over all orders instead of a dozen numpy calls per tier. Tiers are
    laid end to end: orders are sorted by tier, then by price, and a tier's k-th unit is unit
    ``offset[tier] + k`` of the running totals over all tiers, so one ``searchsorted`` answers
    "which order holds this unit" for every tier at once.
    """
    labels, tier, matches = _clear_tiers(bid_price, bid_qty, bid_tier, ask_price, ask_qty,
                                         ask_tier, rng)
    cuts = ((tier[1:] != tier[:-1]).nonzero()[0] + 1).tolist()
    starts, stops = [0, *cuts], [*cuts, len(tier)]
    by_tier = {int(tier[a]): Matches(matches.bid[a:b], matches.ask[a:b], matches.quantity[a:b],
                                     matches.price[a:b])
               for a, b in zip(starts, stops) if b > a}
    return {label: by_tier.get(k, Matches.empty()) for k, label in enumerate(labels.tolist())}


def clear_call_auction_flat(bid_price: np.ndarray, bid_qty: np.ndarray, bid_tier: np.ndarray,
                            ask_price: np.ndarray, ask_qty: np.ndarray, ask_tier: np.ndarray,
                            rng: np.random.Generator | None = None, checked: bool = False
                            ) -> tuple[np.ndarray, Matches]:
    """:func:`clear_call_auction_by_tier` with all tiers' matches in one :class:`Matches`,
    tier after tier in sorted label order, and the tier label of each match: the same
    matches, drawn the same way, without splitting them into one object per tier.

    ``checked=True`` is the model's fast path for orders it built itself, already as
    :func:`check_orders` and :func:`check_tiers` return them (float64 prices, positive int64
    quantities, tier arrays aligned with their side's): they are not validated again."""
    if checked:
        labels, tier, matches = _clear_checked(bid_price, bid_qty, bid_tier, ask_price,
                                               ask_qty, ask_tier, rng)
    else:
        labels, tier, matches = _clear_tiers(bid_price, bid_qty, bid_tier, ask_price, ask_qty,
                                             ask_tier, rng)
    return labels[tier], matches


def _clear_tiers(bid_price: np.ndarray, bid_qty: np.ndarray, bid_tier: np.ndarray,
                 ask_price: np.ndarray, ask_qty: np.ndarray, ask_tier: np.ndarray,
                 rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray, Matches]:
    """The tier labels present on either side (sorted), the code (position among them) of
    each match's tier, and the matches of every tier, tier after tier."""
    bid_price, bid_qty, ask_price, ask_qty = check_orders(bid_price, bid_qty, ask_price, ask_qty)
    bid_tier, ask_tier = check_tiers(bid_price, bid_tier, ask_price, ask_tier)
    return _clear_checked(bid_price, bid_qty, bid_tier, ask_price, ask_qty, ask_tier, rng)


def _clear_checked(bid_price: np.ndarray, bid_qty: np.ndarray, bid_tier: np.ndarray,
                   ask_price: np.ndarray, ask_qty: np.ndarray, ask_tier: np.ndarray,
                   rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray, Matches]:
    """:func:`_clear_tiers` of orders already as :func:`check_orders` and :func:`check_tiers`
    return them."""
    if not len(bid_price) or not len(ask_price):
        labels = set(np.unique(bid_tier).tolist()) | set(np.unique(ask_tier).tolist())
        return np.asarray(sorted(labels)), np.zeros(0, dtype=np.int64), Matches.empty()
    codes = distinct(np.concatenate([bid_tier, ask_tier]))
    bids = _Side(bid_price, bid_qty, codes.searchsorted(bid_tier), len(codes), falling=True)
    asks = _Side(ask_price, ask_qty, codes.searchsorted(ask_tier), len(codes),
                 falling=False)
    volume = np.maximum(_feasible_ends(bids, asks), _feasible_ends(asks, bids))
    price = _tier_prices(bids, asks, volume)
    bid_fill, bid_shared = bids.fills(price, volume)
    ask_fill, ask_shared = asks.fills(price, volume)
    for tier in (bid_shared | ask_shared).nonzero()[0].tolist():
        for side, fill, shared in ((bids, bid_fill, bid_shared), (asks, ask_fill, ask_shared)):
            if shared[tier]:
                side.ration(fill, tier, price[tier], volume[tier], rng)
    return codes, *_pair_by_tier(bids, bid_fill, asks, ask_fill, price)


class _Side:
    """One side of a tiered clearing: orders sorted by tier, best price first within a tier,
    with running unit totals over all tiers laid end to end."""

    def __init__(self, price: np.ndarray, quantity: np.ndarray, tier: np.ndarray, n_tiers: int,
                 falling: bool) -> None:
        self.price, self.quantity, self.tier, self.falling = price, quantity, tier, falling
        order = np.lexsort((-price if falling else price, tier))
        self.sorted_price = price[order]
        self.sorted_tier = tier[order]
        running = np.zeros(len(order) + 1, dtype=np.int64)  # units before each order, and all
        quantity[order].cumsum(out=running[1:])
        self.ends = running[1:]
        # Units before each tier's first order, and all: tier t's units follow at[t].
        at = running[self.sorted_tier.searchsorted(np.arange(n_tiers + 1))]
        self.offset = at[:-1]
        self.total = at[1:] - self.offset

    def within(self) -> np.ndarray:
        """Each sorted order's end as a unit count within its own tier."""
        return self.ends - self.offset[self.sorted_tier]

    def price_at(self, tier: np.ndarray, unit: np.ndarray, side: str = "left") -> np.ndarray:
        """Price of the order holding ``unit`` (1-based within ``tier``), or of the last
        order for a unit past the last order's end; the caller checks
        ``unit <= total[tier]``."""
        at = self.ends.searchsorted(self.offset[tier] + unit, side=side)
        return self.sorted_price.take(at, mode="clip")

    def fills(self, price: np.ndarray, volume: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fills before rationing, and the tiers whose margin several orders share.

        Orders strictly better than their tier's price (NaN: no trade) are filled in full;
        what is left of a tier's volume goes to its orders at the price. A lone marginal
        order takes it all here (rationing one order draws nothing from the generator);
        tiers with several marginal orders are flagged for :meth:`ration`.
        """
        tier_price = price[self.tier]
        inside = tier_price < self.price if self.falling else self.price < tier_price
        fill = self.quantity * inside  # whole credits: 0 outside
        left = volume.copy()
        np.subtract.at(left, self.tier, fill)
        marginal = ((self.price == tier_price) & (left[self.tier] > 0)).nonzero()[0]
        marginal_tier = self.tier[marginal]
        count = np.bincount(marginal_tier, minlength=len(volume))
        alone = count[marginal_tier] == 1
        fill[marginal[alone]] = left[marginal_tier[alone]]
        return fill, count > 1

    def ration(self, fill: np.ndarray, tier: int, price: float, volume: int,
               rng: np.random.Generator | None) -> None:
        """Share what is left of ``tier``'s volume over its orders at the price (in place)."""
        mine = self.tier == tier
        marginal = (mine & (self.price == price)).nonzero()[0]
        _ration(fill, marginal, self.quantity, volume - int(fill[mine].sum()), rng)


def _feasible_ends(side: _Side, other: _Side) -> np.ndarray:
    """Per tier, the last order end of ``side`` at which unit ``q`` of both sides can trade
    (0 when none): the bid unit's price is at or above the ask unit's."""
    units = side.within()
    tier = side.sorted_tier
    reachable = units <= other.total[tier]
    facing = other.price_at(tier, units)
    mine = side.sorted_price
    trades = reachable & ((mine >= facing) if side.falling else (facing >= mine))
    best = np.zeros(len(side.total), dtype=np.int64)
    np.maximum.at(best, tier[trades], units[trades])
    return best


def _tier_prices(bids: _Side, asks: _Side, volume: np.ndarray) -> np.ndarray:
    """Midpoint of each tier's clearing interval (NaN where nothing trades); see
    :func:`call_auction` for the interval."""
    price = np.full(len(volume), math.nan)
    tier = volume.nonzero()[0]
    if not len(tier):
        return price
    v = volume[tier]
    lo, hi = asks.price_at(tier, v), bids.price_at(tier, v)
    lo = np.where(v < bids.total[tier], np.maximum(lo, bids.price_at(tier, v, "right")), lo)
    hi = np.where(v < asks.total[tier], np.minimum(hi, asks.price_at(tier, v, "right")), hi)
    price[tier] = lo + (hi - lo) / 2
    return price


def _pair_by_tier(bids: _Side, bid_fill: np.ndarray, asks: _Side, ask_fill: np.ndarray,
                  price: np.ndarray) -> tuple[np.ndarray, Matches]:
    """Buyer-seller pairs of the fills, as :func:`match_fills` pairs them tier by tier, and
    the tier code of each pair.

    Both sides' filled orders are taken by tier, then in input order; each tier sells what
    it buys, so tiers end at the same running total on both sides and one
    :func:`~vcm_sim.market.settlement.pair_orders` over all tiers pairs each tier on its own
    (the fills are the clearing's own: :func:`match_fills`'s checks are not repeated)."""
    bid_order, ask_order = bid_fill.nonzero()[0], ask_fill.nonzero()[0]
    bid_order = bid_order[bids.tier[bid_order].argsort(kind="stable")]
    ask_order = ask_order[asks.tier[ask_order].argsort(kind="stable")]
    bid, ask, quantity = pair_orders(bid_order, bid_fill[bid_order], ask_order,
                                     ask_fill[ask_order])
    tier = bids.tier[bid]
    return tier, Matches(bid, ask, quantity, price[tier])


def _clearing(bid_price: np.ndarray, bid_qty: np.ndarray, ask_price: np.ndarray,
              ask_qty: np.ndarray) -> tuple[int, float]:
    """The maximal volume and the midpoint clearing price (0 and NaN when nothing trades)."""
    if not len(bid_price) or not len(ask_price):
        return 0, math.nan
    by_bid = np.argsort(-bid_price)
    bids, bought = bid_price[by_bid], bid_qty[by_bid].cumsum()
    by_ask = np.argsort(ask_price)
    asks, sold = ask_price[by_ask], ask_qty[by_ask].cumsum()
    top = min(bought[-1], sold[-1])

    # Unit q can trade if the q-th highest bid unit is at or above the q-th lowest ask unit.
    # That holds for q = 1..V and fails beyond, and it only changes where an order ends, so V is
    # the last feasible order end of one side or the other: two binary searches over the ends
    # up to `top`, each probe a searchsorted on the other side.
    n_bids = bisect_left(range(bought.searchsorted(top, side="right")), True,
                         key=lambda i: bids[i] < asks[sold.searchsorted(bought[i])])
    n_asks = bisect_left(range(sold.searchsorted(top, side="right")), True,
                         key=lambda j: bids[bought.searchsorted(sold[j])] < asks[j])
    volume = int(max(bought[n_bids - 1] if n_bids else 0, sold[n_asks - 1] if n_asks else 0))
    if not volume:
        return 0, math.nan
    lo = asks[sold.searchsorted(volume)]
    hi = bids[bought.searchsorted(volume)]
    if volume < bought[-1]:
        lo = max(lo, bids[bought.searchsorted(volume, side="right")])
    if volume < sold[-1]:
        hi = min(hi, asks[sold.searchsorted(volume, side="right")])
    # Written so as to stay within [lo, hi] in floating point, even for huge or subnormal prices.
    return volume, float(lo + (hi - lo) / 2)


def _fill(inside: np.ndarray, margin: np.ndarray, quantity: np.ndarray, volume: int,
          rng: np.random.Generator | None) -> np.ndarray:
    """Fill ``inside`` orders in full and ration the rest of ``volume`` over ``margin`` orders."""
    fill = quantity * inside  # whole credits: 0 outside
    left = volume - int(fill.sum())
    if left:
        _ration(fill, margin.nonzero()[0], quantity, left, rng)
    return fill


def _ration(fill: np.ndarray, marginal: np.ndarray, quantity: np.ndarray, left: int,
            rng: np.random.Generator | None) -> None:
    """Hand ``left`` credits to the ``marginal`` orders pro rata to their quantities, by
    cumulative rounding in input order, or in an order shuffled by ``rng`` (in place)."""
    if len(marginal) == 1:  # the common case; shuffling one order draws nothing from rng
        fill[marginal] = left
        return
    if rng is not None:
        marginal = rng.permutation(marginal)
    running = quantity[marginal].cumsum()
    total = int(running[-1])
    if total > _INT64_MAX // left:
        running = running.astype(object)  # exact Python integers where int64 would overflow
    fill[marginal] = np.diff(left * running // total, prepend=0)


def _prices(name: str, values: np.ndarray) -> np.ndarray:
    """``values`` as a 1-D float64 array of finite, non-negative prices, or ValueError."""
    try:
        prices = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers (USD per tCO2e), got {values!r:.80}") from None
    if prices.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {prices.shape}")
    if len(prices) and 0.0 <= prices.min() and prices.max() < math.inf:  # NaN fails both
        return prices
    ok = np.isfinite(prices) & (prices >= 0)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ValueError(f"{name}[{i}] must be finite and >= 0 (USD per tCO2e), got {prices[i]}")
    return prices


def _quantities(name: str, values: np.ndarray) -> np.ndarray:
    """``values`` as a 1-D int64 array of positive quantities, or ValueError."""
    quantities = np.asarray(values)
    if quantities.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {quantities.shape}")
    if not quantities.size:
        return quantities.astype(np.int64)
    if quantities.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers (credits), got dtype {quantities.dtype}")
    if quantities.min() <= 0:
        i = int(np.flatnonzero(quantities <= 0)[0])
        raise ValueError(f"{name}[{i}] must be a positive integer (credits), got {quantities[i]}")
    if int(quantities.max()) <= _MAX_TOTAL // len(quantities):  # no total can exceed it
        return quantities.astype(np.int64, copy=False)
    total = float(quantities.sum(dtype=np.float64))
    if total > _MAX_TOTAL:
        raise ValueError(f"{name} totals {total:.3g} credits, more than the {_MAX_TOTAL:.3g} "
                         "a clearing can count")
    return quantities.astype(np.int64, copy=False)
