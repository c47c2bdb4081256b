"""Prices that learn without trades: a type firms bid for that no one sells moves its
expected price towards its best bid, as a traded type moves towards its price."""

import numpy as np
import pytest

from tests.model.conftest import small
from vcm_sim.agents.firm import Demand
from vcm_sim.model import VCMModel
from vcm_sim.trading import Quotes, best_bids


def demand(kind, quantity, limit) -> Demand:
    n = len(kind)
    empty = np.zeros(n)
    return Demand(np.arange(n), np.asarray(quantity), np.asarray(limit, dtype=float),
                  np.asarray(kind), np.zeros(n, dtype=bool), empty, empty[:, None],
                  np.zeros((n, 1), dtype=np.int64))


def test_the_best_bid_of_each_type_bid_for_without_trading():
    """Types 0 and 2 were bid for and did not trade; type 1 traded. A bid for no credits
    (a firm that abates everything) is not a bid."""
    bids = demand(kind=[0, 0, 1, 2, 2], quantity=[5, 0, 3, 4, 1], limit=[10, 50, 7, 9, 12])
    wanted = np.bincount(bids.kind, weights=bids.quantity, minlength=3)
    quotes = best_bids(bids, wanted, type_volume=np.array([0, 10, 0]))
    np.testing.assert_array_equal(quotes.kind, [0, 2])
    np.testing.assert_array_equal(quotes.price, [10.0, 12.0])
    np.testing.assert_array_equal(quotes.quantity, [5, 5])
    assert best_bids(bids, wanted, type_volume=np.array([1, 10, 2])) is None


def test_an_unsold_type_moves_towards_its_best_bid_by_the_credits_bid():
    """The expected price of a type bid for without trading moves towards its best bid by
    price_weight times the credits bid against its typical volume (at most 1); a type
    neither traded nor bid for keeps its expected price."""
    market = VCMModel(small(), rng=1).markets[0]
    n = len(market.types.names)
    market.expected_price = np.full(n, 4.0)
    market.typical_volume = np.full(n, 100.0)
    weight = market.config.expectations.price_weight
    quotes = Quotes(kind=np.array([0, 1]), price=np.array([20.0, 2.0]),
                    quantity=np.array([50, 400]))
    market._update_type_prices(np.zeros(n), np.zeros(n, dtype=np.int64), quotes)
    assert market.expected_price[0] == pytest.approx(4.0 + weight * 0.5 * 16.0)
    assert market.expected_price[1] == pytest.approx(4.0 - weight * 2.0)
    np.testing.assert_array_equal(market.expected_price[2:], 4.0)


def test_a_market_with_buyers_and_no_credits_prices_what_buyers_bid():
    """With no credits anywhere (no projects, no stock, no investment, no entry), firms still
    bid: each type's expected price rises from its starting value towards what buyers bid,
    where before it stayed there for want of a trade (a dead market's developers then never
    saw that new projects would pay)."""
    scenario = small(steps=12, burn_in=0,
                     developers={"initial_projects": 0, "initial_inventory_years": 0.0,
                                 "invest_rate_yr": 0.0, "entry_rate_yr": 0.0})
    model = VCMModel(scenario, rng=3)
    market = model.markets[0]
    start = market.expected_price.copy()
    results = model.run().results()
    assert results["volume"].sum() == 0
    bid_for = np.array([results[f"demand_{name}"].sum() > 0 for name in market.types.names])
    assert bid_for.any()
    assert (market.expected_price[bid_for] > start[bid_for]).all()
    np.testing.assert_array_equal(market.expected_price[~bid_for], start[~bid_for])
