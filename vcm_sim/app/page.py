"""The instructor's page: Mesa's ``SolaraViz`` layout with the market's charts and classroom
buttons.

Layout: the sidebar has the scenario picker, Mesa's controls (step, play/pause, reset, play
speed), the rule sliders and switches (Mesa's model parameters; *Reset* applies them) and
Mesa's step counter; the main area has a status bar (month, rules in force, latest numbers),
the event buttons and five charts drawn in the browser, all on one screen (a projector mode
sets large type). Picking a preset rebuilds the model and moves the sliders to
the preset's values.

Serve it with ``vcm-sim demo`` or ``solara run vcm_sim.app.page``.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable
from typing import Any

import ipyvue
import numpy as np
import pandas as pd
import solara
import solara.lab
from mesa.visualization.solara_viz import ModelController, ModelCreator
from mesa.visualization.utils import force_update, update_counter

from vcm_sim.app.charts import (AVERAGE_MONTHS, CHARTS, GHOST_OPACITY, Chart, Events, Key,
                                 Look, legend, with_columns)
from vcm_sim.app.live_chart import LiveChart
from vcm_sim.app.page_model import PageModel
from vcm_sim.app.settings import (CONTROLS, PageSettings, describe, page_presets,
                                  pending_changes)
from vcm_sim.scenario import load_scenario

TITLE = "Voluntary carbon market: nature-based credits"
PLAY_INTERVAL_MS = 500
"""Pause between steps while playing: about two months a second, a year in six seconds, a
pace a class can follow (a step and its page update take a few milliseconds)."""
EVENT_LOG_ENTRIES = 4
"""Events the status bar lists (the latest); earlier ones are counted."""

PAGE_CSS = """
/* Show every slider's value, not only while dragging: instructors read them out. */
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label { transform: translateY(-20%) translateY(-12px) translateX(-50%)
                         rotate(45deg) scale(0.8) !important; }
.v-input__slider { margin-top: 14px; }
/* The status bar and every chart on one screen: the main area is the window's height less
   the app bar, and the charts share what the status bar leaves, in two rows of three
   columns, the price chart two columns wide. Narrower (a small window with the sidebar
   open), two columns of fixed height scroll in the main area, the page's one scroll area. */
.vcm-main { height: calc(100vh - 64px - 48px); display: flex; flex-direction: column;
            gap: 8px; min-height: 480px; container-type: inline-size; overflow-y: auto; }
.vcm-charts { flex: 1 1 0; min-height: 0; display: grid; gap: 8px;
              grid-template-columns: repeat(3, minmax(0, 1fr));
              grid-template-rows: repeat(2, minmax(0, 1fr)); }
