"""The page's parts that need no browser: controls -> scenario, the page model, the charts,
and the ``demo`` command's argument handling."""

from __future__ import annotations

import argparse
import json
import socket
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from vcm_sim.app.charts import (CHARTS, Events, Look, holdings_by_holder, legend,
                                moving_volatility, price_points, with_columns)
from vcm_sim.app.live_chart import LiveChart
from vcm_sim.app.page import (SWATCH_CSS, event_log, latest_numbers, model_params,
                               month_label, what_if)
from vcm_sim.app.page_model import EVENT_KINDS, PageModel
from vcm_sim.app.settings import (CONTROLS, MAX_DEVELOPERS, MAX_FIRMS, PageSettings,
                                  default_buffer_share, describe, page_presets,
                                  pending_changes)
from vcm_sim.scenario import ScenarioError, load_scenario, preset_names


def test_every_control_is_a_page_setting_and_a_page_model_keyword():
    import inspect

    names = {c.name for c in CONTROLS}
    assert names <= set(PageSettings().values())
    keywords = set(inspect.signature(PageModel.__init__).parameters) - {"self"}
    assert keywords == set(PageSettings().values())


def test_the_page_offers_every_one_market_preset_and_no_other():
    offered = page_presets()
    assert {"baseline", "ccer", "history"} <= set(offered)
    assert set(preset_names()) - set(offered) == {"linked", "corsia"}


@pytest.mark.parametrize("preset", page_presets())
def test_settings_from_a_preset_reproduce_its_rules_and_population(preset):
    base = load_scenario(preset)
    scenario = PageSettings.from_preset(preset).scenario()
    assert scenario.rules == base.rules
    assert scenario.population == base.population.model_copy(update={
        "firms": min(base.population.firms, MAX_FIRMS),
        "developers": min(base.population.developers, MAX_DEVELOPERS)})
    assert scenario.project_types == base.project_types
    assert scenario.events == base.events


def test_moved_controls_become_the_scenario_rules():
    settings = PageSettings.from_values(
        verification_rigour=0.9, satellite_mrv=0.7, retired_credit_disclosure=True,
        regulator_assigns_verifiers=True, buffer_share=0.3, offset_cap=0.05, firms=100,
        developers=20, trader_share=0.1)
    scenario = settings.scenario()
    integrity = scenario.rules.integrity
    assert integrity.verification_rigour == 0.9
    assert integrity.satellite_mrv == 0.7
    assert integrity.verifier_assignment == "regulator"
    assert integrity.buffer_share == 0.3
    assert scenario.rules.disclosure.retired_credit_disclosure is True
    assert scenario.rules.market.offset_cap == 0.05
    assert (scenario.population.firms, scenario.population.developers,
            scenario.population.traders) == (100, 20, 10)
    assert "offset cap 5%" in describe(scenario)


def test_buffer_slider_left_at_its_default_keeps_the_per_type_shares():
    base = load_scenario("baseline")
    assert base.rules.integrity.buffer_share is None
    untouched = PageSettings.from_preset("baseline")
    assert untouched.buffer_share == default_buffer_share(base)
    assert untouched.scenario().rules.integrity.buffer_share is None
    assert PageModel().page_scenario.rules == base.rules  # the defaults are the baseline's


def test_an_out_of_range_control_value_is_refused_with_the_scenario_error():
    with pytest.raises(ScenarioError, match="offset_cap"):
        PageSettings.from_values(offset_cap=1.5).scenario()
    with pytest.raises(TypeError, match="unknown page settings"):
        PageSettings.from_values(offset_capp=0.5)


def test_page_model_records_events_fired_by_hand_at_the_month_they_act():
    model = PageModel.from_settings(PageSettings.from_values(firms=60, developers=10))
    for _ in range(3):
        model.step()
    model.trigger("scandal")
    assert model.page_events == [(3, "scandal")]
    assert (3, "scandal") in model.event_marks()
    with pytest.raises(ValueError, match="unknown event"):
        model.trigger("meteor")
    assert set(EVENT_KINDS) == {"scandal", "wildfire", "suspend_issuance", "resume_issuance"}


def test_a_second_press_of_the_same_event_in_a_month_is_ignored():
    """Fifteen scandal clicks in one month are one scandal; the next month takes another,
    and a different event in the same month is its own."""
    model = PageModel.from_settings(PageSettings.from_values(firms=60, developers=10))
    model.step()
    fired = [model.trigger("scandal") for _ in range(15)]
    assert fired == [True] + [False] * 14
    assert model.trigger("wildfire") is True
    model.step()
    assert model.trigger("scandal") is True
    assert model.page_events == [(1, "scandal"), (1, "wildfire"), (2, "scandal")]
    model.step()  # an event fired between months acts in the next one
    assert model.market.tally.scandals == 2


