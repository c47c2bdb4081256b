"""Several markets (jurisdictions) in one run: each its own registry, book and rules."""

import numpy as np
import pandas as pd
import pytest

from tests.model.conftest import small
from vcm_sim.model import VCMModel
from vcm_sim.scenario import ScenarioError, with_overrides

TWO = [{"name": "east", "settings": {}},
       {"name": "west", "settings": {"rules.integrity.verification_rigour": 0.95,
                                     "population.firms": 80}}]


def two_markets(steps: int = 24, markets=TWO):
    return small(steps=steps, markets=markets)


def test_each_market_has_its_own_registry_accounts_rules_and_columns():
    model = VCMModel(two_markets(), rng=3).run()
    east, west = model.markets
    assert (east.name, west.name) == ("east", "west")
    assert east.registry is not west.registry and east.cash is not west.cash
    assert len(east.firm_agents) == 120 and len(west.firm_agents) == 80
    assert west.config.rules.integrity.verification_rigour == 0.95
    assert east.config.rules.integrity.verification_rigour != 0.95
    results = model.results()
    assert {"step", "year", "price_usd_east", "price_usd_west", "issued_east",
            "retired_west"} <= set(results.columns)
    assert "price_usd" not in results.columns
    assert results["issued_east"].iloc[-1] == east.registry.totals()["issued"]
    assert results["issued_west"].iloc[-1] == west.registry.totals()["issued"]
    assert {"mean_price_usd_east", "mean_price_usd_west"} <= set(model.summary())


def test_a_market_runs_as_it_would_alone_when_the_markets_are_not_linked():
    """The first market draws from the streams of a one-market run, so without links its
    results are those of the same scenario run alone: nothing leaks between markets."""
    together = VCMModel(two_markets(), rng=5).run().results()
    alone = VCMModel(small(steps=24), rng=5).run().results()
    east = together[["step", "year"] + [f"{c}_east" for c in alone.columns
                                        if c not in ("step", "year")]]
    east.columns = alone.columns
    pd.testing.assert_frame_equal(east, alone)


def test_two_markets_with_the_same_settings_draw_different_numbers():
    same = [{"name": "a", "settings": {}}, {"name": "b", "settings": {}}]
    results = VCMModel(two_markets(markets=same), rng=1).run().results()
    assert not np.array_equal(results["retired_a"], results["retired_b"])


def test_the_only_market_and_a_market_by_name():
    model = VCMModel(two_markets(steps=1), rng=0)
    assert model.market_named("west") is model.markets[1]
    with pytest.raises(ValueError, match="2 markets .*east, west.*model.markets"):
        model.market
    with pytest.raises(ValueError, match="no market 'north'"):
        model.market_named("north")
    single = VCMModel(small(steps=1), rng=0)
    assert single.market is single.markets[0] and single.market.name == ""


def test_a_rule_changed_or_an_event_fired_in_one_market_stays_there():
    model = VCMModel(two_markets(steps=4), rng=2)
    model.set_rule("rules.market.offset_cap", 0.05, market="west")
    assert model.market_named("west").config.rules.market.offset_cap == 0.05
    assert model.market_named("east").config.rules.market.offset_cap == 1.0
    quiet = VCMModel(two_markets(steps=4), rng=2)
    quiet.set_rule("rules.market.offset_cap", 0.05, market="west")
    model.trigger("scandal", "redd_plus", 0.9, market="east")
    model.step()
    quiet.step()
    east, west = (model.market_named(n).sentiment.level for n in ("east", "west"))
    assert (east < quiet.market_named("east").sentiment.level).any()
    assert np.array_equal(west, quiet.market_named("west").sentiment.level)


@pytest.mark.parametrize("markets, message", [
    ([{"name": "a"}, {"name": "a"}], "distinct names"),
    ([{"name": "East"}], "lower-case"),
    ([{"name": "a", "settings": {"steps": 5}}], "steps: the same for every market"),
    ([{"name": "a", "settings": {"rules.market.offset_cap": 2}}],
     "(?s)market 'a': .*offset_cap"),
    ([{"name": "a", "settings": {"rules.nothing": 1}}], "market 'a': unknown setting"),
])
def test_bad_markets_are_refused_with_the_reason(markets, message):
    with pytest.raises(ScenarioError, match=message):
        with_overrides(small(), {"markets": markets})
