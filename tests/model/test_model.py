"""The model as a user drives it: build, run, results, summary, reproducibility, events."""

import math

import numpy as np
import pandas as pd
import pytest

from vcm_sim import VCMModel, load_scenario
from vcm_sim.agents import EmittingFirm, ProjectDeveloper, Regulator, Verifier
from vcm_sim.metrics import REPORTERS
from vcm_sim.scenario import preset_names

from .conftest import small


def test_run_defaults_to_the_scenario_horizon(small_scenario):
    model = VCMModel(small_scenario, rng=1).run()
    results = model.results()
    assert len(results) == small_scenario.steps
    assert list(results["step"]) == list(range(small_scenario.steps))
    assert list(results.columns) == list(REPORTERS)


def test_same_seed_gives_identical_results_and_another_seed_does_not(small_scenario):
    a = VCMModel(small_scenario, rng=7).run().results()
    b = VCMModel(small_scenario, rng=7).run().results()
    c = VCMModel(small_scenario, rng=8).run().results()
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_a_preset_name_is_accepted_in_place_of_a_scenario():
    model = VCMModel("baseline", rng=0)
    assert model.config.name == "baseline"


def test_agents_are_mesa_agents_with_registry_accounts(small_scenario):
    model = VCMModel(small_scenario, rng=1)
    by_type = model.agents_by_type
    assert len(by_type[EmittingFirm]) == 120
    assert len(by_type[ProjectDeveloper]) == 30
    assert len(by_type[Verifier]) == 6
    assert len(by_type[Regulator]) == 1
    for agent in model.agents:
        assert agent.account in model.market.registry.accounts


def test_credits_are_issued_traded_and_retired_with_plausible_prices(small_scenario):
    model = VCMModel(small_scenario, rng=3).run()
    summary = model.summary()
    assert summary["issued_total"] > 0 and summary["retired_total"] > 0
    totals = model.market.registry.totals()
    assert totals["issued"] == (totals["active"] + totals["buffer"] + totals["retired"]
                                + totals["cancelled"])
    assert 0.5 < summary["mean_price_usd"] < 50


def test_every_retirement_backs_exactly_one_claim_of_its_holder(small_scenario):
    model = VCMModel(small_scenario, rng=4).run()
    journal = model.market.registry.journal_frame()
    retirements = journal[journal["kind"] == "retire"]
    assert len(retirements) > 0
    assert retirements["claim"].notna().all()
    assert (retirements["note"] == retirements["from"]).all()
    holders = retirements["claim"].str.split("/").str[0]
    assert (holders == retirements["from"]).all()


def test_suspension_stops_issuance_until_relaunch():
    scenario = small(steps=30, events=[{"step": 6, "kind": "suspend_issuance"},
                                       {"step": 18, "kind": "resume_issuance"}])
    issued = VCMModel(scenario, rng=2).run().results()["issued"]
    assert issued.iloc[17] == issued.iloc[5]
    assert issued.iloc[29] > issued.iloc[17]


def test_a_set_event_changes_a_rule_mid_run():
    scenario = small(steps=12, events=[{"step": 5, "kind": "set",
                                        "path": "rules.market.offset_cap", "value": 0.05}])
    model = VCMModel(scenario, rng=2)
    model.run(5)
    assert model.market.config.rules.market.offset_cap == 1.0
    model.run(1)
    assert model.market.config.rules.market.offset_cap == 0.05


def test_a_triggered_event_acts_at_the_next_step_like_a_scheduled_one(small_scenario):
    triggered = VCMModel(small_scenario, rng=5).run(3)
    before = triggered.market.sentiment.level.copy()
    triggered.trigger("scandal", project_type="redd_plus", severity=0.5)
    assert np.array_equal(triggered.market.sentiment.level, before), (
        "nothing happens before the next step")
    triggered.run(6)
    scheduled = small(events=[{"step": 3, "kind": "scandal", "project_type": "redd_plus",
                               "severity": 0.5}])
    planned = VCMModel(scheduled, rng=5).run(9)
    pd.testing.assert_frame_equal(triggered.results(), planned.results())
    k = triggered.market.types.names.index("redd_plus")
    assert triggered.market.sentiment.level[k] < 0.7


def test_a_triggered_wildfire_season_lasts_twelve_months(small_scenario):
    model = VCMModel(small_scenario, rng=5).run(2)
    model.trigger("wildfire", severity=1.0)
    active = []
    for _ in range(14):
        model.step()
        active.append(bool((model.market.fire_season > 1).any()))
    assert active == [True] * 12 + [False] * 2


