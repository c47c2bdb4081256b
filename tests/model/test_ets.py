"""A compliance ETS beside the credit market (the ccer_ets preset): allowances conserved,
offsets within the cap, penalties and make-good on shortfalls, and the offset cap's effect on
offset use and on the allowance price."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.model.conftest import small
from vcm_sim.ets.allowances import AllowanceBook, AllowanceError
from vcm_sim.model import VCMModel
from vcm_sim.scenario import ScenarioError, load_scenario, with_overrides


def ets(steps: int = 36, burn_in: int = 0, **settings_):
    """The ccer_ets preset, small, every registry and the allowance book checked monthly."""
    return small("ccer_ets", steps=steps, burn_in=burn_in,
                 ets={"covered_firms": 40, **settings_})


def surrendered(model: VCMModel) -> dict[str, int]:
    """Credits retired behind compliance claims, by claim (``ets:<account>/<year>``)."""
    journal = model.markets[0].registry.journal_frame()
    claims = journal[journal["claim"].fillna("").str.startswith("ets:")]
    return claims.groupby("claim")["quantity"].sum().to_dict()


def test_ccer_ets_runs_clean_and_reports_both_prices_in_yuan():
    model = VCMModel(ets(steps=48, burn_in=12, allocation_share=0.9), rng=3).run()  # debug
    results = model.results()
    assert {"allowance_price_cny", "ccer_price_cny", "offset_share", "allowances_banked",
            "compliance_shortfall_tco2"} <= set(results.columns)
    assert results["allowance_volume"].sum() > 0
    assert results["offsets_surrendered"].iloc[-1] > 0
    assert surrendered(model)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), cap=st.sampled_from([0.0, 0.05, 0.3]),
       allocation=st.sampled_from([0.8, 0.97, 1.1]), auction=st.sampled_from([0.0, 0.5]))
def test_offsets_are_bought_held_or_surrendered(seed, cap, allocation, auction):
    """Whatever the cap, allocation and auction: allowances are conserved every month (the
    debug check), and every credit covered firms bought is held or surrendered."""
    model = VCMModel(ets(offset_cap=cap, allocation_share=allocation, auction_share=auction,
                         auction_reserve=10.0), rng=seed).run()
    market = model.markets[0]
    system = market.ets
    system.check()
    held = int(market.registry.held(system.ids).sum())
    assert system.tally.offsets_bought == held + system.tally.offsets_surrendered
    if cap == 0.0:
        assert system.tally.offsets_bought == 0 and not surrendered(model)


def test_a_shortfall_is_fined_and_owed_from_the_next_allocation():
    """Half the emissions allocated, no auction and no offsets: firms cannot all cover
    themselves, pay the penalty to the regulator and get less the next year."""
    model = VCMModel(ets(steps=13, allocation_share=0.5, offset_cap=0.0, penalty=500.0),
                     rng=1).run()
    market = model.markets[0]
    system = market.ets
    short = model.results()["compliance_shortfall_tco2"].iloc[-1]
    assert short > 0
    assert system.tally.penalties_usd == pytest.approx(short * 500.0 / system.params.per_usd)
    assert system.firms.owed.sum() == 0  # made good out of January's allocation
    p = system.params
    bau = system.firms.bau_t_yr  # the second year's; the first was this over the growth
    allocated = (np.floor(p.allocation_share * bau / (1 + p.emissions_growth_yr)).sum()
                 + np.floor((p.allocation_share - p.allocation_decline_yr) * bau).sum())
    assert system.book.issued == pytest.approx(allocated - short, abs=len(bau))


def test_a_higher_offset_cap_raises_offset_use_and_lowers_the_allowance_price():
    """China's national ETS cap (5%) against 10% from July 2021, compared over 2025-2030
    (after the relaunched CCERs' first issuance), four paired seeds (common random numbers):
    in every pair more credits are surrendered and the allowance price is lower. The sign
    is the identity that a credit within the cap replaces an allowance, as long as credits
    are there to buy; the test guards the mechanism (offsets bought reach the deadline and
    the allowance market counts them), the experiment ets_offset_cap measures the size."""
    for seed in range(1, 5):
        pair = []
        for cap in (0.05, 0.10):
            scenario = with_overrides(load_scenario("ccer_ets"), {"events.1.value": cap})
            late = VCMModel(scenario, rng=seed).run().results().query("year >= 2025")
            pair.append((late["allowance_quote_cny"].mean(),
                         late["offsets_surrendered"].iloc[-1]
                         - late["offsets_surrendered"].iloc[0]))
        (price_5, used_5), (price_10, used_10) = pair
        assert used_10 > used_5 and price_10 < price_5


def test_markets_with_and_without_an_ets_name_their_own_columns():
    scenario = load_scenario("linked", linking={"mode": "none"}, steps=12, burn_in=0,
                             markets=[{"name": "cn", "settings": {"ets.enabled": True}},
                                      {"name": "row"}])
    model = VCMModel(scenario, rng=1).run()
    columns = set(model.results().columns)
    assert {"allowance_quote_usd_cn", "offsets_surrendered_cn", "price_usd_row"} <= columns
    assert not any(c.endswith("_row") and "allowance" in c for c in columns)
    assert "mean_allowance_quote_usd_cn" in model.summary()


def test_allowance_book_refuses_overdrafts_and_leaves_nothing_changed():
    book = AllowanceBook(2)
    book.issue(np.array([0, 1]), np.array([5, 3]))
    with pytest.raises(AllowanceError, match="holds 3"):
        book.transfer(np.array([1, 1]), np.array([0, 0]), np.array([2, 2]))
    assert book.held.tolist() == [5, 3, 0]
    with pytest.raises(AllowanceError):
        book.surrender(np.array([0]), np.array([6]))
    with pytest.raises(AllowanceError, match="integers"):
        book.issue(np.array([0]), np.array([1.5]))
    book.transfer(np.array([0]), np.array([2]), np.array([4]))
    book.surrender(np.array([1]), np.array([3]))
    book.check()
    assert (book.issued, book.surrendered, book.held.tolist()) == (8, 3, [1, 0, 4])


@pytest.mark.parametrize("overrides, message", [
    ({"ets.offset_types": ["mangrove"]}, "offset_types"),
    ({"ets.currency": "yuan"}, "ISO code"),
    ({"ets.per_usd": 7.0, "ets.currency": "USD"}, "per_usd must be 1"),
])
def test_bad_ets_settings_are_refused_with_the_field_named(overrides, message):
    with pytest.raises(ScenarioError, match=message):
        with_overrides(load_scenario("ccer_ets"), overrides)


def test_an_ets_in_linked_markets_is_refused():
    with pytest.raises(ScenarioError, match="linked markets with an ETS"):
        load_scenario("linked", markets=[{"name": "a", "settings": {"ets.enabled": True}},
                                         {"name": "b"}])


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), cap=st.sampled_from([0.02, 0.05, 0.3]),
       deadline=st.sampled_from([3, 12]))
def test_each_firm_surrenders_credits_within_its_own_cap(seed, cap, deadline):
    """At every deadline each firm's credits retired behind its compliance claim (in the
    registry's journal) are what it surrendered, and at most the cap's share of its own
    obligation; allowances and credits cover the obligation but for the shortfall."""
    model = VCMModel(ets(steps=30, offset_cap=cap, deadline_month=deadline), rng=seed)
    market = model.markets[0]
    system = market.ets
    checked = 0
    for _ in range(30):
        model.step()
        if (market.month_index % 12) + 1 != deadline:
            continue
        last = system.last_deadline
        assert (last.offsets <= np.floor(cap * last.obligation)).all()
        assert (last.offsets + last.allowances + last.shortfall == last.obligation).all()
        claims = surrendered(model)
        for i, account in enumerate(system.accounts):
            assert claims.get(f"ets:{account}/{market.year}", 0) == last.offsets[i]
        checked += 1
    assert checked >= 2


def test_a_run_that_starts_within_a_compliance_year_is_allocated_its_part():
    """With the compliance year ending in June and the run starting in January, the first
    deadline comes after six months: firms got half a year's allowances, and a generous
    cap leaves nobody short."""
    model = VCMModel(ets(steps=6, deadline_month=6, allocation_share=1.2, offset_cap=0.0),
                     rng=4).run()
    system = model.markets[0].ets
    assert system.last_deadline is not None
    assert system.tally.shortfall_tco2 == 0
    first = system.params.allocation_share * system.firms.bau_t_yr / 2
    assert system.book.issued == pytest.approx(np.floor(first).sum(), abs=len(first))


def test_covered_firms_pay_only_fines_when_they_can_neither_trade_nor_offset():
    """No auction, no offsets, half the emissions allocated: allowances change hands
    between covered firms (their payments cancel out), so the firms together are down by
    exactly the fines the regulator collected."""
    model = VCMModel(ets(steps=13, allocation_share=0.5, offset_cap=0.0), rng=2).run()
    market = model.markets[0]
    system = market.ets
    assert system.tally.penalties_usd > 0
    assert market.cash.balance[system.ids].sum() == pytest.approx(-system.tally.penalties_usd)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), left=st.integers(0, 11),
       cap=st.floats(0.0, 0.5), held_scale=st.floats(0.0, 2.0),
       credit_price=st.floats(0.1, 1000.0), obtainable=st.floats(0.0, 1.0))
def test_allowance_curves_are_monotone_and_a_firm_never_trades_with_itself(
        seed, left, cap, held_scale, credit_price, obtainable):
    """Whatever a firm's state and the credits it expects: what it lacks falls as the price
    rises (up to a tonne of rounding a step); its bids sum to what it lacks at the lowest
    price and its asks to what it spares at the highest, at most what it holds; none of its
    bids is at or above one of its own asks."""
    from vcm_sim.ets.covered import CoveredFirms, curves
    from vcm_sim.ets.settings import Ets

    rng = np.random.default_rng(seed)
    firms = CoveredFirms.create(rng, Ets(covered_firms=30))
    firms.emitted[:] = firms.bau_t_yr * rng.random(30) * (11 - left) / 12
    held = np.floor(firms.bau_t_yr * held_scale * rng.random(30)).astype(np.int64)
    offsets = np.floor(firms.bau_t_yr * cap * rng.random(30))
    grid = 500.0 * np.geomspace(1e-3, 1.0, 40)
    needs = firms.needs(grid, left, held, offsets, cap, np.floor(0.9 * firms.bau_t_yr), 0.02,
                        credit_price, obtainable)
    assert (np.diff(needs, axis=1) <= 2.0).all()
    (bid_firm, bid_price, bid_qty), (ask_firm, ask_price, ask_qty) = curves(needs, grid, held)
    wanted = np.bincount(bid_firm, weights=bid_qty, minlength=30)
    spared = np.bincount(ask_firm, weights=ask_qty, minlength=30)
    assert np.allclose(wanted, np.floor(np.maximum(needs[:, 0], 0)), atol=2 * len(grid))
    assert np.allclose(spared, np.minimum(np.maximum(-needs[:, -1], 0), held),
                       atol=2 * len(grid))
    for firm in set(bid_firm.tolist()) & set(ask_firm.tolist()):
        assert bid_price[bid_firm == firm].max() < ask_price[ask_firm == firm].min()


def test_compliance_surrenders_are_left_out_of_the_voluntary_integrity_metrics():
    """With a burn-in and an ETS, the retirements behind the market's integrity metrics are
    the registry journal's recorded retirements less those behind ``ets:`` claims, and the
    ETS's own metrics count exactly those."""
    model = VCMModel(ets(steps=30, burn_in=14), rng=6).run()
    market = model.markets[0]
    journal = market.registry.journal_frame()
    recorded = journal[(journal["kind"] == "retire") & (journal["step"] >= 0)]
    compliance = recorded["claim"].fillna("").str.startswith("ets:")
    real = market.truth.real_now()

    def tonnes(rows):
        return int(rows["quantity"].sum()), float((rows["quantity"]
                                                   * real[rows["batch"].to_numpy()]).sum())
    assert compliance.any() and (~compliance).any()
    assert market.retired_real() == pytest.approx(tonnes(recorded[~compliance]))
    results = model.results()
    credits, excused_real = tonnes(recorded[compliance])
    assert results["offsets_surrendered"].iloc[-1] == credits
    assert results["unreduced_tco2"].iloc[-1] == pytest.approx(credits - excused_real)
    assert results["integrity_ratio"].iloc[-1] == pytest.approx(
        market.retired_real()[1] / market.retired_real()[0])
