"""Linked voluntary markets (mutual recognition): sales abroad, their settlement in the
registry that issued the credits and in both cash books, the rules of the buyer's market,
and what linking does to prices and to where low-integrity credits end up."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.model.conftest import small
from vcm_sim.linking import abroad_account
from vcm_sim.model import VCMModel
from vcm_sim.registry import check_linked
from vcm_sim.scenario import ScenarioError, load_scenario


def linked(steps: int = 36, mode: str = "mutual_recognition", **overrides):
    """The linked preset, small, with every registry checked every month."""
    return small("linked", steps=steps, linking={"mode": mode, "transfer_cost_usd": 0.25},
                 **overrides)


def test_linked_markets_run_clean_and_each_sale_abroad_is_a_purchase_abroad():
    model = VCMModel(linked(), rng=2).run()  # debug: registries and check_linked every month
    results = model.results()
    strict, lax = model.markets
    assert results["sold_abroad_strict"].iloc[-1] > 0 and results["sold_abroad_lax"].iloc[-1] > 0
    assert (results["sold_abroad_strict"] == results["bought_abroad_lax"]).all()
    assert (results["sold_abroad_lax"] == results["bought_abroad_strict"]).all()
    check_linked([strict.registry, lax.registry])
    assert {"price_usd_strict", "price_usd_lax", "bought_abroad_integrity_lax",
            "transfer_cost_usd_strict"} <= set(results.columns)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), cost=st.sampled_from([0.0, 0.25, 3.0]),
       cutoff=st.sampled_from([None, 2]),
       excluded=st.sampled_from([[], ["redd_plus"], ["arr", "soil_carbon"]]),
       access=st.sampled_from([1.0, 0.5, 0.0]), traders=st.sampled_from([0, 6]),
       arbitrage=st.sampled_from([0.0, 0.5, 1.0]))
def test_linked_runs_conserve_credits_and_cash_whatever_the_rules(seed, cost, cutoff, excluded,
                                                                   access, traders, arbitrage):
    """Random seeds, transfer costs, vintage cut-offs, eligible types, developers' access
    abroad and traders (speculators and arbitrageurs): every registry passes its checks every
    month and every credit is in exactly one registry (debug), each sale abroad is a purchase
    abroad, and the credits retired on a market's behalf abroad are what its buyers bought
    there."""
    eligible = [t for t in ("arr", "redd_plus", "ifm", "blue_carbon", "soil_carbon")
                if t not in excluded]
    model = VCMModel(small("linked", steps=12, linking={"transfer_cost_usd": cost,
                                                         "developer_access": access},
                           population={"traders": traders},
                           traders={"arbitrage_share": arbitrage if traders else 0.0}, markets=[
        {"name": "strict", "settings": {"rules.integrity.eligible_types": eligible,
                                        "rules.integrity.max_vintage_age_years": cutoff}},
        {"name": "lax", "settings": {}}]), rng=seed).run()
    results = model.results()
    assert (results["sold_abroad_strict"] == results["bought_abroad_lax"]).all()
    assert (results["sold_abroad_lax"] == results["bought_abroad_strict"]).all()
    for buyer, seller in (model.markets, model.markets[::-1]):
        journal = seller.registry.journal_frame()
        on_behalf = journal[(journal["kind"] == "retire") & (journal["step"] >= 0)
                            & (journal["from"] == abroad_account(buyer))]
        assert on_behalf["quantity"].sum() == results[f"bought_abroad_{buyer.name}"].iloc[-1]


def test_credits_sold_abroad_are_retired_where_they_were_issued_behind_the_buyers_claims():
    model = VCMModel(linked(steps=24), rng=4).run()
    strict, lax = model.markets
    journal = lax.registry.journal_frame()
    on_behalf = journal[(journal["kind"] == "retire") & (journal["from"] == abroad_account(strict))]
    assert len(on_behalf) and on_behalf["claim"].str.fullmatch(r"strict:firm-\d+/\d{4}").all()
    sold = on_behalf[on_behalf["step"] >= 0]["quantity"].sum()
    assert sold == model.results()["sold_abroad_lax"].iloc[-1]
    assert lax.registry.balances([abroad_account(strict)]).tolist() == [0]  # retired at once
    assert lax.registry.totals()["retired"] == lax.retired_by_type.sum()


def test_the_buyers_pay_what_the_sellers_receive_plus_the_transfer_cost():
    """Over one market phase of both markets, the only cash that leaves the two books is the
    transfer cost of the credits sold abroad."""
    model = VCMModel(linked(steps=12), rng=6).run()
    strict, lax = model.markets
    for market in model.markets:
        market.open_month()
    model.link.route()
    cash = strict.cash.total() + lax.cash.total()
    sold = strict.tally.sold_abroad_tco2 + lax.tally.sold_abroad_tco2
    for market in model.markets:
        market.trade_month()
    sold_now = strict.tally.sold_abroad_tco2 + lax.tally.sold_abroad_tco2 - sold
    assert sold_now > 0
    assert strict.cash.total() + lax.cash.total() == pytest.approx(cash - 0.25 * sold_now,
                                                                   rel=1e-12)


def test_buyers_abroad_get_only_credits_their_market_accepts():
    """The strict market accepts neither REDD+ credits nor vintages over three years old:
    none of those is retired on its buyers' behalf in the lax registry."""
    accepted = ["arr", "ifm", "blue_carbon", "soil_carbon"]
    model = VCMModel(linked(steps=36, markets=[
        {"name": "strict", "settings": {"rules.integrity.eligible_types": accepted,
                                        "rules.integrity.max_vintage_age_years": 3}},
        {"name": "lax", "settings": {}}]), rng=8).run()
    strict, lax = model.markets
    journal = lax.registry.journal_frame()
    bought = journal[(journal["kind"] == "retire") & (journal["from"] == abroad_account(strict))]
    assert len(bought)
    batch = bought["batch"].to_numpy()
    kinds = lax.projects.kind[lax.truth.project[batch]]
    assert not np.isin(kinds, [lax.types.names.index("redd_plus")]).any()
    vintage = np.array([lax.registry.batches[b].vintage for b in batch])
    year = strict.config.start_year + bought["step"].to_numpy() // 12
    assert (vintage >= year - 3).all()


