"""Quality books (vcm_sim/segments.py, vcm_sim/valuation.py): books by rating grade and label,
buyers' worth of each segment, delivery from the segment traded, the premium per notch."""

from collections import deque
from types import SimpleNamespace

import numpy as np
import pytest

from tests.model.conftest import small
from vcm_sim.agents.firm import Demand
from vcm_sim.metrics import MIN_PREMIUM_OBSERVATIONS, rating_premium
from vcm_sim.model import VCMModel
from vcm_sim.registry import Registry, RegistryError
from vcm_sim.registry.journal import Kind
from vcm_sim.scenario import ScenarioError, load_scenario, with_overrides
from vcm_sim.segments import UNRATED_SEGMENT, Segments
from vcm_sim.valuation import choose_segments, grade_midpoints, segment_worth

BOOKS = {"rules.market.quality_books": True}


def rated(steps: int = 24, **overrides):
    """A small market with three agencies rating most projects and quality books on."""
    return small(steps=steps, population={"raters": 3}, rules={"market": {"quality_books": True}},
                 rating_agencies={"coverage": 0.8}, **overrides)


@pytest.mark.parametrize("path,value,names", [
    ("rules.market.quality_tiers", True, "rules.market.quality_books"),
    ("rules.disclosure.ratings", True, "population.raters"),
    ("ratings", {"error_sd": 0.1}, "rating_agencies"),
    ("firms.high_tier_premium", 1.5, "firms.exposure_cost"),
])
def test_a_replaced_key_fails_naming_its_replacement(path, value, names):
    with pytest.raises(ScenarioError, match=rf"'{path.rsplit('.', 1)[-1]}' was replaced.*{names}"):
        with_overrides(load_scenario("baseline"), {path: value})


def test_quality_books_are_refused_across_a_link():
    with pytest.raises(ScenarioError, match="quality_books with linking.mode"):
        with_overrides(load_scenario("linked"), BOOKS)


def test_beside_an_ets_covered_firms_buy_in_the_deepest_segment_and_credits_are_conserved():
    """Covered firms take any eligible credit: with quality books they bid in each type's
    segment with the most credits on offer, and what they buy they keep and surrender."""
    scenario = small("ccer_ets", steps=24, population={"raters": 3},
                     rules={"market": {"quality_books": True}})
    model = VCMModel(scenario, rng=1)
    results = model.run().results()  # debug: the registry's invariants after every step
    assert model.market.segments.on
    assert results["offsets_surrendered"].iloc[-1] > 0


def test_a_book_is_type_and_segment_and_decodes_back():
    on, off = Segments(True, 4 * (UNRATED_SEGMENT + 1), 5), Segments(False, 1)
    code = Segments.code
    segment = code(np.array([0, 2, 3, UNRATED_SEGMENT]), np.array([0, 1, 0, 0]),
                   np.array([0, 0, 1, 0]))  # AAA; A labelled; BBB older; unrated
    kind = np.array([0, 3, 4, 1])
    book = on.book(kind, segment)
    assert (on.kind(book) == kind).all() and (book % on.n == segment).all()
    assert on.grade(segment).tolist() == [0, 2, 3, UNRATED_SEGMENT]
    assert on.labelled(segment).tolist() == [False, True, False, False]
    assert on.older(segment).tolist() == [False, False, True, False]
    assert on.band(segment).tolist() == [0, 0, 1, 2]
    assert segment[-1] == on.plain and len(np.unique(code(*np.indices((9, 2, 2))))) == on.n
    assert (off.book(kind) == kind).all() and off.plain == 0


def test_held_and_weighed_by_counts_each_accounts_credits_per_key():
    registry = Registry(["dev", "buyer"])
    first = registry.issue("p1", 2024, 100, "dev")
    second = registry.issue("p2", 2024, 50, "dev")
    registry.issue("p3", 2024, 7, "buyer")
    key, age = np.array([2, 0, 2]), np.array([1.0, 3.0, 0.5])
    held, weighed = registry.held_and_weighed_by(registry.ids(["dev", "buyer"]), key, 3, age)
    assert held.tolist() == [[50, 0, 100], [0, 0, 7]]
    assert weighed.tolist() == [[150.0, 0.0, 100.0], [0.0, 0.0, 3.5]]
    only_first, _ = registry.held_and_weighed_by(registry.ids(["dev"]), key, 3, age,
                                                 lambda b: b == first)
    assert only_first.tolist() == [[0, 0, 100]] and second != first
    with pytest.raises(RegistryError, match="2 keys for 3 batches"):
        registry.held_and_weighed_by(registry.ids(["dev"]), key[:2], 3, age)


