"""Where the market for lemons can come from: developers who plan to over-claim count the
extra credits they expect to keep when they appraise a project, a project's costs may follow
its additionality (``projects.opportunity_cost_share``), which its developer knows when it
appraises it, and buyers can lose (or gain) sight of quality mid-run (a 'set' event on
``rules.market.quality_books``)."""

import numpy as np
import pytest

from tests.model.conftest import small
from vcm_sim.agents.developer import lasting_share, project_npv, running_revenue_short
from vcm_sim.model import VCMModel
from vcm_sim.projects import (STEPS_PER_YEAR, opportunity_cost_factor,
                              registered_mean_additionality)
from vcm_sim.scenario import ScenarioError

BOOKS = {"population": {"raters": 3}, "rules": {"market": {"quality_books": True}},
         "rating_agencies": {"coverage": 0.8}}


def market_of(**overrides):
    return VCMModel(small(steps=1, **overrides), rng=1).market


def test_a_gain_that_lasts_counts_in_full_and_one_that_fades_counts_its_discounted_share():
    years = np.array([30, 30, 30, 1])
    share = lasting_share(np.array([1.0, 0.0, 0.7, 0.3]), 0.08, years)
    assert share[0] == pytest.approx(1.0) and share[3] == pytest.approx(1.0)
    flat = sum(1.08 ** -t for t in range(30))
    assert share[1] == pytest.approx(1.0 / flat)
    assert share[2] == pytest.approx(sum((0.7 / 1.08) ** t for t in range(30)) / flat)
    assert lasting_share(np.array([0.5]), 0.0, np.array([4]))[0] == pytest.approx(1.875 / 4)


def test_a_developer_that_would_not_inflate_plans_one_credit_per_tonne_and_one_that_would_more():
    market = market_of()
    devs, params = market.developers, market.config.developers
    devs.honesty[:2] = [1.0, 0.0]
    who, one_year, life = np.array([0, 1]), np.array([1]), np.array([30])
    honest = params.model_copy(update={"conscience_cost": 100.0})
    assert devs.planned_yield(who[:1], 0.1, 0.0, 1.0, honest, life)[0] == 1.0
    x = devs.choose_methods(who[1:], 0.1, 0.0, 1.0, params)[0]
    first_year = devs.planned_yield(who[1:], 0.1, 0.0, 1.0, params, one_year)[0]
    caught = 1.0 - 0.9 ** (1.0 + params.method_scrutiny * x)
    assert x > 0 and first_year == pytest.approx(1.0 + x * (1.0 - caught))
    over_life = devs.planned_yield(who[1:], 0.1, 0.0, 1.0, params, life)[0]
    assert 1.0 < over_life < first_year  # each catch halves the inflation, so the gain fades
    lasting = params.model_copy(update={"inflation_kept_after_detection": 1.0})
    assert devs.planned_yield(who[1:], 0.1, 0.0, 1.0, lasting, life)[0] == pytest.approx(
        first_year)


def median_break_even(market, kind: int) -> float:
    """The price (USD per verifiable tonne) at which a median project of ``kind`` just pays."""
    types, terms = market.types, market._new_project_terms()[1]
    fee, area, low, high = market.config.verifiers.fee_usd, types.area[kind:kind + 1], 0.0, 1e4
    for _ in range(60):
        mid = (low + high) / 2
        npv = project_npv(types, terms, np.array([kind]), area, np.array([mid]), fee)[0]
        low, high = (mid, high) if npv < 0 else (low, mid)
    return high


def investing(share: float = 0.0, conscience: float = 2.0, seed: int = 1):
    """A market whose developers all appraise a median-sized project of type 0 this month,
    with cash for any."""
    market = VCMModel(small(steps=1, developers={"conscience_cost": conscience},
                            projects={"opportunity_cost_share": share}), rng=seed).market
    devs = market.developers
    devs.specialty[:] = 0
    everyone = np.flatnonzero(devs.active)
    devs.candidates = lambda *_: (everyone, np.full(len(everyone), market.types.area[0]))
    market.cash.balance[market.developer_ids] = 1e12
    return market


