"""Hypothesis over small, cash-starved markets (issue 12): bankruptcies, fire sales, wind-downs
and project transfers keep every credit and every dollar accounted for."""

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from tests.model.conftest import obliged_or_dropping
from vcm_sim import VCMModel, load_scenario

unit = st.floats(0.0, 1.0)


@st.composite
def starved(draw):
    """Few developers with little cash and short credit lines, so that some go bankrupt,
    others wind down and entrants come in."""
    low = draw(st.integers(0, 24))
    return load_scenario("baseline", **{
        "steps": draw(st.integers(12, 48)), "burn_in": 0, "debug": True,
        "population": {"firms": draw(st.integers(5, 60)), "developers": draw(st.integers(2, 12)),
                       "verifiers": draw(st.integers(1, 4)), "traders": draw(st.integers(0, 3))},
        "developers": {"initial_cash_usd": draw(st.floats(0.0, 3e5)),
                       "credit_line_usd": draw(st.floats(0.0, 5e5)),
                       "fire_sale_discount": draw(unit), "sell_share": draw(unit),
                       "cost_anchor": draw(unit), "entry_rate_yr": draw(st.floats(0.0, 2.0)),
                       "ask_learning": draw(unit), "initial_projects": draw(st.integers(1, 3))},
        "projects": {"pipeline_months_min": low,
                     "pipeline_months_max": low + draw(st.integers(0, 24))},
        "firms": {**obliged_or_dropping(draw, unit),
                  "willingness_to_pay_usd": draw(st.floats(1.0, 40.0))},
        "rules": {"market": {"mechanism": draw(st.sampled_from(["call_auction",
                                                               "double_auction"]))}},
    })


def ledger(model: VCMModel) -> tuple[float, float]:
    """Cash that left the market as project costs, and newcomers' equity that came in (USD)."""
    tally = model.market.tally
    spent_outside = tally.developer_cost_usd - tally.verification_fees_usd
    return spent_outside, tally.developer_entries * model.config.developers.initial_cash_usd


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=starved(), seed=st.integers(0, 2**32 - 1))
def test_exits_and_transfers_keep_credits_and_cash_accounted_for(scenario, seed):
    model = VCMModel(scenario, rng=seed)
    start = model.market.cash.total()
    model.run()  # debug: registry.check() after every month
    spent, equity = ledger(model)
    assert model.market.cash.total() == pytest.approx(start - spent + equity, rel=1e-9, abs=1e-3)

    devs, projects, t = model.market.developers, model.market.projects, model.month_index
    assert len(devs) == scenario.population.developers + model.market.tally.developer_entries
    assert int((~devs.active).sum()) == model.market.tally.developer_exits
    running = projects.end_step > t
    owner = projects.developer[running]
    assert devs.active[owner].all(), "a running project belongs to a developer in business"
    assert (devs.specialty[owner] == projects.kind[running]).all(), "heirs share the type"


def bankrupt_market(seed: int = 0) -> tuple[VCMModel, np.ndarray, set[int]]:
    """A market whose developers start with USD 50,000 and no credit line, run for four years
    month by month; also who held each project at the start and the developers that went
    bankrupt (left with cash below zero, the credit line)."""
    scenario = load_scenario("baseline", steps=48, burn_in=0, debug=True,
                             population={"firms": 100, "developers": 20, "verifiers": 3},
                             developers={"initial_cash_usd": 5e4, "credit_line_usd": 0.0})
    model = VCMModel(scenario, rng=seed)
    owners = model.market.projects.developer.copy()
    broke: set[int] = set()
    for _ in range(scenario.steps):
        active = model.market.developers.active.copy()
        model.step()
        left = (active & ~model.market.developers.active[:len(active)]).nonzero()[0]
        cash = model.market.cash.balance[model.market.developer_ids]
        broke |= {int(d) for d in left if cash[d] < 0}
    return model, owners, broke


def test_a_bankrupt_hands_its_running_projects_to_a_solvent_developer_of_its_type():
    model, owners_before, broke = bankrupt_market()
    assert len(broke) >= 5, "the test needs bankruptcies"
    owners = model.market.projects.developer[:len(owners_before)]
    moved = owners_before != owners
    assert moved.sum() >= 5, "the test needs transfers"
    assert np.isin(owners_before[moved], list(broke)).all(), "only bankrupts hand projects on"
    kinds = model.market.projects.kind[:len(owners)]
    assert (model.market.developers.specialty[owners[moved]] == kinds[moved]).all()


def test_a_liquidator_offers_all_its_credits_and_a_solvent_developer_its_sell_share():
    from vcm_sim.trading import Stock, developer_asks

    scenario = load_scenario("baseline", steps=48, burn_in=0,
                             population={"firms": 100, "developers": 20, "verifiers": 3},
                             developers={"initial_cash_usd": 5e4, "credit_line_usd": 0.0})
    model = VCMModel(scenario, rng=0)
    for _ in range(scenario.steps):
        model.step()
        orders, seller = developer_asks(model.market, Stock.of(model.market).developers)
        gone = ~model.market.developers.active[seller]
        if gone.any():
            break
    assert gone.any() and (~gone).any(), "the test needs both kinds of seller"
    held = model.market.registry.balances([model.market.developer_accounts[d] for d in seller])
    assert (orders.quantity[gone] == held[gone]).all()
    share = model.config.developers.sell_share
    assert (orders.quantity[~gone] == np.floor(held[~gone] * share)).all()


def test_distress_cuts_the_ask_by_the_fire_sale_discount():
    model, _, _ = bankrupt_market()
    devs, params = model.market.developers, model.config.developers
    seller = np.arange(len(devs))
    years = np.zeros(len(model.market.types.names))
    noise = np.ones(len(seller))
    calm = devs.asks(seller, model.market.forecast_price, model.market.new_supply_cost(), years,
                     np.zeros(len(devs)), 0.0, noise, params)
    broke = devs.asks(seller, model.market.forecast_price, model.market.new_supply_cost(), years,
                      np.ones(len(devs)), 0.0, noise, params)
    assert broke == pytest.approx(calm * (1.0 - params.fire_sale_discount))


def test_asks_stay_finite_for_a_stock_no_one_buys_whatever_the_carry_weight():
    """A type that sells nothing has an infinite stock in years; with the cost of carry
    weighed at 0 that stock must not weigh on asks (0 x infinity is no number)."""
    model = VCMModel(load_scenario("baseline", steps=1, burn_in=0,
                                   population={"firms": 20, "developers": 5, "verifiers": 2}),
                     rng=0)
    devs = model.market.developers
    seller = np.arange(len(devs))
    years = np.full(len(model.market.types.names), np.inf)
    for weight in (0.0, 1.0):
        params = model.config.developers.model_copy(update={"carry_weight": weight})
        ask = devs.asks(seller, model.market.forecast_price, model.market.new_supply_cost(), years,
                        np.zeros(len(devs)), 0.01, np.ones(len(seller)), params)
        assert np.isfinite(ask).all() and (ask >= 0.01).all()
    assert (ask == 0.01).all(), "at weight 1 an unsellable stock is offered at the floor"
