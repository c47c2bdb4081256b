"""Markets with their own currency: money settings read in it, clearing and cash in it,
results in USD at the scenario's exchange rates, and linked markets converting at them."""

import numpy as np
import pytest

from tests.model.conftest import small
from vcm_sim.model import VCMModel
from vcm_sim.scenario import ScenarioError, load_scenario, with_overrides


def money_settings(scenario) -> dict[str, float]:
    """Every numeric setting of ``scenario`` named in USD (``*_usd*``), by dotted path."""
    found: dict[str, float] = {}

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif ("usd" in path.rsplit(".", 1)[-1] and isinstance(node, int | float)
              and not isinstance(node, bool)):
            found[path] = node

    walk(scenario.model_dump(exclude={"markets", "linking", "exchange_rates", "events",
                                      "drivers", "ets"}), "")
    return found


def in_yuan(scenario, rate: float, scale: float):
    """``scenario`` (linked) with its lax market in CNY at ``rate`` per USD, every money
    setting of that market multiplied by ``scale``."""
    settings = {path: value * scale for path, value in money_settings(scenario).items()}
    return with_overrides(scenario, {"exchange_rates": {"CNY": rate},
                                     "markets.1.settings": {**settings, "currency": "CNY"}})


def linked(steps: int = 24):
    return small("linked", steps=steps, linking={"transfer_cost_usd": 0.25})


def test_a_market_in_another_currency_at_its_rate_is_the_same_market():
    """The lax market's money settings in yuan (eight times the dollars) at 8 yuan per USD:
    every result, in USD, is the all-dollar run's (to rounding), and the lax market's prices
    in yuan are eight times its prices in USD."""
    base = linked()
    assert len(money_settings(base)) > 15
    dollars = VCMModel(base, rng=3).run().results()
    yuan = VCMModel(in_yuan(base, 8.0, 8.0), rng=3).run().results()
    shared = [c for c in dollars.columns if c in yuan.columns]
    assert len(shared) == len(dollars.columns)
    for column in shared:
        np.testing.assert_allclose(yuan[column].to_numpy(float),
                                   dollars[column].to_numpy(float), rtol=1e-9,
                                   equal_nan=True, err_msg=column)
    np.testing.assert_allclose(yuan["price_cny_lax"], 8.0 * dollars["price_usd_lax"],
                               rtol=1e-12, equal_nan=True)
    assert "price_index_cny_lax" in yuan and "price_cny_strict" not in yuan


def test_a_weaker_currency_makes_a_markets_credits_cheaper_abroad():
    """The same yuan prices and costs at 16 yuan per USD instead of 8: the lax market's
    credits cost half as many dollars, so the strict market's buyers buy more of them."""
    base = linked(steps=36)
    strong = VCMModel(in_yuan(base, 8.0, 8.0), rng=5).run().results()
    weak = VCMModel(in_yuan(base, 16.0, 8.0), rng=5).run().results()
    assert weak["bought_abroad_strict"].iloc[-1] > strong["bought_abroad_strict"].iloc[-1]
    assert weak["price_usd_lax"].mean() < strong["price_usd_lax"].mean()


def test_currencies_need_a_rate_and_a_market_with_an_ets_clears_in_usd():
    with pytest.raises(ScenarioError, match="currency 'CNY' needs its rate.*exchange_rates.CNY"):
        load_scenario("baseline", currency="CNY")
    with pytest.raises(ScenarioError, match="upper-case ISO code"):
        load_scenario("baseline", currency="yuan")
    with pytest.raises(ScenarioError, match="exchange_rates.CNY = 0.0: Input should be greater"):
        load_scenario("baseline", exchange_rates={"CNY": 0.0})
    with pytest.raises(ScenarioError, match="exchange_rates.USD must be 1"):
        load_scenario("baseline", exchange_rates={"USD": 2.0})
    with pytest.raises(ScenarioError, match="ETS clears its credits in USD"):
        load_scenario("ccer_ets", currency="CNY", exchange_rates={"CNY": 7.1})
    with pytest.raises(ScenarioError, match="exchange_rates: the same for every market"):
        load_scenario("linked", markets=[{"name": "strict"}, {"name": "lax", "settings": {
            "exchange_rates": {"CNY": 7.0}}}])
    one = load_scenario("baseline", currency="CNY", exchange_rates={"CNY": 7.1})
    assert one.per_usd == 7.1
    yen = load_scenario("baseline", currency="JPY", exchange_rates={"JPY": 150.0},
                        firms={"willingness_to_pay_usd": 3000.0})
    assert yen.firms.willingness_to_pay_usd == 3000.0  # bounds leave room for the yen


def test_currencies_are_fixed_for_the_run():
    model = VCMModel(in_yuan(linked(steps=2), 8.0, 8.0), rng=1)
    for path, value in (("currency", "USD"), ("exchange_rates.CNY", 9.0)):
        with pytest.raises(ScenarioError, match="fixed for the whole run"):
            model.set_rule(path, value, market="lax")
    with pytest.raises(ScenarioError, match="fixed for the whole run"):
        load_scenario("baseline", currency="CNY", exchange_rates={"CNY": 7.1}, events=[
            {"step": 3, "kind": "set", "path": "exchange_rates.CNY", "value": 8.0}])


def test_a_currency_at_par_still_reports_its_own_prices():
    results = VCMModel(small("baseline", steps=3, currency="EUR",
                             exchange_rates={"EUR": 1.0}), rng=1).run().results()
    assert (results["price_eur"].dropna() == results["price_usd"].dropna()).all()