def test_unknown_trigger_is_refused(small_scenario):
    model = VCMModel(small_scenario, rng=5)
    with pytest.raises(ValueError, match="'meteor'"):
        model.trigger("meteor")
    with pytest.raises(ValueError, match="set_rule"):
        model.trigger("set")


def test_summary_before_running_is_an_error(small_scenario):
    with pytest.raises(ValueError, match="run the model"):
        VCMModel(small_scenario, rng=1).summary()


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_runs_with_invariants_checked_every_step(name):
    model = VCMModel(small(name, steps=48), rng=11).run()
    summary = model.summary()
    for market in model.markets:
        market.registry.check()
        suffix = f"_{market.name}" if market.name else ""
        ratio = summary[f"integrity_ratio{suffix}"]
        if market.config.population.developers:
            assert summary[f"issued_total{suffix}"] > 0
        else:  # a market that buys abroad only (corsia's airlines)
            assert summary[f"issued_total{suffix}"] == 0 < summary[f"retired_total{suffix}"]
        assert math.isnan(ratio) or 0 <= ratio <= 1


def test_presets_cite_calibration_rows():
    from vcm_sim.scenario import preset_path

    for name in preset_names():
        text = preset_path(name).read_text()
        assert "[seed:" in text or "[ext:" in text, name


def test_traders_hold_and_trade_credits_when_present():
    scenario = small(steps=48, population={"traders": 20})
    model = VCMModel(scenario, rng=9).run()
    journal = model.market.registry.journal_frame()
    trader_moves = journal["from"].fillna("").str.startswith("trader-") | \
        journal["to"].fillna("").str.startswith("trader-")
    assert trader_moves.any()


def test_consecutive_matches_between_one_buyer_and_one_seller_are_one_delivery():
    """...unless the buyer retires some and keeps others (a firm buying ahead)."""
    from vcm_sim.trading import run_starts

    buyer, seller = np.array([1, 1, 2, 1, 1, 1]), np.array([5, 5, 5, 5, 6, 6])
    firm = np.array([0, 0, 1, 0, 0, -1])
    assert run_starts(buyer, seller, np.zeros(6)).tolist() == [0, 2, 3, 4]
    assert run_starts(buyer, seller, firm).tolist() == [0, 2, 3, 4, 5]
    assert run_starts(buyer[:0], seller[:0], firm[:0]).tolist() == []


def test_the_sellers_stock_is_what_they_could_sell_to_a_claimant_now():
    from vcm_sim.trading import Stock, vintage_filter

    model = VCMModel(load_scenario("baseline", population={"traders": 5},
                                   rules={"integrity": {"max_vintage_age_years": 2}}), rng=1)
    model.run(30)
    market = model.market
    stock = Stock.of(market)
    eligible = vintage_filter(market)
    assert stock.developers.tolist() == market.registry.balances(market.developer_accounts,
                                                                eligible).tolist()
    assert stock.traders.tolist() == market.registry.balances(market.trader_accounts,
                                                             eligible).tolist()
    everything = market.registry.balances(market.developer_accounts)
    assert (stock.developers <= everything).all() and (stock.developers < everything).any()


def test_double_auction_mechanism_runs():
    scenario = small(steps=24, rules={"market": {"mechanism": "double_auction"}})
    summary = VCMModel(scenario, rng=3).run().summary()
    assert summary["volume_total"] > 0


def test_seed_may_be_a_generator(small_scenario):
    a = VCMModel(small_scenario, rng=np.random.default_rng(3)).run(6).results()
    b = VCMModel(small_scenario, rng=np.random.default_rng(3)).run(6).results()
    pd.testing.assert_frame_equal(a, b)


def test_perfect_verification_with_an_exact_baseline_issues_only_real_tonnes():
    """Greenwashing can still come from abandoned projects whose carbon the buffer cannot
    cover (issue 12); what verification issues is real."""
    scenario = small(steps=36, rules={"integrity": {"verification_rigour": 1.0}},
                     verifiers={"baseline_error_sd": 0.0})
    model = VCMModel(scenario, rng=6).run()
    issued = slice(model.market.first_recorded_batch, None)
    assert len(model.market.truth.view("real_per_credit")[issued])
    assert (model.market.truth.view("real_per_credit")[issued] == 1.0).all()
    assert (model.results()["greenwashing_gap_tco2"] >= 0).all()