def test_play_stops_at_the_scenarios_last_month():
    """The last month of the scenario sets ``running`` false: Mesa's controller stops
    playing there and disables Step and ▶."""
    settings = PageSettings.from_values(firms=60, developers=10)
    model = PageModel.from_settings(settings)
    last = model.page_scenario.steps
    for _ in range(last - 1):
        model.step()
    assert model.running
    model.step()
    assert model.steps == last and not model.running
    assert month_label(model).startswith(f"Month {last} of {last} · December")
    assert month_label(model).endswith("the end: Reset runs it again")
    rows = len(model.results())
    for _ in range(5):  # what Mesa's controller does with a render interval of 6
        model.step()
    assert (model.steps, len(model.results()), model.running) == (last, rows, False)


def test_the_event_log_lists_the_latest_events_and_counts_the_rest():
    marks = [(month, "scandal") for month in range(9)]
    assert event_log([]) == "Events so far: none."
    assert event_log(marks[:2]) == ("Events so far (2): scandal after month 0; scandal after "
                                    "month 1.")
    assert event_log(marks) == ("Events so far (9): … scandal after month 5; scandal after "
                                "month 6; scandal after month 7; scandal after month 8.")


def test_results_now_is_recomputed_after_each_step():
    model = PageModel.from_settings(PageSettings.from_values(firms=60, developers=10))
    assert len(model.results_now()) == 0
    model.step()
    first = model.results_now()
    assert model.results_now() is first
    model.step()
    assert len(model.results_now()) == 2


def test_every_chart_has_an_option_and_points_before_the_first_step_and_after_some():
    model = PageModel.from_settings(PageSettings.from_values(firms=60, developers=10))
    for look in (Look(), Look(projector=True)):
        for steps in (0, 14):
            for _ in range(steps):
                model.step()
            results = with_columns(model.results_now())
            for chart in CHARTS:
                option = chart.option(look, events=Events(((2, "scandal"),)),
                                      holdings=holdings_by_holder(model.market.registry),
                                      ghost=True)
                assert {key.mark for key in legend(option)} <= set(SWATCH_CSS)
                json.dumps(option, allow_nan=False)  # what the browser is sent
                assert option["textStyle"]["fontSize"] >= (16 if look.projector else 12)
                assert "(" in chart.title and chart.explanation
                if chart.points is None:
                    continue
                points = chart.points(results, results)
                json.dumps(points, allow_nan=False)
                assert len(points) == len(option["series"])
                assert all(len(series) == len(results) for series in points)
                assert [key.name for key in legend(option)][-1] == "scandal"
            model = PageModel.from_settings(PageSettings.from_values(firms=60, developers=10))


def test_the_price_chart_sends_months_without_trade_as_gaps():
    results = pd.DataFrame({"step": [0, 1, 2], "price_usd": [3.0, np.nan, 4.0],
                            "price_index_usd": [3.0, 3.0, 4.0]})
    average, index, volatility = price_points(results)
    assert average == [[1.0, 3.0], [2.0, None], [3.0, 4.0]]
    assert [y for _, y in index] == [3.0, 3.0, 4.0]
    assert [m for m, _ in volatility] == [1.0, 2.0, 3.0]


class Browser:
    """What a LiveChart's browser view holds, replayed from what the server sends."""

    def __init__(self, widget: LiveChart) -> None:
        self.widget, self.points, self.version, self.resyncs = widget, [], -1, 0
        widget.observe(lambda change: self.take(change["new"]), "snapshot")
        widget.observe(lambda change: self.append(change["new"]), "tail")

    def take(self, snapshot: dict) -> None:
        self.version, self.points = snapshot["version"], [list(s) for s in snapshot["data"]]

    def append(self, tail: dict) -> None:
        if tail["version"] != self.version:
            return
        held = len(self.points[0]) if self.points else 0
        if tail["start"] > held:
            self.resyncs += 1
            self.widget.vue_resync()
            return
        self.points = [s[:tail["start"]] + new for s, new in zip(self.points, tail["data"])]