.vcm-chart-price { grid-column: span 2; }
@container (max-width: 760px) {
  .vcm-charts { flex: none; grid-template-columns: repeat(2, minmax(0, 1fr));
                grid-template-rows: none; grid-auto-rows: 300px; }
}
.vcm-chart { display: flex; flex-direction: column; min-height: 0; padding: 6px 8px; }
.vcm-chart-body { flex: 1 1 0; min-height: 0; }
.vcm-status { line-height: 1.35; }
.vcm-chart-title { font-size: 14px; font-weight: 600; line-height: 1.25; }
.vcm-legend { font-size: 13px; line-height: 1.3; color: #333; }
.vcm-legend-entry { display: inline-flex; align-items: center; gap: 4px; margin-right: 10px; }
.vcm-swatch { display: inline-block; }
/* Projector mode: large type, two columns of tall charts, the main area scrolls. */
.vcm-projector .vcm-status { font-size: 19px; }
.vcm-projector .vcm-chart-title { font-size: 20px; }
.vcm-projector .vcm-legend { font-size: 18px; }
.vcm-projector .vcm-charts { flex: none; grid-template-columns: repeat(2, minmax(0, 1fr));
                             grid-template-rows: none; grid-auto-rows: 360px; }
"""

EVENT_BUTTONS = (
    ("scandal", "Media scandal", "error"),
    ("wildfire", "Wildfire season", "warning"),
    ("suspend_issuance", "Suspend issuance", "secondary"),
    ("resume_issuance", "Resume issuance", "success"),
)
"""Event kind, button label and colour."""


def model_params(settings: PageSettings) -> dict:
    """Mesa ``model_params`` for the controls, starting at ``settings``' values."""
    params: dict = {"preset": settings.preset}
    values = settings.values()
    for control in CONTROLS:
        if control.kind == "bool":
            params[control.name] = {"type": "Checkbox", "label": control.label,
                                    "value": bool(values[control.name])}
        else:
            params[control.name] = {
                "type": "SliderFloat" if control.kind == "float" else "SliderInt",
                "label": control.label, "value": values[control.name],
                "min": control.low, "max": control.high, "step": control.step}
    return params


@solara.component
def ChartCard(model: solara.Reactive[PageModel], chart: Chart, look: Look,
              marks: tuple[tuple[int, str], ...], ghost: bool, widgets: dict[str, LiveChart]):
    """One chart: its title with units (the sentence of explanation shows on hover), its
    legend and the chart, drawn in the browser. It renders again only when the model, the
    type size or the events marked change: :func:`feed` sends each month's data.

    This component and those below it take the page's model as the reactive variable, not
    its value: Solara keeps a component's first arguments for as long as it is mounted, so
    a model passed as a value would outlive every Reset."""
    current = model.value
    option = solara.use_memo(
        lambda: chart.option(look, events=Events(marks), holdings=current.holdings_now(),
                             ghost=ghost, bands=current.market.segments.on),
        [id(current), marks, look, ghost])
    keys = solara.use_memo(lambda: legend(option), [option])
    with solara.Div(classes=["vcm-chart", f"vcm-chart-{chart.key}", "elevation-2", "rounded",
                             "white"]):
        solara.v.Html(tag="div", children=[chart.title], class_="vcm-chart-title",
                      attributes={"title": chart.explanation})
        Legend(keys)
        with solara.Div(classes=["vcm-chart-body"]):
            ChartView(model, chart, option, ghost, widgets)


SWATCH_CSS = {
    "line": "border-top: 3px solid {c}; width: 18px",
    "faded": f"border-top: 5px solid {{c}}; width: 18px; opacity: {GHOST_OPACITY}",
    "dashed": "border-top: 3px dashed {c}; width: 18px",
    "dotted": "border-left: 3px dotted {c}; height: 1em",
    "dot": "background: {c}; width: 8px; height: 8px; border-radius: 50%",
    "bar": "background: {c}; width: 12px; height: 10px",
}
"""How each kind of legend mark is drawn (CSS, ``{c}`` the colour)."""


@solara.component
def Legend(keys: list[Key]):
    """A chart's legend as text that wraps: a swatch and a name per entry."""
    entries = [solara.v.Html(tag="span", class_="vcm-legend-entry", children=[
        solara.v.Html(tag="span", class_="vcm-swatch",
                      style_=SWATCH_CSS[key.mark].format(c=key.colour)),
        key.name]) for key in keys]
    return solara.v.Html(tag="div", class_="vcm-legend", children=entries)


@solara.component
def ChartView(model: solara.Reactive[PageModel], chart: Chart, option: dict, ghost: bool,
              widgets: dict[str, LiveChart]):
    """The chart's widget, listed in ``widgets`` for :func:`feed` and sent the model's
    months so far when it mounts or the model changes. The page holds the widget itself:
    :func:`feed` changes it between renders, which a widget rendered from props would undo
    at the next render."""
    widget = solara.use_memo(lambda: LiveChart(option=option), [])

    def register() -> None:
        widgets[chart.key] = widget
        widget.option = option
        if chart.points is not None:
            results, twin, run = page_data(model.value, ghost)
            widget.show(chart.points(results, twin), run)

    solara.use_effect(register, [id(model.value), option])
    return solara.v.Html(tag="div", children=[widget], style_="height: 100%")


def page_data(model: PageModel, ghost: bool
              ) -> tuple[pd.DataFrame, pd.DataFrame | None, tuple[PageModel, bool]]:
    """The results the charts draw now, the what-if twin's (where ``ghost`` and the twin
    exists) and the token of the run they belong to, for :meth:`LiveChart.show`."""
    twin = model.ghost_results_now() if ghost else None
    bands = model.market.segments.on
    return (with_columns(model.results_now(), bands),
            None if twin is None else with_columns(twin, bands), (model, twin is not None))


def feed(model: PageModel, widgets: dict[str, LiveChart], texts: dict[str, tuple[Any, Any]],
         look: Look, ghost: bool, marks: solara.Reactive[tuple[tuple[int, str], ...]]) -> None:
    """After each step Mesa's controller shows (each month, or each Render Interval), bring
    the page up to date without rendering its components again: each chart gets the months
    added since it was last sent (:meth:`LiveChart.show`), the holdings chart its new bars,
    each of ``texts`` (widget, ``text(model)``) its new text; a new event (fired by hand or
    scheduled) updates ``marks``, which redraws the charts' markers and legends."""
    now = tuple(model.event_marks())
    if now != marks.value:
        marks.set(now)
    for widget, text in list(texts.values()):
        widget.children = [text(model)]
    results, twin, run = page_data(model, ghost)
    for chart in CHARTS:
        widget = widgets.get(chart.key)
        if widget is None:
            continue
        if chart.points is None:
            widget.option = chart.option(look, events=Events(now), holdings=model.holdings_now())
        else:
            widget.show(chart.points(results, twin), run)


def month_label(model: PageModel) -> str:
    """'Month 14 of 240 · February 2026': months run so far and the last one's date (and, at
    the scenario's last month, that it is the end)."""
    scenario = model.page_scenario
    done = model.steps
    if not done:
        return f"Month 0 of {scenario.steps} · starts January {scenario.start_year}"
    last = done - 1
    label = (f"Month {done} of {scenario.steps} · "
             f"{calendar.month_name[last % 12 + 1]} {scenario.start_year + last // 12}")
    return label + (" · the end: Reset runs it again" if done >= scenario.steps else "")


def latest_numbers(model: PageModel) -> str:
    """The latest price and volume, each with its average over the last twelve months (one
    month is noise: an instructor compares runs on the averages), and the integrity
    figures, in words."""
    results = with_columns(model.results_now())
    if not len(results):
        return "No data yet."
    last = results.iloc[-1]
    traded = results["price_usd"].dropna()
    price = f"USD {traded.iloc[-1]:.2f}/t" if len(traded) else "no trade yet"
    average = average_price(results)
    if np.isfinite(average):
        price += f" (12-month average {average:.2f})"

    def share(value) -> str:
        return "n/a" if value is None or np.isnan(value) else f"{value:.2f}"

    return (f"Last price {price} · traded this month {int(np.nan_to_num(last['volume'])):,} "
            f"(12-month average {average_volume(results):,.0f}) · greenwashing index "
            f"{share(last['greenwashing_index'])} · integrity ratio "
            f"{share(last['integrity_ratio'])}")


def what_if(model: PageModel) -> str:
    """The what-if comparison in one line: the twin's 12-month average price and
    greenwashing index against this run's (:meth:`PageModel.compare_with`), or nothing
    without a twin."""
    twin = model.ghost_results_now()
    if twin is None or not len(twin):
        return ""
    changed = ("your events and rule changes" if model.ghost_settings != model.page_settings
               else "your events")
    (price, index), (my_price, my_index) = (twin_figures(with_columns(twin)),
                                            twin_figures(with_columns(model.results_now())))
    if not np.isfinite([price, my_price]).all():
        return f"Without {changed} (faded lines): no trade yet to compare."
    text = (f"Without {changed} (faded lines): 12-month average price USD {price:.2f} "
            f"(here {my_price:.2f})")
    if np.isfinite([index, my_index]).all():
        text += f", greenwashing index {index:.2f} (here {my_index:.2f})"
    return text + "."


def average_price(results) -> float:
    """The volume-weighted average price over the last twelve months (USD/t; NaN without
    trade)."""
    year = results.iloc[-AVERAGE_MONTHS:]
    volume = year["volume"].fillna(0)
    if volume.sum() <= 0:
        return math.nan
    return float((year["price_usd"].fillna(0) * volume).sum() / volume.sum())


def average_volume(results) -> float:
    """Credits traded a month, averaged over the last twelve months (months without trade
    count 0)."""
    return float(results["volume"].iloc[-AVERAGE_MONTHS:].fillna(0).mean())


def twin_figures(results) -> tuple[float, float]:
    """A run's 12-month average price (USD/t) and latest greenwashing index (NaN where there
    is none)."""
    index = results["greenwashing_index"].dropna()
    return average_price(results), float(index.iloc[-1]) if len(index) else math.nan


def events_so_far(model: PageModel) -> str:
    """The model's :func:`event_log`."""
    return event_log(model.event_marks())


def event_log(marks: list[tuple[int, str]]) -> str:
    """The events so far in one line: the last :data:`EVENT_LOG_ENTRIES`, with a count of
    the earlier ones, so the log never pushes the charts down."""
    if not marks:
        return "Events so far: none."
    shown = marks[-EVENT_LOG_ENTRIES:]
    text = "; ".join(f"{kind.replace('_', ' ')} after month {step}" for step, kind in shown)
    earlier = len(marks) - len(shown)
    return f"Events so far ({len(marks)}): {'… ' if earlier else ''}{text}."


@solara.component
def StatusBar(model: solara.Reactive[PageModel], params: solara.Reactive[dict],
              texts: dict[str, tuple[Any, Callable[[PageModel], str]]]):
    """Where the run is, which rules are in force (and the moved controls that are not yet),
    and the classroom event buttons. Its figures (:func:`LiveText`) are renewed by
    :func:`feed`: nothing renders again as months pass, so a classroom of tabs playing
    costs the server little."""
    current = model.value
    pending = pending_changes(params.value, current.page_settings)

    def fire(kind: str) -> None:
        # The model at the click, not at this render: Solara keeps the first render's
        # callbacks, which would otherwise keep that model alive.
        if model.value.trigger(kind):
            force_update()  # the charts' markers and the event log

    with solara.Div(classes=["vcm-status", "elevation-2", "rounded", "white", "px-3", "py-2"]):
        with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap"}):
            LiveText(model, month_label, "vcm-month", "font-size: 1.25em; font-weight: 600",
                     texts)
            solara.Text(f"preset: {current.page_settings.preset}", classes=["vcm-preset"])
        solara.Text(f"In force: {describe(current.market.config)}", classes=["vcm-in-force"],
                    style={"display": "block", "font-size": "0.9em"})
        if pending:
            solara.Text(f"Not in force until you press Reset: {'; '.join(pending)}",
                        classes=["vcm-pending"],
                        style={"display": "block", "font-size": "0.9em", "color": "#b45309",
                               "font-weight": "600"})
        LiveText(model, latest_numbers, "vcm-latest", "display: block; font-size: 0.9em",
                 texts)
        LiveText(model, what_if, "vcm-what-if", "display: block; font-size: 0.9em", texts)
        with solara.Row(style={"flex-wrap": "wrap", "margin-top": "4px",
                               "align-items": "center"}):
            for kind, label, colour in EVENT_BUTTONS:
                solara.Button(label, color=colour, small=True, classes=[f"vcm-event-{kind}"],
                              on_click=lambda kind=kind: fire(kind))
            LiveText(model, events_so_far, "vcm-event-log", "font-size: 0.9em", texts)


@solara.component
def LiveText(model: solara.Reactive[PageModel], text: Callable[[PageModel], str],
             css_class: str, style: str,
             texts: dict[str, tuple[Any, Callable[[PageModel], str]]]):
    """``text(model)`` in a span of class ``css_class``, listed in ``texts`` so that
    :func:`feed` renews it after every step (the page holds the span's widget, as
    :func:`ChartView` does its chart's)."""
    widget = solara.use_memo(lambda: ipyvue.Html(tag="span", class_=css_class, style_=style,
                                                 children=[text(model.value)]), [])

    def register() -> None:
        texts[css_class] = (widget, text)
        widget.children = [text(model.value)]

    solara.use_effect(register, [id(model.value)])
    return solara.v.Html(tag="span", children=[widget])


@solara.component
def ScenarioPicker(preset: str, on_preset):
    """The preset selector, with the preset's one-line description."""
    with solara.Card("Scenario", margin=0):
        solara.Select("Preset", values=page_presets(), value=preset, on_value=on_preset,
                      classes=["vcm-preset-select"])
        solara.Text(load_scenario(preset).description,
                    style={"display": "block", "font-size": "0.85em"})
        solara.Text("The sliders below start at the preset's values; move them, then press "
                    "Reset to apply. The status bar shows the rules in force.",
                    style={"display": "block", "font-size": "0.8em", "color": "#666",
                           "margin-top": "4px"})


@solara.component
def MesaControls(model: solara.Reactive[PageModel], params: solara.Reactive[dict]):
    """Mesa's controls card, as ``SolaraViz`` lays it out: play speed, Reset, ▶/❚❚, Step.

    Without Mesa's *Use Threads* box. Play already steps the model in a worker thread; the
    box adds a second one that updates the page, under a line tracer (Solara's cancellable
    thread), and so cost the server two to three times the CPU per tab (5.1-5.9% against
    1.8-2.8% of a core, four tabs at two months a second) for no faster play (measured for
    issue 17)."""
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)  # Mesa reads it as a reactive variable
    with solara.Card("Controls", margin=0):
        solara.SliderInt(label="Play Interval (ms)", value=play_interval, min=0, max=500,
                         step=10)
        solara.SliderInt(label="Render Interval (steps)", value=render_interval, min=1,
                         max=120, step=1)
        ModelController(model, model_parameters=params, play_interval=play_interval,
                        render_interval=render_interval, use_threads=use_threads)