def new_projects(market, price: float) -> np.ndarray:
    """Ids of the projects the market's developers register at ``price`` (every type)."""
    before = len(market.projects)
    market._invest(market.month_index, np.full(len(market.types.names), price))
    return np.arange(before, len(market.projects))


def test_a_developer_planning_to_over_claim_invests_where_an_honest_one_does_not():
    market = investing(conscience=100.0)  # honesty 1 never inflates, honesty 0 as it pays
    market.developers.honesty[:] = np.arange(len(market.developers)) % 2  # 0, 1, 0, 1, ...
    market._unrated_yield = ((), None, None, None)  # honesty is fixed in a run; not here
    new = new_projects(market, median_break_even(market, 0) / 1.03)
    owners = market.projects.developer[new]
    assert len(new) and (owners % 2 == 0).all()
    assert market.tally.projects_started == len(new)
    assert (market.projects.inflation[new] > 0).all()


def test_the_type_mean_cost_is_that_of_the_projects_the_additionality_test_lets_through():
    rng = np.random.default_rng(0)
    mean, k, threshold, strictness = 0.25, 6.0, 0.3, 0.9
    a = rng.beta(mean * k, (1 - mean) * k, 400_000)
    kept = a[~((a < threshold) & (rng.random(len(a)) < strictness))]
    expected = registered_mean_additionality(np.array([mean]), k, threshold, strictness)[0]
    assert expected == pytest.approx(kept.mean(), rel=0.01) and expected > 0.3
    assert registered_mean_additionality(np.array([mean]), k, threshold, 0.0)[0] == \
        pytest.approx(mean)
    factor = opportunity_cost_factor(0.6, kept, np.full(len(kept), expected))
    assert factor.mean() == pytest.approx(1.0, abs=0.005)
    assert (opportunity_cost_factor(0.0, kept, np.full(len(kept), expected)) == 1.0).all()


def test_with_opportunity_costs_a_projects_costs_follow_its_additionality():
    share = 0.7
    model = VCMModel(small(steps=24, projects={"opportunity_cost_share": share}), rng=3)
    market = model.run().market
    projects, types, s = market.projects, market.types, market.config
    mean = registered_mean_additionality(
        types.additionality.clip(1e-3, 1 - 1e-3), s.projects.additionality_concentration,
        s.rules.integrity.additionality_threshold, s.rules.integrity.additionality_strictness)
    assert projects.cost_factor == pytest.approx(
        1 - share + share * projects.additionality / mean[projects.kind])
    active = projects.active(market.month_index)
    opex = (types.opex_per_ha_yr[projects.kind] * projects.area_ha * projects.cost_factor
            / STEPS_PER_YEAR)
    expected = np.bincount(projects.developer[active], weights=opex[active],
                           minlength=len(market.developers))
    assert market._running_costs() == pytest.approx(expected)
    plain = VCMModel(small(steps=1), rng=3).market.projects
    assert (plain.cost_factor == 1.0).all()


def test_with_opportunity_costs_the_least_additional_projects_are_the_ones_that_pay():
    market = investing(share=1.0, conscience=100.0)  # honest developers: costs alone decide
    new = new_projects(market, median_break_even(market, 0) / 1.1)
    assert len(new)
    assert (market.projects.cost_factor[new] < 1 / 1.1).all()
    assert market.projects.additionality[new].max() < market.types.additionality[0]
    assert not len(new_projects(investing(share=0.0, conscience=100.0),
                                median_break_even(market, 0) / 1.1))