def run(mode: str, seed: int):
    return VCMModel(linked(steps=72, mode=mode, debug=False), rng=seed).run().results()


def price_gap(results) -> float:
    """Mean absolute log gap between the two markets' prices after the first year."""
    late = results.iloc[12:]
    return float(np.nanmean(np.abs(np.log(late["price_usd_strict"] / late["price_usd_lax"]))))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_linking_narrows_the_price_gap_and_lowers_the_strict_buyers_integrity(seed):
    """Paired seeds: developers offer in both markets asking their best net expectation plus
    the transfer cost, so the two markets' prices move together; the strict market's
    buyers, who cannot tell where a credit was issued, then claim credits with fewer real
    tonnes behind them than when their market stood apart."""
    apart, together = run("none", seed), run("mutual_recognition", seed)
    assert price_gap(together) < price_gap(apart) / 2
    assert (together["claims_integrity_strict"].iloc[-1]
            < apart["claims_integrity_strict"].iloc[-1] - 0.1)


def test_linking_needs_two_markets_and_is_set_for_the_whole_run():
    with pytest.raises(ScenarioError, match="at least two"):
        load_scenario("baseline", linking={"mode": "mutual_recognition"})
    with pytest.raises(ScenarioError, match="linking.mode: the same for every market"):
        load_scenario("linked", markets=[{"name": "strict"}, {"name": "lax", "settings": {
            "linking.mode": "none"}}])
    with pytest.raises(ScenarioError, match="transfer_cost_usd"):
        load_scenario("linked", linking={"transfer_cost_usd": -1.0})