def first_model() -> PageModel:
    """The model a new tab opens on: the baseline preset as it comes."""
    return PageModel.from_settings(PageSettings.from_preset("baseline"))


@solara.component
def Page():
    """The whole page: Mesa's ``SolaraViz`` layout with a scenario picker and event buttons.

    It is assembled from SolaraViz's own parts (``ModelController``, ``ModelCreator``) and a
    grid of five charts that fits the window (Mesa's ``ComponentsView`` added a "PAGE 0" tab
    and resize handles nobody needs in class) rather than by calling ``SolaraViz``, because the page
    must own the parameters that *Reset* uses: picking a preset replaces them and remounts the
    sliders with the preset's values. ``SolaraViz`` keeps them private, and its sidebar lives
    in a portal that a remount of ``SolaraViz`` does not refresh.
    """
    preset = solara.use_reactive("baseline")
    # ``use_reactive(first)`` would keep its argument for as long as the tab is open, and the
    # first run's whole record with it: it starts empty and gets the first model here.
    model = solara.use_reactive(None)
    if model.value is None:
        model.value = first_model()
    params = solara.use_reactive(solara.use_memo(
        lambda: model_params(PageSettings.from_preset("baseline")), []))
    rule_inputs = solara.use_memo(
        lambda: model_params(PageSettings.from_preset(preset.value)), [preset.value])
    # When the tab goes (Solara closes its kernel), stop whatever model the page holds then:
    # Mesa's play loop would otherwise step it for as long as the server runs.
    solara.use_effect(lambda: lambda: model.value.close(), [])
    projector = solara.use_reactive(False)
    compare = solara.use_reactive(False)
    look = Look(projector=projector.value)
    marks = solara.use_reactive(())
    widgets = solara.use_memo(dict, [])
    texts = solara.use_memo(dict, [])
    # Mesa's controller bumps update_counter after the steps it shows: feed the page then.
    solara.use_effect(lambda: update_counter.subscribe(
        lambda _: feed(model.value, widgets, texts, look, compare.value, marks)),
        [look, compare.value])

    def twin() -> None:
        settings = model.value.page_settings
        model.value.compare_with(PageSettings.from_preset(settings.preset, seed=settings.seed)
                                 if compare.value else None)
        feed(model.value, widgets, texts, look, compare.value, marks)

    solara.use_effect(twin, [id(model.value), compare.value])

    def choose(name: str) -> None:
        if name and name != preset.value:
            settings = PageSettings.from_preset(name)
            params.value = model_params(settings)
            model.value = PageModel.from_settings(settings)
            preset.value = name
            force_update()

    solara.Style(PAGE_CSS)
    # Light whatever the system prefers: the charts are drawn on white, and dark mode left
    # grey text on dark cards around white chart boxes.
    solara.lab.theme.dark = False
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column():
        ScenarioPicker(preset.value, choose)
        MesaControls(model, params)
        solara.Checkbox(label="Projector mode (large type)", value=projector)
        solara.Checkbox(label="What if: compare with the preset as it comes", value=compare)
        with solara.Card("Rules and population", margin=0):
            # Keyed by preset: a new preset remounts the sliders at the preset's values.
            ModelCreator(model, rule_inputs, model_parameters=params).key(
                f"rules-{preset.value}")
    with solara.Div(classes=["vcm-main", *(["vcm-projector"] if look.projector else [])]):
        StatusBar(model, params, texts)
        with solara.Div(classes=["vcm-charts"]):
            for chart in CHARTS:
                ChartCard(model, chart, look, marks.value, compare.value, widgets)


page = Page
