"""The instructor's page: Mesa's ``SolaraViz`` layout with the market's charts and classroom
buttons.

Layout: the sidebar has the scenario picker, Mesa's controls (step, play/pause, reset, play
speed), the rule sliders and switches (Mesa's model parameters; *Reset* applies them) and
Mesa's step counter; the main area has a status bar (month, rules in force, latest numbers),
the event buttons and four charts. Picking a preset rebuilds the model and moves the sliders to
the preset's values.

Serve it with ``vcm-sim demo`` or ``solara run vcm_sim.app.page``.
"""

from __future__ import annotations

import calendar

import numpy as np
import reacton.ipywidgets as rw
import solara
import solara.lab
from mesa.visualization.solara_viz import ModelController, ModelCreator
from mesa.visualization.utils import force_update, update_counter

from vcm_sim.app.charts import CHARTS, Chart, Events, to_png, with_columns
from vcm_sim.app.page_model import PageModel
from vcm_sim.app.settings import (CONTROLS, PageSettings, describe, page_presets,
                                  pending_changes)
from vcm_sim.scenario import load_scenario

TITLE = "Voluntary carbon market: nature-based credits"
PLAY_INTERVAL_MS = 50
"""Pause between steps while playing; the model and the charts take longer than this."""
AVERAGE_MONTHS = 12
"""Months the status bar averages price and volume over."""
EVENT_LOG_ENTRIES = 4
"""Events the status bar lists (the latest); earlier ones are counted."""

PAGE_CSS = """
/* Show every slider's value, not only while dragging: instructors read them out. */
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label { transform: translateY(-20%) translateY(-12px) translateX(-50%)
                         rotate(45deg) scale(0.8) !important; }
.v-input__slider { margin-top: 14px; }
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
def ChartCard(model: PageModel, chart: Chart):
    """One chart: title with units, a sentence of explanation, the figure."""
    update_counter.get()  # Mesa bumps it after every step and on reset
    steps, n_events = model.steps, len(model.page_events)

    def draw() -> bytes:
        results = with_columns(model.results_now())
        holdings = model.holdings_now() if chart.key == "holdings" else None
        fig = chart.draw(results, events=Events(tuple(model.event_marks())), holdings=holdings)
        return to_png(fig)

    png = solara.use_memo(draw, [id(model), steps, n_events, chart.key])
    with solara.Card(classes=["vcm-chart", f"vcm-chart-{chart.key}"], margin=0,
                     style={"height": "100%", "overflow": "auto"}):
        solara.Text(chart.title, classes=["vcm-chart-title"],
                    style={"display": "block", "font-size": "1.05em", "font-weight": "600"})
        solara.Text(chart.explanation, style={"display": "block", "font-size": "0.85em",
                                              "color": "#555", "line-height": "1.3"})
        rw.Image(value=png, format="png", layout={"width": "100%", "height": "auto"})


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
    last, year = results.iloc[-1], results.iloc[-AVERAGE_MONTHS:]
    traded = results["price_usd"].dropna()
    volume = year["volume"].fillna(0)
    paid = (year["price_usd"].fillna(0) * volume).sum()
    price = f"USD {traded.iloc[-1]:.2f}/t" if len(traded) else "no trade yet"
    if volume.sum() > 0:
        price += f" (12-month average {paid / volume.sum():.2f})"

    def share(value) -> str:
        return "n/a" if value is None or np.isnan(value) else f"{value:.2f}"

    return (f"Last price {price} · traded this month {int(np.nan_to_num(last['volume'])):,} "
            f"(12-month average {volume.mean():,.0f}) · greenwashing index "
            f"{share(last['greenwashing_index'])} · integrity ratio "
            f"{share(last['integrity_ratio'])}")


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
def StatusBar(model: solara.Reactive[PageModel], params: solara.Reactive[dict]):
    """Where the run is, which rules are in force (and the moved controls that are not yet),
    and the classroom event buttons."""
    update_counter.get()  # re-render with the charts
    current = model.value
    pending = pending_changes(params.value, current.page_settings)

    def fire(kind: str) -> None:
        if current.trigger(kind):
            force_update()  # redraw the charts with the event's marker

    with solara.Card(margin=0, classes=["vcm-status"]):
        with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap"}):
            solara.Text(month_label(current), classes=["vcm-month"],
                        style={"font-size": "1.25em", "font-weight": "600"})
            solara.Text(f"preset: {current.page_settings.preset}", classes=["vcm-preset"])
        solara.Text(f"In force: {describe(current.market.config)}", classes=["vcm-in-force"],
                    style={"display": "block", "font-size": "0.9em"})
        if pending:
            solara.Text(f"Not in force until you press Reset: {'; '.join(pending)}",
                        classes=["vcm-pending"],
                        style={"display": "block", "font-size": "0.9em", "color": "#b45309",
                               "font-weight": "600"})
        solara.Text(latest_numbers(current), classes=["vcm-latest"],
                    style={"display": "block", "font-size": "0.9em"})
        with solara.Row(style={"flex-wrap": "wrap", "margin-top": "6px"}):
            for kind, label, colour in EVENT_BUTTONS:
                solara.Button(label, color=colour, classes=[f"vcm-event-{kind}"],
                              on_click=lambda kind=kind: fire(kind))
        solara.Text(event_log(current.event_marks()), classes=["vcm-event-log"],
                    style={"display": "block", "font-size": "0.85em"})


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
    """Mesa's controls card, as ``SolaraViz`` lays it out: play speed, Reset, ▶/❚❚, Step."""
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    with solara.Card("Controls", margin=0):
        solara.SliderInt(label="Play Interval (ms)", value=play_interval, min=0, max=500,
                         step=10)
        solara.SliderInt(label="Render Interval (steps)", value=render_interval, min=1,
                         max=120, step=1)
        solara.Checkbox(label="Use Threads", value=use_threads)
        ModelController(model, model_parameters=params, play_interval=play_interval,
                        render_interval=render_interval, use_threads=use_threads)


