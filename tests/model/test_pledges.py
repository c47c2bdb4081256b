"""How pledges spread: Bass diffusion of firms' claims, within a market potential."""

import numpy as np
import pytest

from vcm_sim.agents.firm import NONE, FirmPopulation, bass_hazard
from vcm_sim.scenario import load_scenario


def firms_settings(**values):
    return load_scenario("baseline", firms=values).firms


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 0.99])
def test_a_whole_market_potential_is_plain_bass(share):
    params = firms_settings(pledge_innovation_yr=0.02, pledge_imitation_yr=0.4)
    assert bass_hazard(params, share) == 0.02 + 0.4 * share


def test_adopters_come_in_proportion_to_the_potential_not_yet_taken():
    """With potential M, new adopters a year are (p + q s / M)(M - s) of all firms."""
    params = firms_settings(pledge_innovation_yr=0.02, pledge_imitation_yr=0.4,
                            pledge_potential=0.3)
    for share in (0.0, 0.1, 0.2, 0.29):
        adopters = bass_hazard(params, share) * (1 - share)
        assert adopters == pytest.approx((0.02 + 0.4 * share / 0.3) * (0.3 - share))
    assert bass_hazard(params, 0.3) == bass_hazard(params, 0.5) == 0.0


def test_no_firm_pledges_beyond_the_potential():
    """Ten years of monthly diffusion at full welcome among 10,000 firms: the pledged share
    rises to the potential of 20% and stops there; when the potential then falls to 10%,
    nobody new pledges and nobody drops (no drop hazard)."""
    params = firms_settings(pledge_innovation_yr=0.5, pledge_imitation_yr=0.6,
                            pledge_potential=0.2, pledge_drop_yr=0.0)
    rng = np.random.default_rng(3)
    firms = FirmPopulation.create(rng, 10_000, params, np.full(5, 0.2), np.ones(5))
    firms.pledge[:] = NONE
    shares = []
    for _ in range(120):
        firms.adopt_pledges(rng, params, np.ones(10_000), 1.0)
        shares.append(np.mean(firms.pledge != NONE))
    assert shares[0] < 0.02 and 0.195 < shares[-1] <= 0.2 + 0.002
    shrunk = params.model_copy(update={"pledge_potential": 0.1})
    for _ in range(12):
        firms.adopt_pledges(rng, shrunk, np.ones(10_000), 1.0)
    assert np.mean(firms.pledge != NONE) == shares[-1]


def test_the_potential_must_be_a_share_above_zero():
    from vcm_sim.scenario import ScenarioError
    for bad in (0.0, 1.2):
        with pytest.raises(ScenarioError, match="pledge_potential"):
            firms_settings(pledge_potential=bad)
