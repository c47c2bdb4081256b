"""A batch's vintage is the year its tonnes were captured, not the year they were issued: the
vintage cut-off and the age of retired credits read it."""

import numpy as np
import pytest

from vcm_sim import VCMModel
from vcm_sim.projects import STEPS_PER_YEAR, Projects

from .conftest import small

CUTOFF_YEARS = 2


def one_project(start: int, end: int = 30) -> Projects:
    projects = Projects()
    projects.add(area_ha=np.array([1200.0]), rate=np.array([1.0]),
                 start_step=np.array([start]), end_step=np.array([end]))
    return projects


@pytest.mark.parametrize(("start", "end", "months", "mean_month"), [
    (6, 30, 18, 11.5),   # months 6-17 accrued: half the tonnes in each of two years
    (0, 40, 36, 17.5),   # three years deferred: the middle year
    (0, 30, 40, 14.5),   # ended at month 30: months 0-29
])
def test_a_project_submits_the_tonne_weighted_mean_month_its_tonnes_were_captured(
        start, end, months, mean_month):
    projects = one_project(start, end)
    for month in range(months):
        projects.accrue(month)
    projects.submit(np.array([0]))
    assert projects.submitted_capture_month[0] == pytest.approx(mean_month)
    assert projects.vintage_month(np.array([0])).tolist() == [int(mean_month)]
    assert projects.pending_verifiable[0] == projects.pending_tonne_months[0] == 0.0


def test_a_mean_on_a_whole_month_stays_in_it_whatever_the_rate():
    """Thirteen equal months centred on January: float sums put the mean a hair below month
    12 for many rates, which would give the batch the year before as its vintage."""
    rates = np.random.default_rng(0).uniform(0.1, 50.0, 200)
    projects = Projects()
    projects.add(area_ha=np.full(len(rates), 1000.0), rate=rates,
                 start_step=np.zeros(len(rates), dtype=np.int64),
                 end_step=np.full(len(rates), 60))
    for month in range(6, 19):
        projects.accrue(month)
    ids = np.arange(len(rates))
    projects.submit(ids)
    assert (projects.vintage_month(ids) == 12).all()


def test_dropped_tonnes_leave_no_capture_months_behind():
    projects = one_project(0, 30)
    for month in range(12):
        projects.accrue(month)
    projects.drop_pending(np.array([0]))
    projects.accrue(12)
    projects.submit(np.array([0]))
    assert projects.submitted_capture_month[0] == 12.0


@pytest.fixture(scope="module")
def run():
    """A small baseline whose claims take credits at most two years old."""
    model = VCMModel(small(steps=48, rules={"integrity": {"max_vintage_age_years": CUTOFF_YEARS}}),
                     rng=2).run()
    market = model.market
    journal = market.registry.journal_frame()
    journal["year"] = market.config.start_year + journal["step"] // STEPS_PER_YEAR
    journal["vintage"] = [market.registry.batches[b].vintage for b in journal["batch"]]
    return model, journal


def test_credits_are_issued_in_or_after_the_year_their_tonnes_were_captured(run):
    """Annual verification of the year's tonnes issues some credits the next calendar year;
    none before their vintage."""
    model, journal = run
    issues = journal[journal["kind"] == "issue"]
    age = issues["year"] - issues["vintage"]
    assert len(issues) and (age >= 0).all() and (age >= 1).any()


def test_claims_take_no_credit_older_than_the_cutoff_and_the_mean_age_is_recorded(run):
    """The cut-off holds on capture-year vintages, and ``retired_vintage_age_yr`` is the mean
    age of the credits retired behind claims in the last twelve months."""
    model, journal = run
    simulated = journal["step"] >= model.market.first_month  # not the seeded past's sales
    claims = journal[(journal["kind"] == "retire") & journal["claim"].notna() & simulated]
    age = claims["year"] - claims["vintage"]
    assert len(claims) and age.max() <= CUTOFF_YEARS
    results = model.results()
    for month in (23, 47):
        window = claims[(claims["step"] > month - 12) & (claims["step"] <= month)]
        mean_age = np.average(window["year"] - window["vintage"], weights=window["quantity"])
        assert results["retired_vintage_age_yr"].iloc[month] == pytest.approx(mean_age)
