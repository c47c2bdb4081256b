"""Rating agencies (vcm_sim/agents/rater.py): letter ratings of each project's real tonnes per
credit with each agency's own error and, when developers pay, its bias; revisions and a track
record when inflation is found; observers that leave the market as it was."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tests.model.conftest import small
from vcm_sim.agents.rater import GRADES, UNRATED, RaterPanel
from vcm_sim.model import VCMModel
from vcm_sim.scenario import RatingAgencies

RATER_COLUMNS = ["greenwashing_index_a_or_above", "greenwashing_index_below_a",
                 "greenwashing_index_unrated", "gap_flagged_share", "rated_share",
                 "rating_disagreement"]


def panel(error: list[list[float]], developer_paid: list[bool], **settings) -> RaterPanel:
    """Agencies that cover every project, with the given errors (agencies x projects)."""
    error = np.array(error, dtype=float)
    n, projects = error.shape
    return RaterPanel(error_sd=np.full(n, 0.1), developer_paid=np.array(developer_paid),
                      reputation=np.full(n, 0.5), params=RatingAgencies(**settings),
                      seen=projects, covers=np.ones((n, projects), dtype=bool), error=error)


def projects(additionality: list[float], inflation: list[float]) -> SimpleNamespace:
    return SimpleNamespace(additionality=np.array(additionality),
                           inflation=np.array(inflation))


def test_a_rating_is_the_estimate_of_real_tonnes_per_credit_on_the_scale():
    """Truths 0.95, 0.8 / 1.25 = 0.64, 0.5 and 0.25: AAA, BBB, BB (a notch includes its
    floor) and D for an agency without error; an agency the developers pay is biased a notch
    up (at most AAA); an error of -0.15 costs a notch and a half, to the worse notch."""
    found = projects([0.95, 0.8, 0.5, 0.25], [0.0, 0.25, 0.0, 0.0])
    grades = panel([[0.0] * 4, [0.0] * 4, [-0.15] * 4], [False, True, False]).grades(found)
    assert [[GRADES[g] for g in row] for row in grades] == [
        ["AAA", "BBB", "BB", "D"], ["AAA", "A", "BBB", "C"], ["AA", "B", "C", "D"]]
    assert [GRADES[g] for g in panel([[0.0] * 4], [False]).grades(
        projects([0.9, 0.7, 0.6, 0.3], [0.0] * 4))[0]] == ["AAA", "A", "BBB", "C"]


def test_agencies_cover_about_their_share_of_projects_and_disagree_by_their_errors():
    params = RatingAgencies(coverage=0.3, error_sd=0.2)
    raters = RaterPanel.create(np.random.default_rng(1), 3, params)
    raters.cover_new(np.random.default_rng(2), 4000)
    assert raters.covers.mean(axis=1) == pytest.approx([0.3] * 3, abs=0.03)
    assert raters.error.std(axis=1) == pytest.approx(raters.error_sd, rel=0.1)
    assert list(raters.developer_paid) == [True, True, False]  # round(1.5) is 2, half to even


def test_a_projects_rating_draws_do_not_depend_on_how_many_projects_there_are():
    """Draws are laid out one row per project: the first ten projects get the same coverage
    and errors whether ten or eleven projects are seen in the month."""
    params = RatingAgencies(coverage=0.5, error_sd=0.2)
    ten, eleven = (RaterPanel.create(np.random.default_rng(1), 3, params) for _ in range(2))
    ten.cover_new(np.random.default_rng(2), 10)
    eleven.cover_new(np.random.default_rng(2), 11)
    np.testing.assert_array_equal(eleven.covers[:, :10], ten.covers)
    np.testing.assert_array_equal(eleven.error[:, :10], ten.error)
    assert eleven.seen == 11 and eleven.covers.shape == (3, 11)


def test_found_inflation_scores_each_agency_against_the_revealed_truth():
    """Project 0 is found inflated: additionality 0.96 over 1.2, truth 0.8 (AA). The agency
    without error rated it AA, one with error +0.1 AAA (better than the truth: a miss,
    a tenth of the way to 0), one with -0.15 BBB (borne out, a tenth of the way to 1); every
    error on it halves; project 1 is untouched."""
    raters = panel([[0.0, 0.1], [0.1, 0.1], [-0.15, 0.1]], [False, False, False])
    raters.evidence(projects([0.96, 0.8], [0.2, 0.0]), np.array([0]))
    assert raters.reputation == pytest.approx([0.55, 0.45, 0.55])
    np.testing.assert_allclose(raters.error, [[0.0, 0.1], [0.05, 0.1], [-0.075, 0.1]])


def test_without_quality_books_agencies_move_the_market_only_through_watchdogs():
    """Without quality books, buyers do not read ratings: published ratings only help
    watchdogs see claims (exposure.ratings_visibility). With that visibility at 0, a run
    with agencies is the run without them, trade for trade; only the rating columns differ,
    which are missing without agencies."""
    unseen = {"ratings_visibility": 0.0}
    without = VCMModel(small(exposure=unseen), rng=5).run().results()
    rated = VCMModel(small(population={"raters": 3}, exposure=unseen), rng=5).run().results()
    assert without[RATER_COLUMNS].isna().all().all()
    pd.testing.assert_frame_equal(without.drop(columns=RATER_COLUMNS),
                                  rated.drop(columns=RATER_COLUMNS))
    assert rated["rated_share"].between(0, 1).all()


def test_published_ratings_make_claims_more_visible():
    from vcm_sim.claims import visibility

    scenario = small()
    rules, exposure = scenario.rules.disclosure, scenario.exposure
    assert visibility(rules, exposure, True) == pytest.approx(
        visibility(rules, exposure, False) + exposure.ratings_visibility)


def test_with_accurate_agencies_the_bands_sort_claims_by_their_real_tonnes():
    """Agencies without error or bias rate projects by their truth, so claims on projects
    rated A or above are less greenwashed than those below A, and nearly every agency
    covering a project agrees (a mechanical check of the pipeline, not a finding)."""
    scenario = small(steps=60, population={"raters": 3},
                     rating_agencies={"error_sd": 0.0, "developer_paid_share": 0.0,
                                      "coverage": 1.0})
    model = VCMModel(scenario, rng=5)
    last = model.run().results().iloc[-1]
    assert last["greenwashing_index_a_or_above"] < last["greenwashing_index_below_a"]
    assert np.isnan(last["greenwashing_index_unrated"]) and last["rated_share"] == 1.0
    assert last["rating_disagreement"] == 0.0
    assert 0.0 < last["gap_flagged_share"] <= 1.0
    assert list(model.markets[0].raters.reputation) == [1.0, 1.0, 1.0]  # never overrates


def test_an_agency_names_its_rating_of_a_project():
    model = VCMModel(small(population={"raters": 2}, rating_agencies={"coverage": 1.0}), rng=5)
    model.run()
    agency = model.markets[0].rater_agents.to_list()[1]
    assert agency.rating(0) in GRADES and 0.0 <= agency.reputation <= 1.0
    assert agency.developer_paid is False and agency.error_sd > 0  # round(0.5 * 2): the first
    assert repr(agency) == "RatingAgency(rater-1)"
    raters = model.markets[0].raters
    assert agency.rating(raters.seen) is None  # a project no agency has seen yet
    raters.covers[1, 0] = False
    assert agency.rating(0) is None and UNRATED == -1
