"""A steady start and burn-in: what is recorded, what restarts, what carries on."""

import math

import numpy as np
import pytest

from vcm_sim import VCMModel
from vcm_sim.metrics import transient_months

from .conftest import small


@pytest.fixture(scope="module")
def burnt():
    """A small baseline with 24 months of burn-in, built and run 36 recorded months."""
    model = VCMModel(small(steps=36, burn_in=24), rng=1)
    registry = model.market.registry
    built = {"issued": registry.totals()["issued"], "batches": len(registry.batches)}
    model.run()
    return model, built


def test_only_recorded_months_are_reported_numbered_from_zero_in_start_year(burnt):
    model, _ = burnt
    results = model.results()
    assert results["step"].tolist() == list(range(36))
    assert results["year"].iloc[0] == model.config.start_year
    assert model.steps == 36 and model.time == 36


def test_the_seeded_past_and_burn_in_issue_credits_of_earlier_vintages(burnt):
    model, built = burnt
    vintages = [b.vintage for b in model.market.registry.batches[:built["batches"]]]
    assert built["issued"] > 0 and vintages
    assert max(vintages) < model.config.start_year
    assert min(vintages) <= model.config.start_year - 2 - 10 + 1  # burn-in plus ten years


def test_monthly_flows_add_up_to_the_change_in_stocks_since_recording_started(burnt):
    model, built = burnt
    results = model.results()
    assert results["issued"].iloc[-1] - built["issued"] == results["issuance"].sum()
    for flow, stock in (("retirements", "retired"), ("cancellations", "cancelled")):
        opening = results[stock].iloc[0] - results[flow].iloc[0]
        assert (results[stock] - results[flow].cumsum() == opening).all(), stock
    summary = model.summary()
    assert summary["issued_total"] == results["issuance"].sum()
    assert summary["issued_to_retired"] == pytest.approx(
        results["issuance"].sum() / results["retirements"].sum())


def test_integrity_metrics_count_only_retirements_since_recording_started(burnt):
    model, _ = burnt
    results = model.results()
    retired_since = int(results["retirements"].sum())
    retired, real = model.market.retired_real()
    assert retired == retired_since < results["retired"].iloc[-1]
    assert results["greenwashing_gap_tco2"].iloc[-1] == pytest.approx(retired - real)


def test_the_price_index_starts_from_every_types_latest_price():
    """Quality books off: each type trades in one book, weighted by its share of credits; a
    type that never traded stays out."""
    model = VCMModel(small(steps=1, burn_in=24), rng=2)
    assert np.isfinite(model.market.latest_price_by_type).sum() >= 4, "most types traded in burn-in"
    model.run()
    latest = model.market.latest_price_by_book.reshape(-1, 1)
    priced = np.isfinite(latest[:, 0])
    weights = model.market.types.credit_mix[priced]
    expected = math.exp(np.sum(weights * np.log(latest[priced, 0])) / weights.sum())
    assert model.results()["price_index_usd"].iloc[0] == pytest.approx(expected)


def test_a_scheduled_event_counts_from_the_first_recorded_month():
    scenario = small(steps=8, burn_in=12,
                     events=[{"step": 5, "kind": "scandal", "project_type": "arr"}])
    scandals = VCMModel(scenario, rng=0).run().results()["scandals"]
    assert scandals.tolist() == [0] * 5 + [1] * 3


def test_mser5_finds_a_decaying_start_and_leaves_stationary_noise_alone():
    rng = np.random.default_rng(0)
    months = np.arange(240)
    noise = rng.normal(0.0, 0.05, 240)
    assert transient_months(np.exp(np.log(6.0) + noise)) <= 10
    decay = np.exp(np.log(6.0) + np.log(4.0) * np.exp(-months / 8.0) + noise)
    assert 20 <= transient_months(decay) <= 60
    assert math.isnan(transient_months(np.full(9, 6.0)))
