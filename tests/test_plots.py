"""``run.png``: a 16:9 slide of one run, with plain titles and the page's colours."""

from matplotlib.colors import to_hex

from vcm_sim.app.charts import Events, Look, integrity_option, price_option, stocks_option
from vcm_sim.model import VCMModel
from vcm_sim.plots import plot_run
from vcm_sim.scenario import load_scenario


def small_results():
    scenario = load_scenario("baseline", steps=12, burn_in=12,
                             population={"firms": 60, "developers": 10})
    return VCMModel(scenario, rng=1).run().results()


def colours(ax) -> dict[str, str]:
    """Each labelled line's colour, by its label."""
    return {line.get_label(): to_hex(line.get_color()) for line in ax.get_lines()
            if not line.get_label().startswith("_")}


def test_run_png_is_a_16_by_9_slide_with_a_unit_in_each_panel_title():
    fig = plot_run(small_results(), "baseline (seed 1)")
    width, height = fig.get_size_inches()
    assert width / height == 16 / 9
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    assert len(titles) == 4 and all("(" in title for title in titles)
    assert titles[0] == "Price (USD per tCO2e)"


def page_colours(option: dict) -> dict[str, str]:
    """Each series' colour on the instructor's page, by its name."""
    return {series["name"]: series["color"] for series in option["series"]}


def test_run_png_draws_each_series_in_the_pages_colour():
    slide = plot_run(small_results(), "baseline").axes
    for option, panel in ((price_option, slide[0]), (stocks_option, slide[1]),
                          (integrity_option, slide[2])):
        on_page = page_colours(option(Look(), Events()))
        on_slide = colours(panel)
        shared = on_page.keys() & on_slide.keys()
        assert shared, (on_page, on_slide)
        assert {name: on_slide[name] for name in shared} == {
            name: on_page[name] for name in shared}
