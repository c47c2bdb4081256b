"""Article 6 between linked markets: a host's authorisation, international transfers with
corresponding adjustments, buyers that require them (the corsia preset), and double claiming
of credits bought abroad without an adjustment."""

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.model.conftest import small
from vcm_sim.article6 import authorised, batch_filter
from vcm_sim.linking import abroad_account
from vcm_sim.metrics import adjusted_premium
from vcm_sim.model import VCMModel
from vcm_sim.scenario import ScenarioError, load_scenario, validate
from vcm_sim.trading import Stock, vintage_filter

SEEDS = (1, 2, 3)


def corsia(authorised_share: float | None = None, **overrides):
    """The corsia preset, with the host's authorised share set when given."""
    if authorised_share is not None:
        overrides["rules"] = {"article6": {"authorised_share": authorised_share}}
    return load_scenario("corsia", **overrides)


def journal_total(market, kind: str) -> int:
    journal = market.registry.journal_frame()
    return int(journal.loc[journal["kind"] == kind, "quantity"].sum())


def test_corsia_runs_clean_and_every_adjusted_credit_is_exported_imported_and_retired():
    """With debug on, every registry is checked every month and every credit is in exactly
    one registry; each adjusted credit the airlines bought is one export in the host's
    journal, one import in theirs, retired there, and one corresponding adjustment. The
    airlines' obligation starts in January 2024: nothing moves in the burn-in before it. The
    real tonnes behind their claims are the host's hidden truth, counted in their market's
    integrity ratio, and their vintages in its mean age of retired credits."""
    model = VCMModel(corsia(debug=True, steps=24), rng=1).run()
    host, aviation = model.markets
    results = model.results()
    bought = results["bought_adjusted_tco2_aviation"]
    assert bought.iloc[-1] > 0
    assert (results["adjusted_tco2_host"] == bought).all()
    exported, imported = journal_total(host, "export"), journal_total(aviation, "import")
    assert exported == imported == journal_total(aviation, "retire") == bought.iloc[-1]
    assert aviation.registry.totals()["issued"] == 0
    assert host.registry.totals()["exported"] == exported
    assert (results[["double_claimed_tco2_host", "double_claimed_tco2_aviation"]] == 0).all().all()
    last = results.iloc[-1]
    assert 0 < last["integrity_ratio_aviation"] < 1
    assert last["integrity_ratio_aviation"] == pytest.approx(last["claims_integrity_aviation"])
    assert last["retired_vintage_age_yr_aviation"] == pytest.approx(
        mean_age_of_claims(aviation, last_months=12))


def mean_age_of_claims(market, last_months: int) -> float:
    """Mean age (retirement year minus vintage) of the credits retired in ``market``'s
    registry in its last ``last_months`` recorded months, read from the journal."""
    journal = market.registry.journal_frame()
    retired = journal[(journal["kind"] == "retire")
                      & (journal["step"] > market.month_index - last_months)]
    year = market.config.start_year + retired["step"] // 12
    vintage = np.array([market.registry.batches[b].vintage for b in retired["batch"]])
    return float(np.average(year - vintage, weights=retired["quantity"]))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), share=st.sampled_from([0.02, 0.2, 0.6]),
       cost=st.sampled_from([0.0, 3.0]), cutoff=st.sampled_from([None, 1]))
def test_article6_runs_conserve_credits_whatever_the_rules(seed, share, cost, cutoff):
    """Random seeds, authorised shares, transfer costs and the airlines' vintage cut-off:
    every registry passes its checks every month and every credit is in exactly one
    registry (debug), and each adjusted credit bought is one export, one import, one
    retirement abroad and one corresponding adjustment."""
    data = corsia(share, steps=12, debug=True,
                  linking={"transfer_cost_usd": cost}).model_dump()
    data["markets"][1]["settings"]["rules.integrity.max_vintage_age_years"] = cutoff
    model = VCMModel(validate(data), rng=seed).run()
    host, aviation = model.markets
    bought = model.results()["bought_adjusted_tco2_aviation"].iloc[-1]
    assert journal_total(host, "export") == journal_total(aviation, "import") == bought
    assert journal_total(aviation, "retire") == bought == host.tally.adjusted_tco2


