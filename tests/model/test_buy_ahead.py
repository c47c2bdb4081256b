"""Firms buying ahead of their claims: when a firm expects prices to rise faster than its cost
of capital, it also buys part of its next claim year's credits and retires them at once; they
cover that much of its next claim."""

import numpy as np
import pytest

from vcm_sim.model import VCMModel

from .conftest import small


def buyers(response: float = 5.0, cost_of_capital: float = 0.08, steps: int = 1):
    """A small model, its firms, their settings with buying ahead, and twenty pledged firms."""
    model = VCMModel(small(steps=steps, firms={"buy_ahead_response": response,
                                               "cost_of_capital_yr": cost_of_capital}), rng=3)
    firms = model.market.firms
    firm = (firms.pledge != 0).nonzero()[0][:20]
    return model, firms, model.config.firms, firm


def demand_at(model, firm: np.ndarray, trend: float | None, seed: int = 7):
    """The demand of firms ``firm`` this month when every type's price is expected to change
    by ``trend`` (log per year; None: no expectation given)."""
    market = model.market
    n = len(market.types.names)
    return market.firms.demand(np.random.default_rng(seed), firm.copy(), model.config.firms,
                               market.forecast_price, market.sentiment.level, 1.0,
                               market.types.credit_mix, np.ones(n, dtype=bool),
                               None if trend is None else np.full(n, trend))


def test_the_share_bought_ahead_grows_with_the_expected_gain_over_the_cost_of_capital():
    _, firms, params, _ = buyers(response=5.0, cost_of_capital=0.08)
    share = firms.ahead_share(params, np.array([-0.5, 0.0, 0.08, 0.1, 0.2, 0.5]))
    assert share == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.6, 1.0])


def test_a_firm_expecting_no_gain_over_its_cost_of_capital_bids_as_one_that_never_buys_ahead():
    model, _, _, firm = buyers()
    plain, flat = demand_at(model, firm, None), demand_at(model, firm, 0.05)
    assert (flat.ahead == 0).all()
    assert (flat.quantity == plain.quantity).all()
    assert (flat.step_quantity == plain.step_quantity).all()


def test_a_firm_expecting_a_rise_bids_for_part_of_next_years_credits_on_top_of_this_years():
    model, firms, params, firm = buyers(response=5.0)
    plain, rising = demand_at(model, firm, None), demand_at(model, firm, 0.2)
    share = firms.ahead_share(params, np.array([0.2]))[0]
    assert share == pytest.approx(0.6)
    assert (rising.ahead == np.floor(share * plain.quantity)).all()
    assert (rising.quantity == plain.quantity + rising.ahead).all()
    assert rising.ahead.sum() > 0
    # Along the whole demand curve, not only at the planned price.
    wanted = rising.step_quantity[:, ::-1].cumsum(axis=1)
    claim = plain.step_quantity[:, ::-1].cumsum(axis=1)
    assert (wanted == claim + np.floor(share * claim)).all()


def test_credits_bought_ahead_cover_the_next_claim_year_and_it_buys_that_much_less():
    model, firms, params, firm = buyers(response=5.0)
    rising = demand_at(model, firm, 0.2)
    bought = rising.quantity.copy()
    for_now = firms.settle(rising, bought)
    assert (for_now == bought - rising.ahead).all()
    assert (firms.ahead[firm] == rising.ahead).all()
    assert (firms.covered[firm] == 0).all()
    month = int(firms.buy_month[firm[0]])
    opening = firm[firms.buy_month[firm] == month]
    firms.open_claim_year(month + 1)  # the claim year after the reporting month opens
    assert (firms.covered[opening] == rising.ahead[np.isin(firm, opening)]).all()
    assert (firms.ahead[opening] == 0).all()
    covered = firms.covered[opening].copy()
    again = demand_at(model, opening, None)
    firms.covered[opening] = 0.0
    uncovered = demand_at(model, opening, None)  # the same draws: the same types and prices
    assert (again.quantity == np.maximum(uncovered.quantity - covered, 0)).all()
    assert (again.quantity < uncovered.quantity).any()


def test_a_market_whose_buyers_buy_ahead_still_conserves_credits_and_cash_every_month():
    """Issue 13: with buying ahead on, the model's every-step checks (credits and cash
    conserved, debug mode) hold, firms do buy ahead, and what they retired ahead shrinks
    what they buy when their next claim year opens."""
    model = VCMModel(small(steps=48, firms={"buy_ahead_response": 50.0,
                                            "cost_of_capital_yr": 0.0}), rng=5)
    firms = model.market.firms
    seen_ahead = seen_covered = 0.0
    for _ in range(48):
        model.step()
        seen_ahead = max(seen_ahead, float(firms.ahead.sum()))
        seen_covered = max(seen_covered, float(firms.covered.sum()))
    assert seen_ahead > 0 and seen_covered > 0
