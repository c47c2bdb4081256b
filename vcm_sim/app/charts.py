"""The page's charts, drawn in the browser by ECharts from the model's recorded data.

Each :class:`Chart` has a title with units and one sentence a student can read. Its
``option`` is the ECharts option without the time series' data (axes, series names and
colours, event markers, type sized by a :class:`Look`; a label ``formatter`` of ``"si"``
writes 2.5M for 2,500,000 in the browser); its ``points`` turn the model's
per-step results (``VCMModel.results()``) into each series' ``[month, value]`` points, which
the page sends to the browser a month at a time (:mod:`vcm_sim.app.live_chart`). The holdings
chart is a snapshot: its few bars are in its option. No Solara here.

ECharts rather than Vega-Lite or Plotly: solara-assets bundles ECharts 5.4 (so the page stays
offline), an ECharts chart takes new points into the option it has (no new specification to
compile each month), and its option is plain JSON the tests can read back from the browser.
The Vega-Lite bundled there (5.2) is older than the specifications Altair 6 writes, and Plotly
is not bundled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import to_hex

from vcm_sim import palette
from vcm_sim.registry import BUFFER

VOLATILITY_WINDOW = 12
"""Months of log returns in the moving volatility."""
AVERAGE_MONTHS = 12
"""Months of the volume chart's moving average."""


HOLDER_LABELS = {
    "developer": "Developers (unsold)",
    "firm": "Firms (not yet retired)",
    "trader": "Traders",
    BUFFER: "Buffer pool",
}
"""Display names of registry account kinds (the account name's prefix)."""


@dataclass(frozen=True)
class Events:
    """Events to mark on time charts: ``(step, kind)`` pairs."""

    marks: tuple[tuple[int, str], ...] = ()