def test_a_live_chart_sends_only_new_months_and_everything_for_a_new_run():
    widget = LiveChart()
    browser = Browser(widget)
    sent: list[dict] = []
    widget.observe(lambda change: sent.append(change["new"]), "tail")
    run = object()
    rows = [[[m, m * 10.0] for m in range(1, 6)]]
    widget.show([rows[0][:3]], run)
    assert browser.points == [rows[0][:3]]
    widget.show(rows, run)
    assert sent[-1]["start"] == 3 and sent[-1]["data"] == [rows[0][3:]]  # two months only
    assert browser.points == rows
    widget.show(rows, run)  # nothing new: nothing sent
    assert len(sent) == 1
    other = object()
    widget.show([rows[0][:1]], other)  # Reset: a new model starts over
    assert browser.points == [rows[0][:1]]
    lost = Browser(LiveChart())  # a view that missed the snapshot asks for it again
    lost.widget.show([rows[0][:2]], run)
    lost.points = []
    lost.widget.show([rows[0]], run)
    assert lost.resyncs == 1 and lost.points == [rows[0]]


def test_holdings_by_holder_accounts_for_every_issued_credit():
    model = PageModel.from_settings(PageSettings.from_values(firms=60, developers=10))
    for _ in range(14):
        model.step()
    held = holdings_by_holder(model.market.registry)
    assert sum(held.values()) == model.market.registry.totals()["issued"]
    assert all(v >= 0 for v in held.values())


def test_moving_volatility_does_not_bridge_months_without_trade():
    import math

    import numpy as np

    price = pd.Series([10.0, 11.0, float("nan"), 12.0, 12.5])
    vol = moving_volatility(price, window=4)
    returns = [math.log(11 / 10), math.log(12.5 / 12)]  # none across the gap
    assert vol.iloc[:4].isna().all()
    assert vol.iloc[4] == pytest.approx(np.std(returns, ddof=1) * math.sqrt(12))


def test_demo_refuses_a_port_in_use_and_says_so(monkeypatch):
    from vcm_sim.app.cli import SOLARA_ENV, register, run_demo
    from vcm_sim.errors import UserError

    for key, value in SOLARA_ENV.items():  # restored after the test
        monkeypatch.setenv(key, value)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        args = parser.parse_args(["demo", "--port", str(port)])
        assert args.handler is run_demo
        with pytest.raises(UserError, match=f"port {port} on 127.0.0.1 is in use"):
            run_demo(args)


def test_demo_refuses_an_impossible_port():
    from vcm_sim.app.cli import run_demo
    from vcm_sim.errors import UserError

    with pytest.raises(UserError, match="0-65535"):
        run_demo(argparse.Namespace(host="127.0.0.1", port=70000))


def test_demo_refuses_a_linger_time_out_of_range():
    from vcm_sim.app.cli import run_demo
    from vcm_sim.errors import UserError

    for bad in (0.0, -1.0, 1e6):
        with pytest.raises(UserError, match=r"--linger must be in \(0, 86400\] seconds"):
            run_demo(argparse.Namespace(host="127.0.0.1", port=0, linger=bad))


def test_a_closed_page_stops_its_model_at_the_next_step():
    model = PageModel.from_settings(PageSettings.from_values(firms=60, developers=10))
    model.step()
    model.close()
    rows = len(model.results())
    model.step()  # what Mesa's play loop does next
    assert (model.steps, len(model.results()), model.running) == (1, rows, False)


def test_moved_controls_are_pending_until_the_model_uses_them():
    """Mesa's parameters hold the control dicts until the inputs report, then values; a
    value that differs from the model's settings is pending, one that matches is not."""
    settings = PageSettings.from_preset("baseline")
    assert pending_changes(model_params(settings), settings) == []
    moved = {**{name: value for name, value in settings.values().items()},
             "offset_cap": 0.5, "retired_credit_disclosure": True, "firms": 600}
    assert pending_changes(moved, settings) == [
        "Disclose credits behind claims on", "Offset cap (share of target) 0.5",
        "Emitting firms 600"]
    assert pending_changes(moved, PageSettings.from_values(**moved)) == []


def test_the_status_bar_gives_twelve_month_averages_beside_the_months_figures():
    """The price average is volume-weighted over the last twelve months, the volume
    average a plain mean (months without trade count as zero)."""
    model = PageModel.from_settings(PageSettings.from_values(firms=60, developers=10))
    assert latest_numbers(model) == "No data yet."
    for _ in range(20):
        model.step()
    year = model.results().iloc[-12:]
    volume = year["volume"].fillna(0)
    average = (year["price_usd"].fillna(0) * volume).sum() / volume.sum()
    text = latest_numbers(model)
    assert f"(12-month average {average:.2f})" in text
    assert f"(12-month average {volume.mean():,.0f})" in text


