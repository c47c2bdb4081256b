"""The uniform-price call auction: hand-worked cases, bad input, and properties.

The properties compare against independent brute force: the maximum feasible volume is found
by trying every order price as the uniform price (the volume at price p is the smaller of the
demand at or above p and the supply at or below p), and the interval of clearing prices by
testing every order price against the definition.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vcm_sim.market import call_auction


def auction(bids, asks, rng=None):
    """Run the auction on lists of (price, quantity) pairs."""
    bp = np.array([p for p, _ in bids], dtype=float)
    bq = np.array([q for _, q in bids], dtype=np.int64)
    ap = np.array([p for p, _ in asks], dtype=float)
    aq = np.array([q for _, q in asks], dtype=np.int64)
    return call_auction(bp, bq, ap, aq, rng=rng)


# -- hand-worked cases ------------------------------------------------------------------------

def test_crossing_books_clear_at_the_midpoint_of_the_clearing_interval():
    # Bid units by price: 12 x3, 10 x2, 8 x4; ask units: 6 x2, 9 x3, 11 x5.
    # Unit 5 is the last with bid (10) >= ask (9); unit 6 pairs bid 8 with ask 11.
    # Interval: lo = max(last accepted ask 9, first rejected bid 8) = 9,
    #           hi = min(last accepted bid 10, first rejected ask 11) = 10.
    r = auction([(12, 3), (8, 4), (10, 2)], [(11, 5), (6, 2), (9, 3)])
    assert r.volume == 5
    assert r.price == 9.5
    assert r.bid_fill.tolist() == [3, 0, 2]
    assert r.ask_fill.tolist() == [0, 2, 3]


def test_a_tie_at_the_margin_is_shared_pro_rata():
    # Supply of 6 at 5 meets 4 + 8 demanded at 10: both bids are marginal at the price 10.
    r = auction([(10, 4), (10, 8)], [(5, 6)])
    assert (r.price, r.volume) == (10.0, 6)
    assert r.bid_fill.tolist() == [2, 4]
    assert r.ask_fill.tolist() == [6]


def test_pro_rata_rounding_hands_leftover_credits_to_earlier_orders_without_rng():
    # 5 credits over three equal marginal bids: exact shares 5/3 each.
    r = auction([(10, 3), (10, 3), (10, 3)], [(4, 5)])
    assert r.bid_fill.tolist() == [1, 2, 2]
    assert r.bid_fill.sum() == 5


def test_ask_side_ties_are_rationed_like_bid_side_ties():
    r = auction([(9, 4)], [(7, 3), (7, 3), (3, 1)])
    assert (r.price, r.volume) == (7.0, 4)
    assert r.ask_fill.tolist() == [1, 2, 1]


def test_random_rationing_is_reproducible_from_the_seed_and_keeps_shares_within_one():
    bids = [(10, 3)] * 7
    fills = [auction(bids, [(1, 10)], np.random.default_rng(seed)).bid_fill for seed in range(20)]
    again = [auction(bids, [(1, 10)], np.random.default_rng(seed)).bid_fill for seed in range(20)]
    assert all(np.array_equal(a, b) for a, b in zip(fills, again))
    assert all(f.sum() == 10 and set(f.tolist()) <= {1, 2} for f in fills)
    assert len({tuple(f) for f in fills}) > 1  # the seed does decide who gets the extra credit


def test_equal_bid_and_ask_trade_at_that_price():
    r = auction([(7.25, 2)], [(7.25, 3)])
    assert (r.price, r.volume) == (7.25, 2)
    assert r.ask_fill.tolist() == [2]


def test_no_crossing_means_no_trade_and_a_nan_price():
    r = auction([(5, 10), (4, 1)], [(6, 3)])
    assert np.isnan(r.price)
    assert r.volume == 0
    assert r.bid_fill.tolist() == [0, 0]
    assert r.ask_fill.tolist() == [0]


@pytest.mark.parametrize("bids, asks", [([], [(5, 2)]), ([(5, 2)], []), ([], [])])
def test_an_empty_side_means_no_trade(bids, asks):
    r = auction(bids, asks)
    assert np.isnan(r.price) and r.volume == 0
    assert len(r.bid_fill) == len(bids) and len(r.ask_fill) == len(asks)


def test_the_matches_pair_each_credit_bought_with_one_seller_at_the_clearing_price():
    r = auction([(12, 3), (8, 4), (10, 2)], [(11, 5), (6, 2), (9, 3)])
    m = r.matches()
    assert list(zip(m.bid.tolist(), m.ask.tolist(), m.quantity.tolist())) == [
        (0, 1, 2), (0, 2, 1), (2, 2, 2)]
    assert set(m.price.tolist()) == {9.5}


def test_quantities_too_large_for_int64_products_are_rationed_exactly():
    big = 3 * 10**9  # left * cumulative total would overflow int64
    r = auction([(10, big), (10, big)], [(1, big + 1)])
    assert r.bid_fill.tolist() == [big // 2, big // 2 + 1]


# -- bad input --------------------------------------------------------------------------------

GOOD = dict(bid_price=[10.0, 9.0], bid_qty=[1, 2], ask_price=[8.0], ask_qty=[3])


@pytest.mark.parametrize("field, value, message", [
    ("bid_price", [10.0, float("nan")], r"bid_price\[1\].*nan"),
    ("ask_price", [-1.0], r"ask_price\[0\].*-1"),
    ("ask_price", [float("inf")], r"ask_price\[0\].*inf"),
    ("bid_qty", [1, 0], r"bid_qty\[1\].*got 0"),
    ("ask_qty", [-3], r"ask_qty\[0\].*-3"),
    ("bid_qty", [1.0, 2.0], r"bid_qty must hold integers.*float64"),
    ("bid_qty", [1], r"bid_price has 2 entries but bid_qty has 1"),
    ("ask_price", [[8.0]], r"ask_price must be one-dimensional"),
    ("bid_price", ["ten", "nine"], r"bid_price must hold numbers.*ten"),
])
def test_bad_orders_raise_a_value_error_naming_the_value(field, value, message):
    args = {**GOOD, field: value}
    with pytest.raises(ValueError, match=message):
        call_auction(**args)


def test_bad_orders_leave_the_input_arrays_untouched():
    bp, bq = np.array([10.0, 9.0]), np.array([1, 0])
    with pytest.raises(ValueError):
        call_auction(bp, bq, np.array([8.0]), np.array([3]))
    assert bp.tolist() == [10.0, 9.0] and bq.tolist() == [1, 0]


# -- properties -------------------------------------------------------------------------------

price_levels = st.integers(0, 12).map(float) | st.floats(0, 12, allow_nan=False)
orders = st.lists(st.tuples(price_levels, st.integers(1, 6)), max_size=8)


def demand(bids, p):
    return sum(q for price, q in bids if price >= p)


def supply(asks, p):
    return sum(q for price, q in asks if price <= p)


def brute_force_volume(bids, asks):
    prices = [p for p, _ in bids + asks]
    return max((min(demand(bids, p), supply(asks, p)) for p in prices), default=0)


def brute_force_interval(bids, asks, volume):
    """Order prices at which `volume` clears with every strictly better order filled in full."""
    def clears(p):
        return (demand(bids, p) >= volume and supply(asks, p) >= volume
                and sum(q for price, q in bids if price > p) <= volume
                and sum(q for price, q in asks if price < p) <= volume)
    ok = [p for p, _ in bids + asks if clears(p)]
    return min(ok), max(ok)


@settings(max_examples=300, deadline=None)
@given(bids=orders, asks=orders, seed=st.none() | st.integers(0, 2**32 - 1))
def test_the_auction_clears_the_maximum_volume_within_every_limit(bids, asks, seed):
    rng = None if seed is None else np.random.default_rng(seed)
    r = auction(bids, asks, rng)
    bp = np.array([p for p, _ in bids]); bq = np.array([q for _, q in bids], dtype=int)
    ap = np.array([p for p, _ in asks]); aq = np.array([q for _, q in asks], dtype=int)

    assert r.volume == brute_force_volume(bids, asks)
    assert r.bid_fill.sum() == r.ask_fill.sum() == r.volume
    assert np.all((0 <= r.bid_fill) & (r.bid_fill <= bq))
    assert np.all((0 <= r.ask_fill) & (r.ask_fill <= aq))
    if r.volume == 0:
        assert np.isnan(r.price)
        return
    lo, hi = brute_force_interval(bids, asks, r.volume)
    assert lo <= r.price <= hi
    assert r.price == pytest.approx((lo + hi) / 2, rel=1e-12, abs=1e-300)
    # A bid never pays more than its limit, an ask never receives less than its limit.
    assert np.all(bp[r.bid_fill > 0] >= r.price)
    assert np.all(ap[r.ask_fill > 0] <= r.price)
    # Orders strictly inside the price are filled in full.
    assert np.array_equal(r.bid_fill[bp > r.price], bq[bp > r.price])
    assert np.array_equal(r.ask_fill[ap < r.price], aq[ap < r.price])
    # Marginal orders get their pro-rata share, rounded down or up.
    for price, qty, fill, inside in ((bp, bq, r.bid_fill, bp > r.price),
                                     (ap, aq, r.ask_fill, ap < r.price)):
        margin = price == r.price
        if margin.any():
            left = r.volume - qty[inside].sum()
            share = left * qty[margin] / qty[margin].sum()
            assert np.all(np.abs(fill[margin] - share) < 1)


@settings(max_examples=100, deadline=None)
@given(bids=orders, asks=orders, seed=st.integers(0, 2**32 - 1))
def test_the_same_seed_gives_the_same_result(bids, asks, seed):
    a = auction(bids, asks, np.random.default_rng(seed))
    b = auction(bids, asks, np.random.default_rng(seed))
    assert (a.volume, a.bid_fill.tolist(), a.ask_fill.tolist()) == (
        b.volume, b.bid_fill.tolist(), b.ask_fill.tolist())
    assert a.price == b.price or (np.isnan(a.price) and np.isnan(b.price))