def test_grade_midpoints_fall_a_notch_at_a_time():
    mid = grade_midpoints(0.1)
    assert mid[:7] == pytest.approx([0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35])
    assert mid[7] == pytest.approx(0.15)  # D: 0 to 0.3


def test_quality_seekers_value_better_grades_more_and_unrated_credits_at_par():
    model = VCMModel(rated(steps=1), rng=1)
    market = model.market
    worth = segment_worth(market)
    plain = market.segments.plain
    assert worth[:, plain] == pytest.approx([1.0, 1.0])
    grades = worth[1, Segments.code(np.arange(UNRATED_SEGMENT))]  # unlabelled AAA ... D
    assert (np.diff(grades) < 0).all() and grades[0] > 1.0 > grades[-1]
    a_or_above = Segments.code(np.arange(3))
    assert (worth[0, a_or_above] <= worth[1, a_or_above] + 1e-12).all()  # seekers pay more
    assert (np.diff(worth[0, Segments.code(np.arange(UNRATED_SEGMENT))]) <= 0).all()


def test_without_exposure_cost_firms_indifferent_to_quality_value_every_credit_alike():
    model = VCMModel(rated(steps=1, firms={"exposure_cost": 0.0}), rng=1)
    assert segment_worth(model.market)[0] == pytest.approx(1.0)


def test_ratings_nobody_trusts_mean_nothing():
    """Buyers weigh a grade by the agencies' mean reputation: at 0, every credit is worth an
    unrated one with the same label."""
    market = VCMModel(rated(steps=1), rng=1).market
    market.raters.reputation[:] = 0.0
    worth = segment_worth(market)
    segment = np.arange(market.segments.n)
    plain = ~market.segments.labelled(segment)
    assert worth[:, plain] == pytest.approx(1.0)
    labelled = worth[:, Segments.code(UNRATED_SEGMENT, 1)]
    assert worth[:, ~plain] == pytest.approx(np.repeat(labelled[:, None], (~plain).sum(), 1))


def demand_of(market, firms: np.ndarray, kind: int) -> Demand:
    n = len(firms)
    return Demand(firm=firms, quantity=np.ones(n, dtype=np.int64), limit_usd=np.full(n, 10.0),
                  kind=np.full(n, kind), segment=np.zeros(n, dtype=np.int64),
                  target=np.ones(n), step_price=np.full((n, 2), 10.0),
                  step_quantity=np.ones((n, 2), dtype=np.int64),
                  step_ahead=np.zeros((n, 2), dtype=np.int64))


def chosen(market, firm: int, offered: np.ndarray, n: int = 4000,
           age: np.ndarray | None = None) -> np.ndarray:
    """Segments ``n`` rows of ``firm``'s demand for type 0 choose (seeded draws)."""
    demand = demand_of(market, np.full(n, firm), 0)
    choose_segments(market, demand, offered, np.zeros_like(offered) if age is None else age,
                    np.random.default_rng(7))
    return demand.segment


