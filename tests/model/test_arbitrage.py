"""Traders in linked markets: arbitrageurs buy at home and sell where a credit fetches most
net of the transfer cost; every trader's bids stay below the asks from abroad (holdings in
another registry are not modelled); developers without access abroad sell only at home."""

import numpy as np
import pytest

from tests.model.conftest import small
from vcm_sim.agents.trader import ARBITRAGEUR, CHARTIST, TraderPopulation
from vcm_sim.linking import abroad_account
from vcm_sim.model import VCMModel
from vcm_sim.scenario import ScenarioError, Traders, load_scenario, with_overrides
from vcm_sim.trading import Orders, below_imports


def linked(steps: int = 36, access: float = 0.0, traders: int = 6, arbitrage: float = 1.0,
           **overrides):
    """The linked preset, small and checked every month, its developers selling only at home
    (``access``) and each market with ``traders``, a share ``arbitrage`` of them
    arbitrageurs."""
    return small("linked", steps=steps,
                 linking={"transfer_cost_usd": 0.25, "developer_access": access},
                 population={"traders": traders}, traders={"arbitrage_share": arbitrage},
                 **overrides)


def traders_cash(market) -> float:
    return float(market.cash.balance[market.trader_ids].sum())


def test_arbitrageurs_buy_where_credits_are_cheap_and_sell_them_where_they_fetch_most():
    """No developer sells abroad: every credit sold abroad is an arbitrageur's, bought in
    the lax market (where prices are lower) and retired behind strict buyers' claims in the
    lax registry; the arbitrageurs end with more cash than they started with."""
    model = VCMModel(linked(steps=48), rng=3).run()
    strict, lax = model.markets
    results = model.results()
    assert results["sold_abroad_lax"].iloc[-1] > 0
    journal = lax.registry.journal_frame()
    on_behalf = journal[(journal["kind"] == "retire") & (journal["step"] >= 0)
                        & (journal["from"] == abroad_account(strict))]
    sellers = set(journal[(journal["to"] == abroad_account(strict))]["from"])
    assert sellers and sellers <= set(lax.trader_accounts)
    assert on_behalf["quantity"].sum() == results["sold_abroad_lax"].iloc[-1]
    start = lax.config.traders.initial_cash_usd * len(lax.trader_ids)
    assert traders_cash(lax) > start


def test_without_arbitrageurs_or_developers_abroad_nothing_crosses():
    model = VCMModel(linked(arbitrage=0.0), rng=3).run()
    results = model.results()
    assert results["sold_abroad_lax"].iloc[-1] == results["sold_abroad_strict"].iloc[-1] == 0


def test_only_developers_with_access_sell_abroad():
    model = VCMModel(small("linked", steps=24, linking={"transfer_cost_usd": 0.25,
                                                       "developer_access": 0.5}), rng=5).run()
    strict, lax = model.markets
    reach = model.link.reaches_abroad(lax)
    assert 0 < reach.mean() < 1
    journal = lax.registry.journal_frame()
    sellers = set(journal[journal["to"] == abroad_account(strict)]["from"])
    allowed = {account for account, ok in zip(lax.developer_accounts, reach) if ok}
    assert sellers and sellers <= allowed


def test_arbitrage_narrows_the_gap_between_prices_of_the_same_type():
    """Paired seeds, developers selling only at home: arbitrageurs carry the cheap market's
    credits to the dear market's buyers, so the two markets' prices of the same type come
    closer than with no trader (mean over eight seeds; a single small world is noisy)."""
    def gap(traders: int) -> float:
        return np.mean([VCMModel(linked(steps=60, traders=traders, debug=False),
                                 rng=seed).run().summary()["type_price_gap"]
                        for seed in range(1, 9)])
    assert gap(6) < gap(0)


def test_traders_bids_stay_below_every_ask_from_abroad_in_their_book():
    bids = Orders.of([0, 1, 2], [5.0, 3.0, 9.0], [10, 10, 10], [0, 0, 2])
    abroad = Orders.of([-1, -1, -1], [4.0, 6.0, 1.0], [5, 5, 5], [0, 0, 4])
    capped = below_imports(bids, abroad, 6)
    assert capped[0] < 4.0 and capped[0] == pytest.approx(4.0)
    assert capped[1] == 3.0  # already below
    assert capped[2] == 9.0  # no ask from abroad in its book


def test_speculators_in_linked_markets_trade_at_home_only():
    """Fundamentalists and chartists in both markets: every registry stays consistent (debug)
    and no trader holds an account's worth of credits in the other market's registry."""
    model = VCMModel(linked(access=1.0, arbitrage=0.0), rng=7).run()
    for market in model.markets:
        journal = market.registry.journal_frame()
        assert not journal["to"].str.contains(":trader").any()
    assert any(market.registry.held(market.trader_ids).sum() > 0 for market in model.markets)


def test_the_first_share_of_traders_arbitrage_and_no_draw_is_spent_on_it():
    params = Traders(arbitrage_share=0.25, chartist_share=0.5)
    mix = np.full(5, 0.2)
    with_arbitrage = TraderPopulation.create(np.random.default_rng(1), 8, params, mix)
    without = TraderPopulation.create(np.random.default_rng(1), 8,
                                      Traders(chartist_share=0.5), mix)
    assert (with_arbitrage.rule[:2] == ARBITRAGEUR).all()
    assert (with_arbitrage.rule[2:] == without.rule[2:]).all()
    assert (with_arbitrage.kind == without.kind).all()
    assert set(without.rule) <= {0, CHARTIST}


def test_arbitrage_needs_a_link_and_traders_stay_out_of_adjusted_only_markets():
    with pytest.raises(ScenarioError, match="arbitrage_share = 0.5 needs linked markets"):
        load_scenario("baseline", population={"traders": 4},
                      traders={"arbitrage_share": 0.5})
    with pytest.raises(ScenarioError, match="arbitrage_share.*needs linked markets"):
        load_scenario("linked", linking={"mode": "none"}, population={"traders": 4},
                      traders={"arbitrage_share": 0.5})
    with pytest.raises(ScenarioError, match="traders in a market that takes only adjusted.*"
                                            "aviation"):
        with_overrides(load_scenario("corsia"),
                       {"markets.1.settings": {"population.traders": 3}})
    assert load_scenario("linked", population={"traders": 4},
                         traders={"arbitrage_share": 0.5}).traders.arbitrage_share == 0.5
    with pytest.raises(ScenarioError, match="developer_access"):
        load_scenario("linked", linking={"developer_access": 1.5})
