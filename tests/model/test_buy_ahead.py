"""Firms buying ahead of their claims: at a price below what it expects to pay next year,
discounted at its cost of capital and the hazard of dropping its pledge, a firm also bids for
part of its next claim year's credits; it holds them and retires them when that claim year
opens, behind that claim, and buys that much less then."""

import numpy as np
import pytest

from vcm_sim.model import VCMModel
from vcm_sim.scenario import ScenarioError

from .conftest import small

EAGER = {"buy_ahead_response": 100.0, "cost_of_capital_yr": 0.0, "pledge_drop_yr": 0.0}
"""Firms that buy all of next year's credits at any price below what they expect to pay."""


def buyers(**firms):
    """A small model after its burn-in, its firms, their settings and twenty pledged firms;
    none has credits in hand for its claim year (:attr:`covered`)."""
    model = VCMModel(small(steps=1, firms=firms), rng=3)
    market = model.market
    market.firms.covered[:] = 0.0
    return model, market.firms, model.config.firms, (market.firms.pledge != 0).nonzero()[0][:20]


def demand_of(model, firm: np.ndarray, params=None, seed: int = 7):
    """The demand of firms ``firm`` this month (seeded draws: the same types each call),
    with firms' settings ``params`` (default: the model's)."""
    market = model.market
    n = len(market.types.names)
    params = model.config.firms if params is None else params
    return market.firms.demand(np.random.default_rng(seed), firm.copy(), params,
                               market.forecast_price, market.sentiment.level, 1.0,
                               market.types.credit_mix, np.ones(n, dtype=bool))


def test_the_share_bought_ahead_is_the_discounted_gain_of_buying_now():
    _, firms, params, _ = buyers(buy_ahead_response=5.0, cost_of_capital_yr=0.05,
                                 pledge_drop_yr=0.05)
    price = 10.0 * np.exp(-np.array([-0.5, 0.0, 0.1, 0.15, 0.2, 0.4]))
    share = firms.ahead_share(params, np.array(10.0), price)
    assert share == pytest.approx([0.0, 0.0, 0.0, 0.25, 0.5, 1.0])


def test_an_eager_firm_bids_for_next_years_credits_only_below_what_it_expects_to_pay():
    """With a large response it is arbitrage: at each step below the expected price, all
    of next year's credits (as wanted at the expected price); above it, none."""
    model, firms, params, firm = buyers(**EAGER)
    demand = demand_of(model, firm)
    expected = model.market.forecast_price[demand.kind]
    below = demand.step_price < expected[:, None]
    ahead = demand.step_ahead[:, ::-1].cumsum(axis=1)[:, ::-1]  # credits bid at >= each price
    assert (ahead[~below] == 0).all()
    cheapest = ahead[:, 0]
    assert (cheapest[below[:, 0]] == demand.quantity[below[:, 0]]).all()
    assert cheapest.sum() > 0


def test_a_firm_that_never_buys_ahead_bids_as_before_and_buys_less_ahead_when_less_eager():
    model, _, params, firm = buyers()
    plain = demand_of(model, firm)
    assert (plain.step_ahead == 0).all()
    shares = []
    for response in (1.0, 5.0, 100.0):
        eager = params.model_copy(update={**EAGER, "buy_ahead_response": response})
        demand = demand_of(model, firm, eager)
        assert (demand.step_quantity == plain.step_quantity).all()  # this year's bids
        shares.append(demand.step_ahead.sum())
    assert shares[0] <= shares[1] <= shares[2] and shares[0] < shares[2]


def test_credits_bought_ahead_are_held_then_retired_behind_the_next_claim():
    """A firm holding credits at a month's end keeps them until its claim year opens, then
    retires as many as its new claim needs behind it (they count as its claimed credits and
    as covered); a firm that has dropped its pledge retires none."""
    model = VCMModel(small(steps=60, firms=EAGER), rng=5)
    market = model.market
    firms, registry = market.firms, market.registry
    retired = 0
    for _ in range(60):
        holding = registry.held(market.firm_ids)
        opening = (firms.buy_month == model.month_index % 12).nonzero()[0]  # open next month
        model.step()
        held = opening[holding[opening] > 0]
        after = registry.held(market.firm_ids[held])
        covered = firms.covered[held]
        assert (covered <= holding[held]).all()
        assert (after == holding[held] - covered).all()
        assert (firms.claimed_this_year[held] >= covered).all()
        unpledged = firms.pledge[held] == 0
        assert (covered[unpledged] == 0).all()
        retired += int(covered.sum())
    assert retired > 0
    assert model.results().bought_ahead.iloc[-1] > 0


def test_a_firm_that_drops_its_pledge_keeps_what_it_bought_ahead():
    """Credits held by a firm without a pledge when its claim year opens back no claim."""
    model = VCMModel(small(steps=60, firms=EAGER), rng=5)
    market = model.market
    firms = market.firms
    while not (holders := (market.registry.held(market.firm_ids) > 0).nonzero()[0]).size:
        model.step()
    firm = holders[:1]
    firms.pledge[firm] = 0  # dropped
    held = market.registry.held(market.firm_ids[firm])
    claimed = firms.claimed_this_year[firm].copy()
    for _ in range(12):  # its claim year opens within a year
        model.step()
        assert (market.registry.held(market.firm_ids[firm]) == held).all()
        assert firms.covered[firm][0] == 0
    assert firms.claimed_this_year[firm][0] in (0.0, claimed[0])


def test_a_firm_with_credits_in_hand_bids_for_its_claim_less_them():
    model, firms, _, firm = buyers(**EAGER)
    uncovered = demand_of(model, firm)
    firms.covered[firm] = np.floor(uncovered.quantity / 2)
    covered = demand_of(model, firm)
    assert (covered.quantity == uncovered.quantity - firms.covered[firm]).all()
    claim_bids = covered.step_quantity.sum(axis=1)
    assert (claim_bids <= uncovered.step_quantity.sum(axis=1)).all()
    assert (claim_bids < uncovered.step_quantity.sum(axis=1)).any()


def test_a_market_whose_buyers_buy_ahead_conserves_credits_and_cash_every_month():
    """Debug mode checks the registry and the cash statement every month; the credits
    firms hold are in the registry's stocks (issued = active + buffer + retired +
    cancelled, with firms' holdings among the active)."""
    results = VCMModel(small(steps=48, firms=EAGER), rng=8).run().results()
    assert results.held_by_firms.max() > 0
    assert (results.issued == results.active + results.buffer + results.retired
            + results.cancelled).all()


def test_linked_markets_and_quality_books_refuse_firms_that_buy_ahead():
    with pytest.raises(ScenarioError, match="firms buying ahead in linked markets"):
        small("linked", firms={"buy_ahead_response": 1.0})
    with pytest.raises(ScenarioError, match="quality_books with firms.buy_ahead_response"):
        small("rated", firms={"buy_ahead_response": 1.0})
    with pytest.raises(ScenarioError, match="quality_books with firms.buy_ahead_response"):
        small(firms={"buy_ahead_response": 1.0},
              events=[{"step": 3, "kind": "set", "path": "rules.market.quality_books",
                       "value": True}])
