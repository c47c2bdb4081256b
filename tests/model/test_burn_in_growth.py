"""``burn_in_growth = false``: the burn-in settles prices, stocks and project cycles but the
market does not grow in it, so the first recorded month starts from the stated conditions."""

import numpy as np

from tests.model.conftest import small
from vcm_sim.model import VCMModel


def built(burn_in: int, growth: bool) -> VCMModel:
    scenario = small(steps=12, burn_in=burn_in, burn_in_growth=growth,
                     firms={"pledge_none": 0.9, "pledge_neutral": 0.1, "pledge_net_zero": 0.0,
                            "pledge_imitation_yr": 0.8, "pledge_drop_yr": 0.0},
                     developers={"entry_rate_yr": 2.0, "invest_rate_yr": 1.0})
    return VCMModel(scenario, rng=4)


def size(model: VCMModel) -> tuple[int, int, int]:
    """Pledged firms, developers and projects."""
    market = model.markets[0]
    return (int(np.count_nonzero(market.firms.pledge)), len(market.developers),
            len(market.projects.kind))


def test_a_market_held_through_the_burn_in_starts_at_its_stated_size():
    """Held through 36 burn-in months, the market enters its first recorded month with the
    pledges, developers and projects it was built with (a build without burn-in, same
    seed); growing, it has more pledged firms and more projects. Once recording starts the
    held market grows."""
    stated, held, grown = built(0, False), built(36, False), built(36, True)
    assert size(held) == size(stated)
    assert size(grown)[0] > size(stated)[0] and size(grown)[2] > size(stated)[2]
    held.run()
    assert size(held)[0] > size(stated)[0]