def authorised_entries(market, journal):
    """Whether each entry of ``market``'s ``journal`` moves authorised credits."""
    batch = journal["batch"].to_numpy()
    return ((batch >= market.first_run_batch)
            & market.projects.authorised[market.truth.project[batch]])


def test_only_authorised_credits_leave_with_an_adjustment_and_only_others_without():
    """Three markets: the corsia host and airlines, and a voluntary market recognising the
    host's credits. Every export is of authorised credits issued in the run (the seeded
    past's are not authorised); what the host's developers deliver to the airlines' account
    leaves as exports; what they sell to the voluntary buyers abroad, retired in the host's
    registry on their behalf, is never authorised; authorised credits also sell at home."""
    data = load_scenario("corsia", steps=36, debug=True).model_dump()
    data["markets"].append({"name": "voluntary", "settings": {"population.firms": 300,
                                                               "population.developers": 20}})
    model = VCMModel(validate(data), rng=2).run()
    host, aviation, voluntary = model.markets
    journal = host.registry.journal_frame()
    flagged = authorised_entries(host, journal)
    exports = (journal["kind"] == "export").to_numpy()
    assert exports.any() and flagged[exports].all()
    seeded = journal["batch"].to_numpy() < host.first_run_batch
    assert not flagged[seeded].any() and host.projects.authorised[host.truth.project[
        journal["batch"].to_numpy()[seeded]]].any()
    holder = (journal["from"] == abroad_account(aviation)).to_numpy()
    assert (journal.loc[holder, "kind"] == "export").all()
    delivered = journal.loc[journal["to"] == abroad_account(aviation), "quantity"].sum()
    assert delivered == journal.loc[holder, "quantity"].sum()
    abroad = (journal["from"] == abroad_account(voluntary)).to_numpy()
    assert abroad.any() and not flagged[abroad].any()
    at_home = (journal["kind"] == "retire").to_numpy() & journal["from"].str.startswith(
        "firm-").to_numpy()
    assert (at_home & flagged).any()


@pytest.mark.parametrize("seed", SEEDS)
def test_adjusted_credits_trade_at_a_premium_and_more_authorisation_sells_more_cheaper(seed):
    """Airlines take only adjusted credits and the host authorises few: they trade far above
    the host's other credits of the same types. Authorising more (common random numbers: the
    same seed) sells more adjusted credits, cheaper (the premium per type also depends on
    which types go abroad, so it is not compared)."""
    scarce = VCMModel(corsia(steps=60), rng=seed).run()
    ample = VCMModel(corsia(0.15, steps=60), rng=seed).run()
    assert scarce.summary()["adjusted_premium"] > 1.0
    assert ample.summary()["adjusted_premium"] > 0.0
    scarce_r, ample_r = scarce.results(), ample.results()
    assert (ample_r["bought_adjusted_tco2_aviation"].iloc[-1]
            > scarce_r["bought_adjusted_tco2_aviation"].iloc[-1])
    assert (ample_r["price_adjusted_usd_aviation"].mean()
            < scarce_r["price_adjusted_usd_aviation"].mean())


def test_offsetting_claims_on_unadjusted_credits_bought_abroad_are_double_claimed():
    offsetting = VCMModel(small("linked", steps=24), rng=3).run().results()
    for market in ("strict", "lax"):
        bought = offsetting[f"bought_abroad_{market}"].iloc[-1]
        assert bought > 0
        assert offsetting[f"double_claimed_tco2_{market}"].iloc[-1] == bought
    half = VCMModel(small("linked", steps=24, firms={"contribution_share": 0.5}),
                    rng=3).run().results()
    doubled = half["double_claimed_tco2_strict"].iloc[-1]
    assert 0 < doubled < half["bought_abroad_strict"].iloc[-1]
    contributing = VCMModel(small("linked", steps=24, firms={"contribution_share": 1.0}),
                            rng=3).run().results()
    assert contributing["bought_abroad_strict"].iloc[-1] > 0
    assert (contributing[["double_claimed_tco2_strict", "double_claimed_tco2_lax"]] == 0).all().all()


