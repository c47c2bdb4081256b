"""The history preset, exogenous inputs as data (drivers, dated events), the targets and the
hindcast's statistics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vcm_sim import drivers, hindcast
from vcm_sim.metrics import PROJECT_TYPES
from vcm_sim.model import VCMModel
from vcm_sim.scenario import ScenarioError, load_scenario, with_overrides


@pytest.fixture(scope="module")
def history_run() -> tuple[VCMModel, pd.DataFrame]:
    model = VCMModel(with_overrides(hindcast.scenario(), {"debug": True}), rng=3).run()
    return model, model.results()


def test_history_runs_monthly_from_january_2010_to_december_2025(history_run):
    _, results = history_run
    assert len(results) == 192
    assert results["year"].iloc[0] == 2010 and results["year"].iloc[-1] == 2025
    assert (results.groupby("year").size() == 12).all()


def test_per_type_stocks_add_up_to_the_registry_totals_every_month(history_run):
    _, results = history_run
    for stock in ("issued", "retired"):
        columns = [f"{stock}_{kind}" for kind in PROJECT_TYPES]
        assert (results[columns].sum(axis=1) == results[stock]).all()
        assert (results[columns].diff().dropna() >= 0).all().all()  # cumulative


def test_the_press_investigation_fires_in_january_2023(history_run):
    _, results = history_run
    january_2023 = (2023 - 2010) * 12
    assert results["scandals"].iloc[january_2023 - 1] == 0
    assert results["scandals"].iloc[january_2023] == 1


def test_a_dated_event_becomes_the_step_of_its_month():
    scenario = load_scenario("history")
    [event] = scenario.events
    assert event.step == (2023 - 2010) * 12 and event.cite == "guardian_zeit_redd_investigation"


@pytest.mark.parametrize("event, message", [
    ({"date": "2023-13", "kind": "scandal"}, "YYYY-MM"),
    ({"date": "2009-12", "kind": "scandal"}, "before start_year"),
    ({"date": "2023-01", "step": 3, "kind": "scandal"}, "give one"),
    ({"step": 3, "kind": "scandal", "cite": "no_such_event"}, "no_such_event"),
])
def test_bad_dated_events_are_refused_with_the_reason(event, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario("history", events=[event])


def test_drivers_follow_the_series_log_linearly_between_its_years():
    values = drivers.series("sbti_companies_validated")
    assert drivers.value_in(values, 2019) == pytest.approx(values[2019])
    assert drivers.value_in(values, 2020) == pytest.approx(math.sqrt(values[2019] * values[2021]))
    first = min(values)
    assert drivers.value_in(values, first - 5) == pytest.approx(values[first])


def test_the_driver_moves_its_setting_year_by_year_in_a_run():
    scenario = load_scenario("history", steps=36)
    [driver] = scenario.drivers
    base = scenario.firms.pledge_innovation_yr
    values = drivers.series(driver.series)
    model = VCMModel(scenario, rng=1)
    burn_in_year = scenario.start_year - scenario.burn_in // 12
    expected = base * (drivers.value_in(values, 2011) / values[driver.base_year]) ** \
        driver.elasticity
    assert model.market.config.firms.pledge_innovation_yr == pytest.approx(
        base * (drivers.value_in(values, burn_in_year + 1) / values[driver.base_year])
        ** driver.elasticity)
    model.run(13)
    assert model.market.config.firms.pledge_innovation_yr == pytest.approx(expected)


def test_switching_drivers_off_keeps_the_preset_value_all_run():
    model = VCMModel(hindcast.scenario(drivers=False), rng=1).run(24)
    assert model.market.config.firms.pledge_innovation_yr == \
        load_scenario("history").firms.pledge_innovation_yr


def test_a_driver_holds_its_setting_at_the_upper_bound_instead_of_failing_the_run():
    """A steep driver on a yearly hazard would pass 1 a year in the held-out years: the
    setting saturates at 1 and the run goes on (before, the run raised, and a calibration
    rejected the particle for what the series does after its in-sample years)."""
    scenario = hindcast.scenario({"firms.pledge_innovation_yr": 0.05,
                                  "drivers.0.elasticity": 2.0})
    values = [event["value"] for event in drivers.driver_events(scenario)]
    assert max(values) == 1.0 and values[-1] == 1.0
    assert values.index(1.0) > 0 and sorted(values) == values
    model = VCMModel(scenario, rng=1).run()
    assert model.market.config.firms.pledge_innovation_yr == 1.0
    assert drivers.upper_bound(scenario, "firms.emissions_tco2_yr") == 1e9
    assert drivers.upper_bound(scenario, "drivers.0.elasticity") == 10.0


def test_a_driver_elasticity_can_be_overridden_by_list_index():
    scenario = hindcast.scenario({"drivers.0.elasticity": 1.5})
    assert scenario.drivers[0].elasticity == 1.5


def test_a_count_setting_takes_the_nearest_whole_number():
    assert hindcast.scenario({"population.developers": 23.6}).population.developers == 24


@pytest.mark.parametrize("driver, message", [
    ({"series": "issuance", "path": "firms.pledge_innovation_yr", "base_year": 2021},
     "unknown driver series 'issuance'"),
    ({"series": "sbti_companies_validated", "path": "firms.pledge_innovation_yr",
      "base_year": 2012}, "no value in base_year 2012"),
    ({"series": "sbti_companies_validated", "path": "rules.market.mechanism",
      "base_year": 2021}, "not a numeric setting"),
    ({"series": "sbti_companies_validated", "path": "firms.nothing", "base_year": 2021},
     "unknown setting"),
])
def test_bad_drivers_are_refused_with_the_reason(driver, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario("history", drivers=[driver])


def test_every_cited_event_and_driver_series_has_a_source():
    for event in drivers.events():
        assert event["source"] and event["date"] and event["what"]
    import tomllib
    described = tomllib.loads(drivers.data_file("drivers.toml").read_text())["series"]
    assert set(drivers.table()) == set(described)
    assert all(entry["source"] for entry in described.values())


def test_targets_read_the_registry_flows_and_the_nature_based_anchors():
    t = hindcast.targets()
    assert t.flows.loc[2021, "retired_mt"] == 72.0 and t.flows.loc[2012, "issued_mt"] == 14.9
    assert list(t.in_sample) == list(range(2012, 2022))
    assert list(t.held_out) == list(range(2022, 2026))
    assert {a.date for a in t.prices} >= {"2021-06", "2021-11", "2022-02", "2022-12",
                                          "2023-12", "2024-11"}


def test_observed_statistics_are_logs_of_the_data():
    obs = hindcast.observed()
    flows = hindcast.targets().flows
    retired_growth = (flows.retired_mt.loc[2019:2021].sum()
                      / flows.retired_mt.loc[2012:2014].sum())
    assert obs["log_retired_growth"] == pytest.approx(np.log(retired_growth))
    assert obs["log_retired_2021"] == pytest.approx(np.log(72.0))
    assert obs["log_price_2021-11"] == pytest.approx(np.log(12.70))
    assert not any(k.startswith("log_price_2022") for k in obs)  # held out


def test_distance_is_zero_on_the_data_and_infinite_without_a_price():
    obs = hindcast.observed()
    assert hindcast.distance(obs, obs) == 0.0
    missing = dict(obs, **{"log_price_2021-06": math.nan})
    assert hindcast.distance(missing, obs) == math.inf
    worse = dict(obs, log_retired_growth=obs["log_retired_growth"] + 1.0)
    assert hindcast.distance(worse, obs) == pytest.approx(1.0)


def test_statistics_of_a_run_are_its_annual_flows_scaled(history_run):
    _, results = history_run
    flows = hindcast.annual(results)
    scale = hindcast.targets().scale
    assert flows.loc[2015, "retired_mt"] == pytest.approx(
        results.loc[results.year == 2015, "retirements"].sum() * scale / 1e6)
    stats = hindcast.statistics_of(flows, hindcast.monthly_price(results))
    assert stats["log_retired_2015"] == pytest.approx(math.log(flows.loc[2015, "retired_mt"]))
    assert set(stats) == set(hindcast.observed())
