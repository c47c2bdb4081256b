"""Claims an economist checks first, each over ten paired seeds (common random numbers).

Each test compares two rule settings on the same seeds and asserts the direction of the mean
effect; the effects are several standard errors wide at this size, so the tests are stable.
"""

import numpy as np

from vcm_sim import VCMModel, load_scenario

POPULATION = {"firms": 300, "developers": 60, "verifiers": 8}
SEEDS = range(10)
BURN_IN = 24
"""Shorter than the scenarios' default: both arms of a comparison share what is left of the
start (same seeds, same streams), and these tests check directions, not levels."""


def runs(name: str = "baseline", steps: int = 96, **overrides) -> list[VCMModel]:
    scenario = load_scenario(name, population=POPULATION, steps=steps, burn_in=BURN_IN,
                             **overrides)
    return [VCMModel(scenario, rng=seed).run() for seed in SEEDS]


def summaries(metric: str, *args, **kwargs) -> np.ndarray:
    return np.array([m.summary()[metric] for m in runs(*args, **kwargs)])


def test_higher_verification_rigour_lowers_the_greenwashing_index():
    lax = summaries("greenwashing_index", rules={"integrity": {"verification_rigour": 0.1}})
    strict = summaries("greenwashing_index", rules={"integrity": {"verification_rigour": 0.9}})
    assert strict.mean() < lax.mean()
    assert (strict < lax).sum() >= 7


def test_a_five_percent_offset_cap_lowers_credit_demand():
    capped = summaries("demand_total", rules={"market": {"offset_cap": 0.05}})
    free = summaries("demand_total")
    assert (capped < 0.2 * free).all()


def test_a_scandal_lowers_the_price_of_the_exposed_type():
    scandal = [{"step": 48, "kind": "scandal", "project_type": "redd_plus", "severity": 0.6}]

    def redd_price_after(models):
        return np.array([m.results()["price_redd_plus_usd"].iloc[48:60].mean() for m in models])

    hit = redd_price_after(runs(events=scandal))
    calm = redd_price_after(runs())
    assert hit.mean() < 0.9 * calm.mean()
    assert (hit < calm).sum() >= 8


def test_a_wildfire_regime_draws_down_the_buffer_pool():
    def buffer_share_of_issued(models):
        return np.array([m.registry.totals()["buffer"] / m.registry.totals()["issued"]
                         for m in models])

    fire = buffer_share_of_issued(runs("wildfire"))
    normal = buffer_share_of_issued(runs())
    assert fire.mean() < 0.5 * normal.mean()
    assert (fire < normal).all()


def test_a_higher_buffer_share_raises_the_integrity_ratio_after_reversals():
    thin = summaries("integrity_ratio", "wildfire", rules={"integrity": {"buffer_share": 0.05}})
    thick = summaries("integrity_ratio", "wildfire", rules={"integrity": {"buffer_share": 0.4}})
    assert thick.mean() > thin.mean()
    assert (thick > thin).sum() >= 8