def test_article6_rules_changed_mid_run_are_checked_and_acted_on():
    """The link reads its markets' rules every month: airlines allowed unadjusted credits
    buy them from the host under mutual recognition, double claimed. A market with
    developers may not be made to require adjusted credits."""
    model = VCMModel(corsia(steps=24), rng=4)
    with pytest.raises(ScenarioError, match="population.developers = 0"):
        model.set_rule("rules.article6.adjusted_only", True, market="host")
    model.run(6)
    model.set_rule("rules.article6.adjusted_only", False, market="aviation")
    results = model.run(18).results()
    assert results["double_claimed_tco2_aviation"].iloc[5] == 0
    assert results["double_claimed_tco2_aviation"].iloc[-1] > 0


def test_the_host_authorises_its_share_of_any_run_of_projects():
    ids = np.arange(10_000)
    for share in (0.0, 0.035, 0.5, 1.0):
        flags = authorised(ids, share)
        assert abs(flags.sum() - share * len(ids)) <= 2
        assert abs(flags[1234:1334].sum() - share * 100) <= 2


def test_article6_settings_need_a_link_and_an_importer_without_developers():
    with pytest.raises(ScenarioError, match="authorised_share = 0.1 needs linked markets"):
        load_scenario("baseline", **{"rules": {"article6": {"authorised_share": 0.1}}})
    with pytest.raises(ScenarioError, match="adjusted_only needs linked markets"):
        load_scenario("baseline", **{"rules": {"article6": {"adjusted_only": True}},
                                     "population": {"developers": 0}})
    data = load_scenario("corsia").model_dump()
    data["markets"][1]["settings"]["population.developers"] = 5
    with pytest.raises(ScenarioError, match="market 'aviation'.*population.developers = 0"):
        validate(data)


def test_a_market_requiring_adjusted_credits_clears_every_type_in_one_book():
    """For an airline an eligible unit is an eligible unit: its bid meets asks of any type,
    so some airlines retire credits of a type other than the one they favour."""
    model = VCMModel(corsia(steps=24), rng=1).run()
    firms = model.markets[1].firms
    retired = firms.claim_kind >= 0
    assert retired.any()
    assert (firms.claim_kind[retired] != firms.favourite_kind[retired]).any()


def test_the_adjusted_premium_compares_each_type_with_itself():
    """Type by type, adjusted price over the others' price, weighted by adjusted volume:
    type 0 at 20 against 4 (five times) for 10 credits, type 1 at 12 against 3 (four times)
    for 30 credits: (10 x 5 + 30 x 4) / 40 - 1 = 3.25; a type only one side traded is left
    out."""
    dollars = SimpleNamespace(per_usd=1.0)
    host = SimpleNamespace(adjusted_by_type=np.zeros((2, 3)), config=dollars,
                           traded_by_type=np.array([[400.0, 300.0, 50.0], [100, 100, 10]]))
    adjusted = np.array([[200.0, 360.0, 0.0], [10, 30, 0]])
    airlines = SimpleNamespace(adjusted_by_type=adjusted, traded_by_type=adjusted,
                               config=dollars)
    assert adjusted_premium([host, airlines]) == pytest.approx(3.25)
    assert np.isnan(adjusted_premium([host]))
    in_euros = adjusted * np.array([[2.0], [1.0]])  # the airlines' market at 2 per USD
    airlines = SimpleNamespace(adjusted_by_type=in_euros, traded_by_type=in_euros,
                               config=SimpleNamespace(per_usd=2.0))
    assert adjusted_premium([host, airlines]) == pytest.approx(3.25)


def test_authorised_credits_too_old_for_the_airlines_are_offered_at_home():
    """Asks abroad plan with the airlines' price for every type they take, and authorised
    credits past the airlines' vintage cut-off are offered at home rather than nowhere."""
    model = VCMModel(corsia(steps=36), rng=1).run()
    host, aviation = model.markets
    assert np.isfinite(model.link.reservation_adjusted[0]).all()
    held = host.registry.held
    every = held(host.developer_ids, batch_filter(host, True))
    young = held(host.developer_ids, batch_filter(host, True, vintage_filter(aviation,
                                                                             host.registry)))
    assert (every - young).sum() > 0
    assert Stock.of(host).authorised.sum() >= (every - young).sum()
