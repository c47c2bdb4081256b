"""Prices that learn without trades: a type bid for that does not trade moves its expected
price towards its quote (the midpoint of best bid and lowest ask, or a lone best bid as a
floor), as a traded type moves towards its price."""

import numpy as np
import pytest

from tests.model.conftest import small
from vcm_sim.model import VCMModel
from vcm_sim.trading import Orders, Quotes, untraded_quotes


def orders(book, price, quantity) -> Orders:
    return Orders.of(np.arange(len(book)), np.asarray(price, dtype=float),
                     np.asarray(quantity), np.asarray(book))


def test_quotes_of_the_types_bid_for_that_did_not_trade():
    """Books of two segments per type (type x 2 + segment). Type 0 (both segments) was bid for up to 10 against an ask of
    14: its quote is the midpoint 12. Type 1 traded: no quote. Type 2 was bid for up to 9
    with no ask: its quote is 9, a floor."""
    bids = orders(book=[0, 1, 2, 4, 4], price=[8.0, 10.0, 7.0, 9.0, 3.0],
                  quantity=[5, 2, 3, 4, 1])
    asks = orders(book=[0, 3], price=[14.0, 6.0], quantity=[50, 20])
    volume = np.array([0, 0, 3, 0, 0, 0])
    quotes = untraded_quotes(bids, asks, volume, 2)
    np.testing.assert_array_equal(quotes.kind, [0, 2])
    np.testing.assert_array_equal(quotes.price, [12.0, 9.0])
    np.testing.assert_array_equal(quotes.quantity, [7, 5])
    np.testing.assert_array_equal(quotes.floor, [False, True])
    assert untraded_quotes(bids, asks, np.array([1, 0, 3, 0, 2, 0]), 2) is None


def test_an_unsold_type_moves_towards_its_quote_by_the_credits_bid():
    """The expected price of a type bid for without trading moves towards its quote by
    price_weight times the credits bid against its typical volume (at most 1); a lone bid
    below the expected price (a floor) leaves it; a type neither traded nor bid for keeps
    its expected price."""
    market = VCMModel(small(), rng=1).markets[0]
    n = len(market.types.names)
    market.expected_price = np.full(n, 4.0)
    market.typical_volume = np.full(n, 100.0)
    weight = market.config.expectations.price_weight
    quotes = Quotes(kind=np.array([0, 1, 2]), price=np.array([20.0, 2.0, 2.0]),
                    quantity=np.array([50, 400, 400]), floor=np.array([True, False, True]))
    market._update_type_prices(np.zeros(n), np.zeros(n, dtype=np.int64), quotes)
    assert market.expected_price[0] == pytest.approx(4.0 + weight * 0.5 * 16.0)
    assert market.expected_price[1] == pytest.approx(4.0 - weight * 2.0)
    np.testing.assert_array_equal(market.expected_price[2:], 4.0)


def test_a_market_with_buyers_and_no_credits_prices_what_buyers_bid():
    """With no credits anywhere (no projects, no stock, no investment, no entry), firms still
    bid: each type's expected price rises from its starting value towards what buyers bid,
    where before it stayed there for want of a trade (a dead market's developers then never
    saw that new projects would pay); a price ceiling caps what the bids can teach."""
    def run(ceiling):
        scenario = small(steps=12, burn_in=0,
                         developers={"initial_projects": 0, "initial_inventory_years": 0.0,
                                     "invest_rate_yr": 0.0, "entry_rate_yr": 0.0},
                         rules={"market": {"price_ceiling_usd": ceiling}})
        model = VCMModel(scenario, rng=3)
        start = model.markets[0].expected_price.copy()
        return model, start, model.run().results()

    model, start, results = run(None)
    market = model.markets[0]
    assert results["volume"].sum() == 0
    bid_for = np.array([results[f"demand_{name}"].sum() > 0 for name in market.types.names])
    assert bid_for.any()
    assert (market.expected_price[bid_for] > start[bid_for]).all()
    np.testing.assert_array_equal(market.expected_price[~bid_for], start[~bid_for])
    capped, start, _ = run(20.0)
    assert (capped.markets[0].expected_price <= np.maximum(start, 20.0) + 1e-9).all()
