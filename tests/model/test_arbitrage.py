"""Traders in linked markets: arbitrageurs buy at home and sell where a credit fetches most
net of the transfer cost; every trader's bids stay below the asks from abroad (holdings in
another registry are not modelled); developers without access abroad sell only at home."""

import numpy as np
import pandas as pd
import pytest

from tests.model.conftest import small
from vcm_sim.agents.trader import ARBITRAGEUR, CHARTIST, TraderPopulation
from vcm_sim.linking import abroad_account
from vcm_sim.model import VCMModel
from vcm_sim.scenario import ScenarioError, Traders, load_scenario, with_overrides
from vcm_sim.trading import Orders, below_imports


def linked(steps: int = 36, access: float = 0.0, traders: int = 6, arbitrage: float = 1.0,
           mode: str = "mutual_recognition", **overrides):
    """The linked preset, small and checked every month, its developers selling only at home
    (``access``) and each market with ``traders``, a share ``arbitrage`` of them
    arbitrageurs."""
    return small("linked", steps=steps,
                 linking={"mode": mode, "transfer_cost_usd": 0.25, "developer_access": access},
                 population={"traders": traders},
                 traders={"arbitrage_share": arbitrage if traders else 0.0}, **overrides)


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


def test_without_arbitrageurs_or_developers_abroad_the_markets_run_as_if_apart():
    """Developers that do not sell abroad price as if their market stood apart: with no
    arbitrageur either, nothing crosses and the linked run is the separate markets' run, bit
    for bit (speculators included)."""
    linked_run = VCMModel(linked(arbitrage=0.0), rng=3).run().results()
    apart = VCMModel(linked(arbitrage=0.0, mode="none"), rng=3).run().results()
    assert linked_run["sold_abroad_lax"].iloc[-1] == linked_run["sold_abroad_strict"].iloc[-1] == 0
    shared = [c for c in apart.columns if c in linked_run.columns]
    assert len(shared) > 100
    pd.testing.assert_frame_equal(linked_run[shared], apart[shared])


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


def test_the_first_share_of_traders_arbitrage_spread_over_the_types_without_a_draw():
    params = Traders(arbitrage_share=0.5, chartist_share=0.5)
    mix = np.array([0.5, 0.0, 0.25, 0.25])
    with_arbitrage = TraderPopulation.create(np.random.default_rng(1), 12, params, mix)
    without = TraderPopulation.create(np.random.default_rng(1), 12,
                                      Traders(chartist_share=0.5), mix)
    assert (with_arbitrage.rule[:6] == ARBITRAGEUR).all()
    assert with_arbitrage.kind[:6].tolist() == [0, 2, 3, 0, 2, 3]  # no type left out
    assert (with_arbitrage.rule[6:] == without.rule[6:]).all()
    assert (with_arbitrage.kind[6:] == without.kind[6:]).all()
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
    with pytest.raises(ScenarioError, match="arbitrage_share = 0.5 but no market has traders"):
        load_scenario("linked", traders={"arbitrage_share": 0.5})
    assert load_scenario("linked", population={"traders": 4},
                         traders={"arbitrage_share": 0.5}).traders.arbitrage_share == 0.5
    with pytest.raises(ScenarioError, match="developer_access"):
        load_scenario("linked", linking={"developer_access": 1.5})


def test_arbitrageurs_offering_abroad_hold_nothing_they_could_sell_only_at_home(monkeypatch):
    """The strict market takes credits at most three years old and the lax developers deliver
    oldest first: an arbitrageur that bought credits the strict market would not take offers
    them at home that month instead of holding them for ever. Every month, every arbitrageur
    whose venue is abroad holds only credits its venue takes; some sell at home."""
    from vcm_sim import arbitrage
    from vcm_sim.trading import vintage_filter

    checked = []
    plan = arbitrage.plan

    def checking(link, i):
        result = plan(link, i)
        origin, strict = link.markets[i], link.markets[0]
        if i == 1 and (~result.home).any():
            takes = arbitrage._both(vintage_filter(origin),
                                    vintage_filter(strict, origin.registry))
            held = origin.registry.held(origin.trader_ids, vintage_filter(origin))
            saleable = origin.registry.held(origin.trader_ids, takes)
            assert (held[~result.home] == saleable[~result.home]).all()
            checked.append(int((~result.home).sum()))
        return result

    monkeypatch.setattr(arbitrage, "plan", checking)
    model = VCMModel(linked(steps=48, markets=[
        {"name": "strict", "settings": {"rules.integrity.max_vintage_age_years": 3}},
        {"name": "lax", "settings": {}}]), rng=3).run()
    lax = model.markets[1]
    journal = lax.registry.journal_frame()
    home_sales = journal[(journal["kind"] == "transfer") & journal["from"].isin(lax.trader_accounts)
                         & journal["to"].isin(lax.firm_accounts)]
    assert checked and home_sales["quantity"].sum() > 0
    assert model.results()["arbitraged_tco2_lax"].iloc[-1] > 0


def test_arbitrageurs_sell_no_authorised_credit_abroad_without_an_adjustment():
    """Half the lax market's projects are authorised for international use: the credits
    arbitrageurs carry to the strict market's buyers (unadjusted) are all unauthorised."""
    from vcm_sim import article6

    model = VCMModel(linked(steps=36, markets=[
        {"name": "strict", "settings": {}},
        {"name": "lax", "settings": {"rules.article6.authorised_share": 0.5}}]), rng=3).run()
    strict, lax = model.markets
    assert lax.projects.authorised.any()
    journal = lax.registry.journal_frame()
    carried = journal[journal["from"].isin(lax.trader_accounts)
                      & (journal["to"] == abroad_account(strict))]
    assert len(carried)
    authorised = article6.batch_filter(lax, True)
    assert not any(authorised(b) for b in carried["batch"].tolist())


def test_arbitrage_values_credits_at_the_standard_books_prices():
    """Linked markets trade in one book per type: its last price, else the expected one."""
    from vcm_sim.trading import standard_prices

    model = VCMModel(linked(steps=1, debug=False), rng=1)
    market = model.markets[0]
    market.latest_price_by_book[:] = np.nan
    market.latest_price_by_book[[0]] = [2.0]
    market.latest_price_by_type[:] = [5.0, 6.0, np.nan, np.nan, np.nan]
    prices = standard_prices(market)
    assert prices[0] == 2.0 and prices[1] == 6.0
    assert (prices[2:] == market.expected_price[2:]).all()