def test_the_what_if_twin_is_the_same_run_without_the_events_fired_by_hand():
    model = PageModel.from_settings(PageSettings.from_values(firms=60, developers=10))
    for _ in range(3):
        model.step()
    model.compare_with(model.page_settings)  # switched on mid-run: the twin catches up
    assert model.ghost.steps == model.steps == 3
    model.step()
    same = ["price_usd", "greenwashing_index", "issued", "retired"]
    pd.testing.assert_frame_equal(model.ghost_results_now()[same], model.results_now()[same])
    assert what_if(model).startswith("Without your events (faded lines): 12-month average")
    model.trigger("scandal")
    for _ in range(8):
        model.step()
    mine, twin = model.results_now(), model.ghost_results_now()
    assert len(twin) == len(mine) == 12
    assert not np.allclose(mine["volume"].iloc[4:], twin["volume"].iloc[4:])
    points = price_points(with_columns(mine), with_columns(twin))
    assert len(points) == 4 and len(points[3]) == 12
    model.compare_with(None)
    assert model.ghost is None and what_if(model) == ""


def test_the_what_if_twin_of_moved_rules_is_the_preset_as_it_comes():
    settings = PageSettings.from_values(firms=60, developers=10, offset_cap=0.2)
    model = PageModel.from_settings(settings)
    model.compare_with(PageSettings.from_values(firms=60, developers=10))
    for _ in range(14):
        model.step()
    assert model.ghost.market.config.rules.market.offset_cap == 1.0
    text = what_if(model)
    assert text.startswith("Without your events and rule changes (faded lines): 12-month "
                           "average price USD") and "(here " in text



def render_page():
    """The page rendered in this process as Solara's server lays it out (no browser)."""
    import solara

    from vcm_sim.app.page import Page

    @solara.component
    def App():
        with solara.AppLayout():
            Page()

    return solara.render(App(), handle_error=False)[1]


def test_the_controls_have_no_use_threads_box():
    """Mesa's *Use Threads* cost the server two to three times the CPU per tab for no faster
    play (issue 17): the page leaves it out, and plays without it."""
    import ipyvuetify

    rendered = render_page()
    labels = [w.label for w in rendered.find(ipyvuetify.Checkbox).widgets]
    rendered.close()
    assert "Projector mode (large type)" in labels and "Use Threads" not in labels


def test_a_tab_holds_one_model_however_often_it_resets():
    """The page rendered in this process: after steps, an event and Reset, the run before
    is garbage. Solara keeps a component's first arguments and callbacks for as long as it
    is mounted; a model held there stayed alive for the tab's lifetime, one whole run's
    record per tab on a classroom server."""
    import gc

    import ipyvuetify

    def models() -> dict[int, PageModel]:
        gc.collect()
        return {id(m): m for m in gc.get_objects() if isinstance(m, PageModel)}

    # Outside a server, pages share one kernel: another test's page may have left a model.
    before = models()
    rendered = render_page()

    def press(label: str) -> None:
        rendered.find(ipyvuetify.Btn, children=[label]).widget.fire_event("click", {})

    def alive() -> list[int]:
        return sorted(m.steps for key, m in models().items() if key not in before)

    for _ in range(3):
        press("Step")
        press("Step")
        press("Media scandal")
        assert alive() == [2]
        press("Reset")
        assert alive() == [0]
    rendered.close()


def test_the_ratings_switch_brings_agencies_and_quality_books():
    from vcm_sim.app.settings import PAGE_RATERS

    on = PageSettings.from_values(quality_books=True).scenario()
    assert on.rules.market.quality_books and on.population.raters == PAGE_RATERS
    off = PageSettings().scenario()
    assert not off.rules.market.quality_books and off.population.raters == 0
    icvcm = PageSettings.from_preset("icvcm")
    assert icvcm.quality_books
    assert replace(icvcm, quality_books=False).scenario().population.raters == 3


def test_the_price_chart_draws_the_rating_bands_only_with_quality_books():
    from vcm_sim.app.charts import price_option

    model = PageModel.from_settings(PageSettings.from_values(quality_books=True))
    for _ in range(6):
        model.step()
    look, events = Look(), Events()
    banded = price_option(look, events, bands=True)
    plain = price_option(look, events)
    assert len(banded["series"]) == len(plain["series"]) + 3
    assert [k.name for k in legend(banded)][3:6] == [
        "rated A or above", "rated below A", "unrated"]
    assert len(price_points(with_columns(model.results_now(), True))) == 6
    assert len(price_points(with_columns(model.results_now(), False))) == 3