def test_buyers_go_where_the_credits_are_and_the_more_so_the_better_value_they_are():
    """Two segments on offer, AAA and BBB, at the type's price. Without preference
    (intensity 0) a firm picks each in proportion to the credits on offer; with it, a
    quality-seeker leans to AAA, whose worth per dollar is higher, by (worth ratio) to the
    power of the intensity; a firm that values every credit alike and ignores exposure
    risk still goes by the credits on offer."""
    market = VCMModel(rated(steps=1, firms={"exposure_cost": 0.0}), rng=1).market
    seeker, hunter = 0, 1
    market.firms.quality_seeking[[seeker, hunter]] = [True, False]
    segments = market.segments
    aaa, bbb = Segments.code(0), Segments.code(3)  # unlabelled, recent AAA and BBB
    market.relative_price[:] = 1.0
    offered = np.zeros((len(market.types.names), segments.n))
    offered[0, [aaa, bbb]] = [100, 300]
    worth = segment_worth(market)[1]
    intensity = market.config.firms.choice_intensity
    odds = (100 * (worth[aaa] / worth[aaa]) ** intensity) / (
        300 * (worth[bbb] / worth[aaa]) ** intensity)
    picks = chosen(market, seeker, offered)  # all on offer of the same age: no discount
    assert set(picks.tolist()) == {aaa, bbb}
    assert (picks == aaa).mean() == pytest.approx(odds / (1 + odds), abs=0.03)
    assert (chosen(market, hunter, offered) == aaa).mean() == pytest.approx(0.25, abs=0.03)
    demand = demand_of(market, np.array([seeker, hunter]), 0)
    choose_segments(market, demand, offered, np.zeros_like(offered), np.random.default_rng(1))
    factor = np.where(demand.segment == aaa, worth[aaa], worth[bbb]) * [1, 0] + [0, 1]
    assert demand.limit_usd == pytest.approx(10.0 * factor)
    nothing = demand_of(market, np.array([seeker]), 0)
    choose_segments(market, nothing, np.zeros_like(offered), np.zeros_like(offered),
                    np.random.default_rng(1))
    assert nothing.segment.tolist() == [segments.plain]


def test_a_segment_dear_against_its_worth_is_chosen_less():
    market = VCMModel(rated(steps=1), rng=1).market
    segments = market.segments
    offered = np.zeros((len(market.types.names), segments.n))
    aaa, bbb = Segments.code(0), Segments.code(3)
    offered[0, [aaa, bbb]] = 100
    market.relative_price[:] = 1.0
    cheap = (chosen(market, 0, offered) == aaa).mean()
    market.relative_price[aaa] = 3.0  # AAA of type 0 expected at three times the type's price
    assert (chosen(market, 0, offered) == aaa).mean() < cheap / 2


def test_buyers_discount_a_segment_whose_credits_on_offer_are_older():
    """Two segments of one grade, recent and older, equally deep: the older one is worth
    (1 - vintage_discount_yr) ** (age gap) of the younger, and a buyer leans to the recent
    one by that to the power choice_intensity, whatever its taste for quality."""
    from vcm_sim.valuation import vintage_factors

    market = VCMModel(rated(steps=1, firms={"exposure_cost": 0.0}), rng=1).market
    segments = market.segments
    recent, older = Segments.code(3), Segments.code(3, 0, 1)
    offered = np.zeros((len(market.types.names), segments.n))
    offered[0, [recent, older]] = 100
    age = np.zeros_like(offered)
    age[0, [recent, older]] = [2.0, 8.0]
    factor = vintage_factors(market, offered, age)[0]
    d = market.config.firms.vintage_discount_yr
    assert factor[[recent, older]] == pytest.approx([1.0, (1 - d) ** 6])
    assert (factor <= 1).all()
    market.relative_price[:] = 1.0
    odds = (factor[recent] / factor[older]) ** market.config.firms.choice_intensity
    picks = chosen(market, 1, offered, age=age)
    assert (picks == recent).mean() == pytest.approx(odds / (1 + odds), abs=0.03)