def test_no_rigour_knows_the_counterfactual_when_baselines_are_estimated_with_error():
    """Issue 12: a verifier estimates additionality with error, so full rigour still lets
    some non-additional tonnes through; the gap never turns negative."""
    scenario = small(steps=36, rules={"integrity": {"verification_rigour": 1.0}})
    results = VCMModel(scenario, rng=6).run().results()
    assert results["greenwashing_index"].dropna().iloc[-1] > 0.01
    assert (results["greenwashing_gap_tco2"] >= 0).all()


def test_cash_only_leaves_the_market_as_project_costs():
    """Trades, fees and fines move cash between accounts; only capex and opex leave, and
    only newcomers' equity comes in."""
    model = VCMModel(small(steps=48, population={"traders": 5}), rng=8)
    start = model.market.cash.total()
    model.run()
    spent_outside = model.market.tally.developer_cost_usd - model.market.tally.verification_fees_usd
    equity = model.market.tally.developer_entries * model.config.developers.initial_cash_usd
    assert model.market.cash.total() == pytest.approx(start - spent_outside + equity, rel=1e-9)
    assert model.market.tally.developer_cost_usd > model.market.tally.verification_fees_usd > 0


def test_running_costs_are_paid_every_month_even_without_investment():
    scenario = small(steps=12, developers={"invest_rate_yr": 0.0})
    model = VCMModel(scenario, rng=3)
    for _ in range(12):
        before = model.market.tally.developer_cost_usd - model.market.tally.verification_fees_usd
        model.step()
        tally = model.market.tally
        paid = tally.developer_cost_usd - tally.verification_fees_usd - before
        assert paid == pytest.approx(model.market._running_costs().sum())
        assert paid > 0


def test_uncovered_reversals_are_written_off_exactly_once():
    """The recorded months' shortfall is what their reversals wrote off; the seeded past and
    burn-in wrote off their own before recording started."""
    scenario = small("wildfire", steps=60, rules={"integrity": {"buffer_share": 0.0}})
    model = VCMModel(scenario, rng=4)

    def written_off() -> float:
        truth = model.market.truth
        return float(truth.view("quantity") @ (1.0 - truth.view("survival")))
    before = written_off()
    model.run()
    assert model.market.tally.buffer_shortfall_tco2 > 0
    shortfall = model.market.tally.buffer_shortfall_tco2
    assert written_off() - before == pytest.approx(shortfall, rel=1e-9)


def test_the_capital_charge_spreads_the_capex_of_older_projects_over_the_months_they_run():
    """Projects built before recording (seeded, burn-in) cost capital no recorded cash flow
    shows: each month one of them runs, its developer is charged a twelfth of the annuity
    that repays its capex over its crediting period."""
    from vcm_sim.metrics import capital_charge_usd, developer_profits_usd

    model = VCMModel(small(steps=24), rng=5)
    p, types = model.market.projects, model.market.types
    r = model.config.developers.discount_rate
    years = types.crediting_years[p.kind]
    yearly = types.capex_per_ha[p.kind] * p.area_ha * r / (1 - (1 + r) ** -years)
    old = p.registered_step < 0
    expected = 0.0
    for _ in range(24):
        model.step()
        running = model.market.projects.active(model.month_index)[:len(old)] & old
        expected += float(yearly[running].sum()) / 12
    assert capital_charge_usd(model.market).sum() == pytest.approx(expected, rel=1e-9)
    cash = developer_profits_usd(model.market)
    charged = developer_profits_usd(model.market, charge_capital=True)
    assert (charged <= cash).all() and (charged < cash).any()


def test_a_firm_bids_its_demand_curve_so_it_buys_more_when_credits_are_cheaper():
    """Issue 12 (referee): a firm's bids step down its demand curve, so the credits it wants
    at a price are the sum of its bids at or above that price, and they rise as the price
    falls; the steps are what its plan wants at each price."""
    model = VCMModel(small(steps=1), rng=2)
    firms, params = model.market.firms, model.config.firms
    firm = (firms.pledge != 0).nonzero()[0][:20]
    kind = firms.favourite_kind[firm]
    level = model.market.sentiment.level
    worth = firms.wtp[firm] * (level * firms.type_value)[kind]
    prices, quantity = firms.demand_curve(params, firm, kind, worth, level, 1.0)
    assert prices.shape == quantity.shape == (len(firm), params.bid_steps)
    wanted = np.cumsum(quantity[:, ::-1], axis=1)[:, ::-1]  # credits bid at >= each price
    assert (np.diff(wanted, axis=1) <= 0).all() and wanted[:, 0].sum() > wanted[:, -1].sum()
    for j in range(params.bid_steps):
        target, share = firms.plan_at(params, firm, kind, prices[:, j], level,
                                      1.0)
        assert (wanted[:, j] >= np.floor(share * target)).all()