def moving_volatility(price: pd.Series, window: int = VOLATILITY_WINDOW) -> pd.Series:
    """Annualised volatility (share) of monthly log returns over the last ``window`` months.

    Months without a trade (NaN price) break the return chain: no return is computed across
    a gap. At least half a window of returns is needed before a value is shown.
    """
    returns = np.log(price.astype(float)).diff()
    return returns.rolling(window, min_periods=max(2, window // 2)).std() * math.sqrt(12)


def holdings_by_holder(registry) -> dict[str, int]:
    """Credits held now by each kind of account, plus retired and cancelled ever (credits).

    Kinds come from account names (``firm-3`` is a firm); the buffer pool is its own kind.
    """
    held: dict[str, int] = {label: 0 for label in HOLDER_LABELS.values()}
    for name in registry.accounts:
        balance = int(registry.balance(name))
        if balance:
            label = HOLDER_LABELS.get(name.split("-", 1)[0], "Others")
            held[label] = held.get(label, 0) + balance
    totals = registry.totals()
    held["Retired (claimed)"] = int(totals["retired"])
    held["Cancelled"] = int(totals["cancelled"])
    return held


RESULT_COLUMNS = ("step", "price_usd", "volume", "issued", "retired", "cancelled", "buffer",
                  "active", "greenwashing_index", "integrity_ratio")


def with_columns(results: pd.DataFrame, bands: bool = False) -> pd.DataFrame:
    """``results`` with every column the charts read (missing ones as NaN) and
    ``attrs["bands"]``: whether the price chart draws the rating bands (quality books)."""
    columns = [*RESULT_COLUMNS, *(column for column, _, _ in palette.BANDS)]
    if results.empty:
        out = pd.DataFrame({c: pd.Series(dtype=float)
                            for c in dict.fromkeys([*results.columns, *columns])})
    else:
        missing = [c for c in columns if c not in results]
        out = results.assign(**{c: np.nan for c in missing}) if missing else results.copy(
            deep=False)
    out.attrs["bands"] = bands
    return out


@dataclass(frozen=True)
class Look:
    """Type sizes of the charts (CSS px): legible on a laptop, or from the back of a room
    (``projector``)."""

    projector: bool = False

    @property
    def font_px(self) -> int:
        """Ticks, axis names and legends."""
        return 18 if self.projector else 13

    @property
    def line_px(self) -> float:
        """Width of the main lines."""
        return 3.0 if self.projector else 2.0


Points = list[list[list[float | None]]]
"""Per series, its ``[month, value]`` points (``None`` where there is no value)."""


def months(results: pd.DataFrame) -> pd.Series:
    """The x axis: month number (1 = the first month run), from the zero-based ``step``."""
    return results["step"] + 1


def series_points(x: pd.Series, *columns: pd.Series) -> Points:
    """``[[x, y], ...]`` for each of ``columns`` (NaN and infinities as ``None``)."""
    xs = x.astype(float).tolist()
    out = []
    for column in columns:
        values = np.asarray(column, dtype=float)
        ys = np.where(np.isfinite(values), values, np.nan).tolist()
        out.append([[m, None if y != y else y] for m, y in zip(xs, ys)])
    return out


def css(colour: str) -> str:
    """A palette colour (a matplotlib name) as the browser's hex."""
    return to_hex(colour)


def _axis_text(look: Look) -> dict[str, Any]:
    return {"fontSize": look.font_px, "color": "#333"}


def _time_option(look: Look, events: Events, y_axes: list[dict[str, Any]],
                 series: list[dict[str, Any]]) -> dict[str, Any]:
    """A month axis, ``y_axes`` (name, and whatever else), ``series`` and a dotted line
    between month ``step`` and ``step + 1`` for each event that first acted in zero-based
    month ``step``, on the first series."""
    text = _axis_text(look)
    marks = [{"xAxis": step + 0.5, "name": palette.EVENTS.get(kind, ("", kind))[1],
              "lineStyle": {"color": css(palette.EVENTS.get(kind, (palette.VOLATILITY[0],))[0]),
                            "type": "dotted", "width": look.line_px}}
             for step, kind in events.marks]
    if series:
        series[0] = series[0] | {"markLine": {"symbol": "none", "silent": True, "data": marks,
                                              "label": {"formatter": "{b}", "fontSize":
                                                        look.font_px, "position": "end"},
                                              "animation": False}}
    return {
        "animation": False,
        "vcmEmpty": WAITING,
        "textStyle": text,
        "grid": {"left": 8, "right": 12, "top": 12 + look.font_px,
                 "bottom": 16 + look.font_px, "containLabel": True},
        "legend": {"show": False},  # the page draws it above the chart: see legend()
        "tooltip": {"trigger": "axis", "textStyle": text},
        "xAxis": {"type": "value", "name": "month", "nameLocation": "middle",
                  "nameGap": look.font_px + 8, "min": 0, "max": "dataMax", "minInterval": 1,
                  "axisLabel": text, "nameTextStyle": text, "splitLine": {"show": False}},
        "yAxis": [{"type": "value", "min": 0, "nameLocation": "end",
                   "nameTextStyle": text | {"align": "left" if i == 0 else "right"},
                   "axisLabel": text | {"formatter": "si"}} | axis
                  for i, axis in enumerate(y_axes)],
        "series": series,
    }


def _line(name: str, colour: str, look: Look, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "line", "showSymbol": False, "color": css(colour),
            "lineStyle": {"width": look.line_px}, "connectNulls": False} | extra


WAITING = "press Step or ▶ to run the market"
"""What a chart over time says before its first month (``vcmEmpty``: see live_chart.vue)."""
GHOST = "without your changes"
"""The what-if twin's series: the same run without the events fired and rules changed."""
GHOST_OPACITY = 0.35


def _ghost(name: str, colour: str, look: Look) -> dict[str, Any]:
    """A faded line for the what-if twin's ``name`` series."""
    return _line(f"{name}, {GHOST}", colour, look, lineStyle={"width": look.line_px * 1.5,
                                                              "opacity": GHOST_OPACITY})


def price_option(look: Look, events: Events, ghost: bool = False, bands: bool = False,
                 **_: Any) -> dict[str, Any]:
    """Price (USD/tCO2e): the month's average (dots) and the fixed-weight index, the index's
    moving annualised volatility (%, right axis), with quality books (``bands``) the
    average price of each rating band (:data:`vcm_sim.palette.BANDS`, dotted) and, with a
    what-if ``ghost``, its index."""
    series = [
        {"name": palette.PRICE[1], "type": "scatter", "symbolSize": look.font_px * 0.45,
         "color": css(palette.PRICE[0])},
        _line(palette.PRICE_INDEX[1], palette.PRICE_INDEX[0], look),
        _line(f"{palette.VOLATILITY[1]} (right axis)", palette.VOLATILITY[0], look,
              yAxisIndex=1, lineStyle={"width": look.line_px * 0.7, "type": "dashed"}),
    ]
    if bands:
        series += [_line(label, colour, look, lineStyle={"width": look.line_px * 0.8})
                   for _, label, colour in palette.BANDS]
    if ghost:
        series.append(_ghost("price index", palette.PRICE_INDEX[0], look))
    return _time_option(look, events, [{"name": "USD per tCO2e"},
                                       {"name": "% per year", "splitLine": {"show": False}}],
                        series)


def _index(results: pd.DataFrame) -> pd.Series:
    """The fixed-weight price index (the average price where the results have none)."""
    return results["price_index_usd"] if "price_index_usd" in results else results["price_usd"]


def price_points(results: pd.DataFrame, ghost: pd.DataFrame | None = None) -> Points:
    """Average price, index and the index's moving volatility (%); with quality books
    (``results.attrs["bands"]``, see :func:`with_columns`) the price of each rating band;
    with a what-if ``ghost``'s results, its index."""
    index = _index(results)
    points = series_points(months(results), results["price_usd"], index,
                           moving_volatility(index) * 100)
    if results.attrs.get("bands"):
        points += series_points(months(results),
                                *(results[column] for column, _, _ in palette.BANDS))
    if ghost is not None:
        points += series_points(months(ghost), _index(ghost))
    return points


def volume_option(look: Look, events: Events, **_: Any) -> dict[str, Any]:
    """Credits traded each month (bars) and their 12-month average (line)."""
    series = [{"name": palette.VOLUME[1], "type": "bar", "color": css(palette.VOLUME[0]),
               "barCategoryGap": "10%"},
              _line(f"{AVERAGE_MONTHS}-month average", "black", look)]
    return _time_option(look, events, [{"name": "credits"}], series)


def volume_points(results: pd.DataFrame, ghost: pd.DataFrame | None = None) -> Points:
    """Monthly volume and its trailing 12-month average (months without trade count 0; the
    what-if twin is not drawn here)."""
    volume = results["volume"].fillna(0.0)
    return series_points(months(results), volume,
                         volume.rolling(AVERAGE_MONTHS, min_periods=1).mean())


def stocks_option(look: Look, events: Events, **_: Any) -> dict[str, Any]:
    """Issued, active, retired, buffer and cancelled stocks (credits)."""
    series = [_line(label, colour, look) for _, label, colour in palette.STOCKS]
    return _time_option(look, events, [{"name": "credits"}], series)


def stocks_points(results: pd.DataFrame, ghost: pd.DataFrame | None = None) -> Points:
    """One series per registry stock in :data:`vcm_sim.palette.STOCKS` (the what-if twin is
    not drawn here)."""
    return series_points(months(results),
                         *(results[column] for column, _, _ in palette.STOCKS))


def integrity_option(look: Look, events: Events, ghost: bool = False,
                     **_: Any) -> dict[str, Any]:
    """Greenwashing index and integrity ratio (both 0-1) and, with a what-if ``ghost``, its
    greenwashing index."""
    series = [_line(label, colour, look)
              for colour, label in (palette.GREENWASHING, palette.INTEGRITY)]
    if ghost:
        series.append(_ghost(palette.GREENWASHING[1], palette.GREENWASHING[0], look))
    return _time_option(look, events, [{"name": "share (0-1)", "max": 1}], series)


def integrity_points(results: pd.DataFrame, ghost: pd.DataFrame | None = None) -> Points:
    """Greenwashing index and integrity ratio; with a what-if ``ghost``'s results, its
    greenwashing index."""
    points = series_points(months(results), results["greenwashing_index"],
                           results["integrity_ratio"])
    if ghost is not None:
        points += series_points(months(ghost), ghost["greenwashing_index"])
    return points


def holdings_option(look: Look, events: Events = Events(),
                    holdings: Mapping[str, int] | None = None, **_: Any) -> dict[str, Any]:
    """Credits by holder now, with retired and cancelled (credits), as bars."""
    held = dict(holdings or {})
    labels = list(held)[::-1]
    text = _axis_text(look)
    bars = [{"value": held[label],
             "itemStyle": {"color": "#9e9e9e" if label.startswith(("Retired", "Cancelled"))
                           else css("tab:blue")}} for label in labels]
    return {
        "animation": False,
        "textStyle": text,
        "grid": {"left": 8, "right": 16 + 3 * look.font_px, "top": 8,
                 "bottom": 10 + look.font_px, "containLabel": True},
        "tooltip": {"trigger": "item", "textStyle": text},
        "xAxis": {"type": "value", "name": "credits (tCO2e)", "nameLocation": "middle",
                  "nameGap": 8, "axisLabel": {"show": False}, "nameTextStyle": text,
                  "splitLine": {"show": False}},
        "yAxis": {"type": "category", "data": labels, "axisLabel": text},
        "series": [{"name": "credits", "type": "bar", "data": bars,
                    "label": {"show": True, "position": "right", "fontSize": look.font_px,
                              "formatter": "si"}}],
    }


@dataclass(frozen=True)
class Key:
    """One entry of a chart's legend: a series' or an event marker's name, colour (CSS) and
    mark: 'line', 'faded' (the what-if twin), 'dashed', 'dotted' (an event), 'dot' or
    'bar'."""

    name: str
    colour: str
    mark: str


def legend(option: dict[str, Any]) -> list[Key]:
    """The legend of a chart from its ECharts ``option``: its series, then each kind of
    event marked on it. Drawn by the page as text, so that it wraps instead of covering the
    plot, whatever the chart's width."""
    keys = []
    for series in option.get("series", []):
        if series.get("type") == "bar" and "data" in series:
            continue  # a snapshot's bars are labelled on their axis
        style = series.get("lineStyle", {})
        line = ("faded" if "opacity" in style else
                "dashed" if style.get("type") == "dashed" else "line")
        mark = {"scatter": "dot", "bar": "bar"}.get(series["type"], line)
        keys.append(Key(series["name"], series["color"], mark))
    seen = set()
    for series in option.get("series", []):
        for line in series.get("markLine", {}).get("data", []):
            if line["name"] not in seen:
                seen.add(line["name"])
                keys.append(Key(line["name"], line["lineStyle"]["color"], "dotted"))
    return keys


@dataclass(frozen=True)
class Chart:
    """One chart on the page: its option (:class:`Look` and events in, an ECharts option
    out) and, for a chart over time, the points of its series."""

    key: str
    title: str
    explanation: str
    option: Callable[..., dict[str, Any]]
    points: Callable[[pd.DataFrame, pd.DataFrame | None], Points] | None = None
    """The points of the option's series from the results and, for a chart that draws the
    what-if twin (its option called with ``ghost=True``), the twin's results."""


CHARTS: tuple[Chart, ...] = (
    Chart("price", "Price (USD per tCO2e) and its volatility (% per year)",
          "Dots: the average price paid this month (none: nothing traded). Line: a price index "
          "that keeps the mix of project types fixed. Dashed: how much the index swings "
          "(12-month volatility). With ratings on the books: the average price of credits "
          "rated A or above, below A, and unrated.", price_option, price_points),
    Chart("volume", "Credits traded (credits per month)",
          "Bars: credits that changed hands this month. Line: the average of the last twelve "
          "months.", volume_option, volume_points),
    Chart("stocks", "Credit stocks (credits of 1 tCO2e)",
          "Every credit ever issued is still in circulation (active), insures against fires "
          "in the buffer pool, has been retired behind a claim, or was cancelled.",
          stocks_option, stocks_points),
    Chart("integrity", "Greenwashing and integrity (0-1)",
          "Integrity ratio: real tonnes of CO2 behind each retired credit (1 = all real). "
          "Greenwashing index: share of the tonnes firms claim that never happened.",
          integrity_option, integrity_points),
    Chart("holdings", "Who holds the credits now (credits)",
          "Developers hold what they have not sold, firms what they bought but not yet "
          "retired, the buffer pool the insurance reserve; grey bars have left the market.",
          holdings_option),
)
"""The charts on the page, in order."""