def test_a_books_relative_price_follows_its_trades_and_relaxes_without_them():
    """Traded: towards its price over its type's; untraded: towards 1, each by
    expectations.price_weight."""
    market = VCMModel(rated(steps=1), rng=1).market
    n, weight = market.segments.n, market.config.expectations.price_weight
    market.relative_price[:] = 1.0
    market.relative_price[1] = 2.0
    value, volume = np.zeros(len(market.relative_price)), np.zeros(len(market.relative_price))
    value[[0, 6]], volume[[0, 6]] = [150.0, 50.0], [10, 10]  # type 0: 10 at 15, 10 at 5
    type_value = np.bincount(np.arange(len(value)) // n, weights=value)
    type_volume = np.bincount(np.arange(len(value)) // n, weights=volume)
    market._update_segment_prices(value, volume, type_value, type_volume)
    assert market.relative_price[0] == pytest.approx(1 + weight * (1.5 - 1))
    assert market.relative_price[6] == pytest.approx(1 + weight * (0.5 - 1))
    assert market.relative_price[1] == pytest.approx(2 - weight * (2 - 1))


def test_each_trade_is_delivered_from_the_segment_it_cleared_in():
    """Firms retire what they buy at once (no traders here): the credits retired each month,
    by their batches' segment, are the month's volume per segment."""
    model = VCMModel(rated(steps=12), rng=3)
    market = model.market
    checked = 0
    for _ in range(12):
        model.step()
        segment = market.segments.of_batches(market)  # ratings move only when months open
        journal = market.registry.journal.arrays()
        now = (journal["step"] == market.registry.step) & (journal["kind"] == int(Kind.RETIRE))
        retired = np.bincount(segment[journal["batch"][now]], weights=journal["quantity"][now],
                              minlength=market.segments.n)
        volume = market.book_months[-1][1].reshape(-1, market.segments.n).sum(axis=0)
        assert retired.tolist() == volume.tolist()
        checked += int(volume.sum() > 0) * len(np.unique(segment[journal["batch"][now]]))
    assert checked > 12, "trades in several segments"


def test_a_rated_run_reports_band_prices_and_a_premium_and_an_unrated_run_does_not():
    results = VCMModel(rated(steps=36), rng=2).run().results()
    assert results["price_rating_a_or_above_usd"].notna().sum() > 12
    assert results["price_rating_below_a_usd"].notna().sum() > 12
    assert results["rating_premium"].notna().sum() > 12
    plain = VCMModel(small(steps=12), rng=2).run().results()
    columns = ["price_rating_a_or_above_usd", "price_rating_below_a_usd",
               "price_rating_unrated_usd", "price_labelled_usd", "rating_premium"]
    assert plain[columns].isna().all().all()


def premium_market(n_types: int = 2) -> SimpleNamespace:
    segments = Segments(True, 4 * (UNRATED_SEGMENT + 1), 5)
    return SimpleNamespace(segments=segments, book_months=deque(maxlen=12),
                           latest_price_by_book=np.zeros(n_types * segments.n))


def test_the_premium_per_notch_is_recovered_with_type_fixed_effects():
    """Prices 25% higher per notch, from type-specific levels: the regression finds 0.25
    whatever the levels and volumes."""
    market = premium_market()
    n, rng = market.segments.n, np.random.default_rng(0)
    for _ in range(6):
        value, volume = np.zeros(2 * n), np.zeros(2 * n, dtype=np.int64)
        for kind, level in ((0, 3.0), (1, 11.0)):
            for grade in rng.choice(8, 3, replace=False):
                book = kind * n + Segments.code(grade)
                volume[book] = rng.integers(1, 1000)
                value[book] = volume[book] * level * 1.25 ** (7 - grade)
        market.book_months.append((value, volume))
    assert rating_premium(market) == pytest.approx(0.25)


def test_the_premium_is_missing_with_too_few_trades_or_a_single_grade():
    market = premium_market()
    n = market.segments.n
    value, volume = np.zeros(2 * n), np.zeros(2 * n, dtype=np.int64)
    volume[[0, n]], value[[0, n]] = 10, [30.0, 110.0]  # AAA only, in both types
    for _ in range(MIN_PREMIUM_OBSERVATIONS):
        market.book_months.append((value, volume))
    assert np.isnan(rating_premium(market))
    short = premium_market()
    volume = volume.copy()
    volume[Segments.code(1)] = 10
    short.book_months.append((np.where(volume > 0, 5.0 * volume, 0.0), volume))
    assert np.isnan(rating_premium(short))  # 3 book-months


def test_a_replaced_key_in_a_scenario_file_fails_naming_its_replacement(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text('extends = "baseline"\n[rules.market]\nquality_tiers = true\n')
    with pytest.raises(ScenarioError, match="'quality_tiers' was replaced.*quality_books"):
        load_scenario(path)


def test_the_high_integrity_share_counts_claims_on_credits_with_an_as_real_tonnes():
    """Per month, per project type, the share of credits retired behind claims whose
    batches carry at least the real tonnes of grade A (0.7 with notches of 0.1), from the
    hidden truth, averaged over the types retired with their fixed shares of credits."""
    from vcm_sim.jurisdiction import high_integrity_floor

    assert high_integrity_floor(0.1) == pytest.approx(0.7)
    model = VCMModel(small(steps=24), rng=4)
    market = model.market
    shares = []
    for _ in range(24):
        model.step()
        journal = market.registry.journal.arrays()
        now = ((journal["step"] == market.registry.step) & (journal["kind"] == int(Kind.RETIRE))
               & (journal["claim"] >= 0))
        batch, credits = journal["batch"][now], journal["quantity"][now]
        if credits.sum():
            real = market.truth.real_now(batch)
            kind = market.projects.kind[market.truth.project[batch]]
            types = np.unique(kind)
            share = [credits[(kind == k) & (real >= 0.7)].sum() / credits[kind == k].sum()
                     for k in types]
            weight = market.types.credit_mix[types]
            shares.append((np.dot(weight, share) / weight.sum(),
                           model.results()["high_integrity_share"].iloc[-1]))
    assert len(shares) > 12
    assert [a for a, _ in shares] == pytest.approx([b for _, b in shares])


def test_price_dispersion_is_zero_in_one_book_per_type_and_positive_across_books():
    plain = VCMModel(small(steps=24), rng=2).run().results()
    traded = plain["volume"] > 0
    assert (plain.loc[traded, "price_dispersion"] == 0).all()
    books = VCMModel(rated(steps=36), rng=2).run().results()
    assert (books["price_dispersion"].dropna() >= 0).all()
    assert (books["price_dispersion"] > 0).sum() > 12


def test_the_summary_reports_quality_over_the_run():
    summary = VCMModel(rated(steps=36), rng=2).run().summary()
    assert 0 < summary["high_integrity_share"] < 1
    assert -1 < summary["high_integrity_change"] < 1
    assert np.isfinite(summary["rating_premium"]) and summary["price_dispersion"] > 0


def test_buyers_expect_the_labels_tonnes_behind_an_unrated_labelled_credit():
    """An unrated labelled credit is worth labelled_real_tonnes over unrated_real_tonnes of
    an unrated unlabelled one to a quality-seeker (exposure risk aside); a rated labelled
    credit mixes its grade with the label's prior as far as buyers distrust the agencies."""
    from vcm_sim.valuation import expected_tonnes

    market = VCMModel(rated(steps=1, firms={"exposure_cost": 0.0,
                                            "labelled_real_tonnes": 0.9}), rng=1).market
    worth = segment_worth(market)[1]
    assert worth[Segments.code(UNRATED_SEGMENT, 1)] == pytest.approx(0.9 / 0.6)
    market.raters.reputation[:] = 0.5
    tonnes = expected_tonnes(market)
    assert tonnes[Segments.code(0, 1)] == pytest.approx(0.5 * 0.95 + 0.5 * 0.9)  # AAA, labelled
    assert tonnes[Segments.code(0, 0)] == pytest.approx(0.5 * 0.95 + 0.5 * 0.6)


def test_a_batch_trades_with_the_older_vintages_once_its_age_passes_the_recent_years():
    scenario = with_overrides(rated(steps=30), {"rules.market.recent_vintage_years": 1})
    model = VCMModel(scenario, rng=2)
    model.run()
    market = model.market
    segment = market.segments.of_batches(market)
    age = market.year - market.truth.view("vintage")
    older = market.segments.older(segment[:market.truth.size])
    assert (older == (age > 1)).all() and older.any() and (~older).any()


def test_the_band_premium_is_measured_within_types():
    """A-or-above credits 80% dearer than below-A ones of the same type, at type levels
    far apart: the band premium is 0.8, whatever the types' mix in each band."""
    from vcm_sim.metrics import band_premium

    market = premium_market()
    n = market.segments.n
    for month in range(6):
        value, volume = np.zeros(2 * n), np.zeros(2 * n, dtype=np.int64)
        for kind, level, grades in ((0, 2.0, (1, 5, 6)), (1, 12.0, (0, 2, 4))):
            for grade in grades:
                book = kind * n + Segments.code(grade)
                volume[book] = 100 + 50 * month + 1000 * kind * (grade < 3)
                value[book] = volume[book] * level * (1.8 if grade <= 2 else 1.0)
        market.book_months.append((value, volume))
    assert band_premium(market) == pytest.approx(0.8)


def test_developers_inflate_less_where_inflated_credits_earn_a_worse_rating():
    """The same developers choose their baseline method with every method's credits at the
    type's price, and where each notch of inflation costs price: they inflate less."""
    market = VCMModel(rated(steps=1, developers={"honesty": 0.3}), rng=1).market
    devs, params = market.developers, market.config.developers
    who = np.arange(len(devs.specialty))
    pooled = devs.choose_methods(who, 0.2, 0.0, 1.0, params)
    flat = devs.choose_methods(who, 0.2, 0.0, 1.0, params,
                               np.ones((len(who), len(params.baseline_methods))))
    assert (pooled == flat).all() and pooled.mean() > 0
    x = np.asarray(params.baseline_methods)
    rated_down = np.tile(0.6 ** (x / 0.25), (len(who), 1))  # 40% lower price per 0.25
    assert devs.choose_methods(who, 0.2, 0.0, 1.0, params, rated_down).mean() < pooled.mean()


def test_method_prices_read_the_relative_price_of_the_grade_a_method_would_earn():
    from vcm_sim.valuation import method_prices

    scenario = with_overrides(rated(steps=1), {"rating_agencies.coverage": 1.0})
    market = VCMModel(scenario, rng=1).market
    segments = market.segments
    market.relative_price[:] = np.tile(np.arange(segments.n) + 1.0, len(market.types.names))
    kind, additionality = np.array([2, 2]), np.array([0.95, 0.5])  # IFM (not labelled)
    prices = method_prices(market, kind, additionality)
    x = np.asarray(market.config.developers.baseline_methods)
    grade = market.raters.grade(additionality[:, None] / (1 + x))
    assert prices == pytest.approx(Segments.code(grade) + 1.0)
    assert method_prices(VCMModel(small(steps=1), rng=1).market, kind, additionality) is None


def test_with_quality_books_the_price_index_chains_each_types_quality_adjusted_price():
    """Chained over dozens of thin books per type the index drifted away from prices; with
    quality books it chains each type's latest quality-adjusted price, weighted by the types'
    shares of credits."""
    model = VCMModel(rated(steps=36), rng=3)
    market = model.market
    weight = market.types.credit_mix
    checked = 0
    for _ in range(36):
        before, index = market.latest_adjusted_price.copy(), market.price_index
        model.step()
        after = market.latest_adjusted_price
        both = np.isfinite(before) & np.isfinite(after)
        if np.isnan(index) or not both.any():
            continue
        change = np.dot(weight[both], np.log(after[both] / before[both])) / weight[both].sum()
        assert np.log(market.price_index / index) == pytest.approx(change)
        checked += 1
    assert checked > 24


def test_trade_moving_to_dearer_books_leaves_the_quality_adjusted_price_where_it_was():
    market = VCMModel(rated(steps=1), rng=3).market
    a, b = int(Segments.code(0)), int(Segments.code(UNRATED_SEGMENT))  # type 0: AAA, unrated
    market.relative_price[:] = 1.0
    market.relative_price[b] = 0.5  # an unrated credit is expected at half an AAA's price
    value, volume = np.zeros(len(market.relative_price)), np.zeros(len(market.relative_price))

    def adjusted(at_a: int, at_b: int, price_a: float = 20.0) -> float:
        volume[[a, b]] = at_a, at_b
        value[[a, b]] = at_a * price_a, at_b * 10.0
        return float(market._quality_adjusted(value, volume)[0])

    assert adjusted(5, 5) == pytest.approx(20.0)
    assert adjusted(9, 1) == pytest.approx(20.0)  # the type's average price rose from 15 to 19
    assert adjusted(5, 5, price_a=22.0) > 20.0  # a book's own price moving does move it
    untraded = market._quality_adjusted(np.zeros_like(value), np.zeros_like(volume))
    assert untraded[1] == market.latest_adjusted_price[1]  # a type not traded keeps its last