@solara.component
def Page():
    """The whole page: Mesa's ``SolaraViz`` layout with a scenario picker and event buttons.

    It is assembled from SolaraViz's own parts (``ModelController``, ``ModelCreator``) and a
    plain two-column grid of charts (Mesa's ``ComponentsView`` added a "PAGE 0" tab and
    resize handles nobody needs in class) rather than by calling ``SolaraViz``, because the page
    must own the parameters that *Reset* uses: picking a preset replaces them and remounts the
    sliders with the preset's values. ``SolaraViz`` keeps them private, and its sidebar lives
    in a portal that a remount of ``SolaraViz`` does not refresh.
    """
    preset = solara.use_reactive("baseline")
    first = solara.use_memo(lambda: PageModel.from_settings(PageSettings.from_preset("baseline")),
                            [])
    model = solara.use_reactive(first)
    params = solara.use_reactive(solara.use_memo(lambda: model_params(first.page_settings), []))
    rule_inputs = solara.use_memo(
        lambda: model_params(PageSettings.from_preset(preset.value)), [preset.value])
    # When the tab goes (Solara closes its kernel), stop whatever model the page holds then:
    # Mesa's play loop would otherwise step it for as long as the server runs.
    solara.use_effect(lambda: lambda: model.value.close(), [])

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
        with solara.Card("Rules and population", margin=0):
            # Keyed by preset: a new preset remounts the sliders at the preset's values.
            ModelCreator(model, rule_inputs, model_parameters=params).key(
                f"rules-{preset.value}")
    with solara.Column(style={"width": "100%"}):
        StatusBar(model, params)
        with solara.GridFixed(columns=2, align_items="stretch"):
            for chart in CHARTS:
                ChartCard(model.value, chart)


page = Page
