"""Quality tiers: each tier clears on its own, with its own price."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vcm_sim.market import (MECHANISMS, TieredBooks, call_auction, clear_by_tier,
                            clear_by_tier_flat, clear_call_auction)


def test_the_mechanisms_are_chosen_by_name():
    assert sorted(MECHANISMS) == ["call_auction", "double_auction"]
    with pytest.raises(TypeError):
        MECHANISMS["other"] = MECHANISMS["call_auction"]  # read-only


def test_each_tier_clears_separately_with_indices_into_the_full_arrays():
    bid_price = np.array([20.0, 8.0, 25.0, 9.0])
    bid_qty = np.array([5, 5, 5, 5])
    bid_tier = np.array(["high", "low", "high", "low"])
    ask_price = np.array([7.0, 15.0, 18.0])
    ask_qty = np.array([10, 4, 4])
    ask_tier = np.array(["low", "high", "high"])

    cleared = clear_by_tier(MECHANISMS["call_auction"], bid_price, bid_qty, bid_tier,
                            ask_price, ask_qty, ask_tier)

    assert list(cleared) == ["high", "low"]
    high, low = cleared["high"], cleared["low"]
    assert set(bid_tier[high.bid]) == {"high"} and set(ask_tier[high.ask]) == {"high"}
    assert set(bid_tier[low.bid]) == {"low"} and set(ask_tier[low.ask]) == {"low"}
    # High: bids 25 x5, 20 x5 take all 8 asks (15 x4, 18 x4); the bid at 20 is rationed and the
    # clearing interval is [20, 20]. Low: bids 9 x5, 8 x5 take 10 at 7; interval [7, 8].
    alone = call_auction(bid_price[[0, 2]], bid_qty[[0, 2]], ask_price[[1, 2]], ask_qty[[1, 2]])
    assert (high.volume, high.vwap) == (alone.volume, alone.price) == (8, 20.0)
    assert (low.volume, low.vwap) == (10, 7.5)
    assert high.vwap > low.vwap  # the premium for the high tier


# Few price levels and tiers, so ties at the margin and one-sided tiers are common.
tiered_orders = st.lists(st.tuples(st.integers(1, 6).map(lambda p: p / 2), st.integers(1, 9),
                                   st.integers(0, 3)), max_size=14)


def columns(orders):
    return (np.array([p for p, _, _ in orders], dtype=float),
            np.array([q for _, q, _ in orders], dtype=np.int64),
            np.array([t for _, _, t in orders], dtype=np.int64))


@settings(max_examples=300, deadline=None)
@given(bids=tiered_orders, asks=tiered_orders, seed=st.none() | st.integers(0, 2**32 - 1))
def test_the_one_pass_call_auction_equals_one_auction_per_tier(bids, asks, seed):
    """The vectorised shortcut must give the same matches, and draw the same numbers from the
    generator, as clearing each tier on its own."""
    bp, bq, bt = columns(bids)
    ap, aq, at = columns(asks)
    rngs = [None, None] if seed is None else [np.random.default_rng(seed) for _ in range(2)]
    one_pass = clear_by_tier(clear_call_auction, bp, bq, bt, ap, aq, at, rngs[0])
    per_tier = clear_by_tier(lambda *args: clear_call_auction(*args), bp, bq, bt, ap, aq, at,
                             rngs[1])
    assert list(one_pass) == list(per_tier)
    for tier in per_tier:
        for column in ("bid", "ask", "quantity", "price"):
            fast, slow = getattr(one_pass[tier], column), getattr(per_tier[tier], column)
            assert fast.dtype == slow.dtype and np.array_equal(fast, slow), (tier, column)
    if seed is not None:
        assert rngs[0].random() == rngs[1].random()


@settings(max_examples=200, deadline=None)
@given(bids=tiered_orders, asks=tiered_orders, seed=st.integers(0, 2**32 - 1),
       mechanism=st.sampled_from(sorted(MECHANISMS)))
def test_flat_clearing_lists_every_tiers_matches_in_label_order(bids, asks, seed, mechanism):
    """What the model settles: the per-tier matches laid end to end, each with its label."""
    bp, bq, bt = columns(bids)
    ap, aq, at = columns(asks)
    per_tier = clear_by_tier(MECHANISMS[mechanism], bp, bq, bt, ap, aq, at,
                             np.random.default_rng(seed))
    labels, flat = clear_by_tier_flat(MECHANISMS[mechanism], bp, bq, bt, ap, aq, at,
                                      np.random.default_rng(seed))
    expected = [(label, *row) for label, m in per_tier.items()
                for row in zip(m.bid.tolist(), m.ask.tolist(), m.quantity.tolist(),
                               m.price.tolist())]
    got = list(zip(labels.tolist(), flat.bid.tolist(), flat.ask.tolist(),
                   flat.quantity.tolist(), flat.price.tolist()))
    assert got == expected


def test_a_tier_with_one_side_only_clears_nothing():
    cleared = clear_by_tier(MECHANISMS["call_auction"], [10.0], [3], ["gold"], [5.0], [3],
                            ["silver"])
    assert cleared["gold"].volume == 0 and cleared["silver"].volume == 0


def test_tiers_with_the_double_auction_are_reproducible_from_the_seed():
    rng = np.random.default_rng(3)
    args = (rng.uniform(5, 15, 30), rng.integers(1, 5, 30), rng.integers(0, 3, 30),
            rng.uniform(5, 15, 30), rng.integers(1, 5, 30), rng.integers(0, 3, 30))
    a = clear_by_tier(MECHANISMS["double_auction"], *args, rng=np.random.default_rng(1))
    b = clear_by_tier(MECHANISMS["double_auction"], *args, rng=np.random.default_rng(1))
    assert list(a) == [0, 1, 2]
    for tier in a:
        assert np.array_equal(a[tier].bid, b[tier].bid)
        assert np.array_equal(a[tier].price, b[tier].price)
        assert set(args[2][a[tier].bid].tolist()) <= {tier}


def test_a_side_without_orders_leaves_every_tier_without_trades():
    cleared = clear_by_tier(MECHANISMS["call_auction"], [], [], [], [5.0, 6.0], [3, 1],
                            ["gold", "silver"])
    assert list(cleared) == ["gold", "silver"]
    assert all(m.volume == 0 for m in cleared.values())


def test_tier_labels_must_match_their_side_in_length():
    with pytest.raises(ValueError, match=r"ask_tier has shape \(2,\) but ask_price has \(1,\)"):
        clear_by_tier(MECHANISMS["call_auction"], [1.0], [1], ["a"], [1.0], [1], ["a", "b"])


def test_a_nan_tier_label_is_refused():
    with pytest.raises(ValueError, match="bid_tier holds NaN"):
        clear_by_tier(MECHANISMS["call_auction"], [1.0], [1], [np.nan], [1.0], [1], [1.0])


def test_bad_orders_in_any_tier_are_reported_against_the_full_arrays():
    with pytest.raises(ValueError, match=r"bid_qty\[1\]"):
        clear_by_tier(MECHANISMS["call_auction"], [1.0, 2.0], [1, 0], ["a", "b"], [1.0], [1],
                      ["a"])


def test_tiered_books_keep_one_book_per_tier():
    books = TieredBooks(["A", "B"])
    books.submit("A", "sell", 10.0, 5, "dev", batch_id=0)
    books.submit("B", "sell", 6.0, 5, "dev", batch_id=1)
    assert books.submit("A", "buy", 7.0, 1, "firm") == []
    [trade] = books.submit("B", "buy", 7.0, 1, "firm")
    assert (trade.price, trade.batch_id) == (6.0, 1)
    assert books.best_quotes() == {"A": (7.0, 10.0), "B": (None, 6.0)}
    assert books.tiers == ("A", "B")
    books.clear()
    assert books.best_quotes() == {"A": (None, None), "B": (None, None)}


def test_an_unknown_tier_is_an_error_naming_the_valid_tiers():
    books = TieredBooks(["A", "B"])
    with pytest.raises(ValueError, match=r"unknown tier 'C'; tiers are \['A', 'B'\]"):
        books.submit("C", "buy", 1.0, 1, "firm")
    with pytest.raises(ValueError, match="at least one tier"):
        TieredBooks([])