def test_with_opportunity_costs_the_more_additional_of_two_projects_is_abandoned_first():
    market = VCMModel(small(steps=1, projects={"opportunity_cost_share": 1.0}), rng=3).market
    projects, types = market.projects, market.types
    same = np.flatnonzero(projects.kind == projects.kind[0])[:2]
    projects.area_ha[same] = projects.area_ha[same[0]]
    projects.rate[same] = projects.rate[same[0]]
    projects.inflation[same] = 0.0
    projects.cost_factor[same] = [0.5, 1.5]  # the second stops more of the land use it replaces
    kind = projects.kind[same[0]]
    credits = (projects.area_ha[same[0]] * projects.rate[same[0]] * (1 - projects.leakage[same[0]])
               * (1 - types.buffer_share[kind]))
    opex = types.opex_per_ha_yr[kind] * projects.area_ha[same[0]]
    price = np.zeros(len(types.names))
    price[kind] = opex / credits  # pays the type's running cost, not the fee
    assert running_revenue_short(projects, types, same, price, 0.0).tolist() == [False, True]


def test_the_quality_of_new_supply_is_the_share_of_the_months_issuance_with_an_as_tonnes():
    model = VCMModel(small(steps=24), rng=5)
    market = model.market
    shares = []
    for _ in range(24):
        first = market.truth.size
        model.step()
        real = market.truth.view("real_per_credit")[first:]
        quantity = market.truth.view("quantity")[first:]
        kind = market.projects.kind[market.truth.view("project")[first:]]
        n = len(market.types.names)
        high = np.bincount(kind, weights=quantity * (real >= 0.7 - 1e-9), minlength=n)
        total = np.bincount(kind, weights=quantity, minlength=n)
        assert market.issued_quality.tolist() == [high.astype(int).tolist(),
                                                  total.astype(int).tolist()]
        shares.append(model.results()["issued_high_integrity_share"].iloc[-1])
    assert np.isfinite(shares).sum() > 6 and np.nanmax(shares) <= 1.0


def withdrawn(steps: int, at: int, **overrides):
    event = {"step": at, "kind": "set", "path": "rules.market.quality_books", "value": False}
    return small(steps=steps, events=[event], **{**BOOKS, **overrides})


def test_buyers_lose_sight_of_quality_when_an_event_merges_the_books():
    model = VCMModel(withdrawn(36, 18), rng=2)
    results = model.run().results()
    market = model.market
    n_types = len(market.types.names)
    assert market.segments.n == 1 and len(market.relative_price) == n_types
    assert len(market.latest_price_by_book) == n_types
    before, after = results.iloc[:18], results.iloc[19:]
    assert before["price_rating_a_or_above_usd"].notna().sum() > 6
    assert after[["price_rating_a_or_above_usd", "price_rating_below_a_usd",
                  "rating_premium"]].isna().all().all()
    assert (after["price_dispersion"].fillna(0.0) == 0.0).all()
    assert after["volume"].sum() > 0 and after["price_index_usd"].notna().all()


def test_buyers_gain_sight_of_quality_when_an_event_splits_the_books():
    event = {"step": 12, "kind": "set", "path": "rules.market.quality_books", "value": True}
    overrides = {**BOOKS, "rules": {"market": {"quality_books": False}}}
    model = VCMModel(small(steps=36, events=[event], **overrides), rng=2)
    results = model.run().results()
    assert model.market.segments.on
    assert results["price_rating_a_or_above_usd"].iloc[:12].isna().all()
    assert results["price_rating_a_or_above_usd"].iloc[13:].notna().sum() > 6


def test_a_withdrawal_changes_nothing_before_it_and_the_run_repeats():
    kept = VCMModel(small(steps=24, **BOOKS), rng=4).run().results()
    first = VCMModel(withdrawn(24, 12), rng=4).run().results()
    again = VCMModel(withdrawn(24, 12), rng=4).run().results()
    assert first.equals(again)
    assert first.iloc[:12].equals(kept.iloc[:12])
    assert not first.iloc[12:].equals(kept.iloc[12:])


def test_a_linked_market_refuses_quality_books_mid_run_and_keeps_its_books():
    model = VCMModel(small("linked", steps=1), rng=1)
    with pytest.raises(ScenarioError, match="quality books across a link"):
        model.set_rule("rules.market.quality_books", True)
    assert all(not m.segments.on for m in model.markets)
    assert all(not m.config.rules.market.quality_books for m in model.markets)
