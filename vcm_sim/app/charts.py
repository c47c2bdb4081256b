"""The page's charts, drawn with matplotlib from the model's recorded data.

Each :class:`Chart` has a title with units and one sentence a student can read; its ``draw``
takes the model's per-step results (``VCMModel.results()``), the events to mark and, for the
holdings chart, who holds what now. Figures are built with :class:`matplotlib.figure.Figure`
(no pyplot state), so drawing from the play thread is safe. No Solara here.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, MaxNLocator

from vcm_sim import palette
from vcm_sim.registry import BUFFER

FIGSIZE_IN = (6.0, 3.3)
DPI = 100
VOLATILITY_WINDOW = 12
"""Months of log returns in the moving volatility."""


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


@dataclass(frozen=True)
class Chart:
    """One chart on the page."""

    key: str
    title: str
    explanation: str
    draw: Callable[..., Figure]


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


def with_columns(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with every column the charts read (missing ones as NaN)."""
    if results.empty:
        return pd.DataFrame({c: pd.Series(dtype=float)
                             for c in dict.fromkeys([*results.columns, *RESULT_COLUMNS])})
    missing = [c for c in RESULT_COLUMNS if c not in results]
    if not missing:
        return results
    return results.assign(**{c: np.nan for c in missing})


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _new_figure() -> tuple[Figure, object]:
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    return fig, fig.subplots()


def months(results: pd.DataFrame) -> pd.Series:
    """The x axis: month number (1 = the first month run), from the zero-based ``step``."""
    return results["step"] + 1


def _time_axis(ax, results: pd.DataFrame, events: Events) -> None:
    """Month axis with a dotted line between month ``step`` and ``step + 1`` for each event
    that first acted in zero-based month ``step``."""
    ax.set_xlabel("month")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    last = float(months(results).max()) if len(results) else 0.0
    marks = [step + 0.5 for step, _ in events.marks]
    ax.set_xlim(0, max([12.0, last + 0.5, *[m + 0.5 for m in marks]]))
    seen = set()
    for x, (_, kind) in zip(marks, events.marks):
        colour, label = palette.EVENTS.get(kind, (palette.VOLATILITY[0], kind))
        ax.axvline(x, color=colour, linestyle=":", linewidth=1.8,
                   label=None if label in seen else label)
        seen.add(label)
    ax.grid(alpha=0.3)


def _legend(fig: Figure, *axes) -> None:
    """One legend for all ``axes``, above the plot so it never hides a line."""
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    if handles:
        fig.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 4),
                   fontsize=7, frameon=False)


def _marker(results: pd.DataFrame) -> dict:
    """Dots while a line has too few points to be seen as a line."""
    return {"marker": "o", "markersize": 3} if len(results) < 3 else {}


def _top(values, floor: float, headroom: float = 1.15) -> float:
    """Upper axis limit: the largest finite value with some headroom, at least ``floor``."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return max(floor, float(finite.max()) * headroom) if finite.size else floor


def _waiting(ax, text: str = "press Step or ▶ to run the market") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def draw_price(results: pd.DataFrame, events: Events = Events(), **_) -> Figure:
    """Price (USD/tCO2e): the month's average and the fixed-weight index, and the index's
    moving annualised volatility (%).

    The volatility is measured on the fixed-weight price index when the results have one
    (as :func:`vcm_sim.metrics.summarise` does), else on the month's average price.
    """
    fig, ax = _new_figure()
    x = months(results)
    price = results["price_usd"]
    has_index = "price_index_usd" in results
    index = results["price_index_usd"] if has_index else price
    ax.plot(x, price, color=palette.PRICE[0], alpha=0.45, marker=".", markersize=4,
            linewidth=0.8, label=palette.PRICE[1])
    if has_index:
        ax.plot(x, index, color=palette.PRICE_INDEX[0], linewidth=1.8,
                label=palette.PRICE_INDEX[1], **_marker(results))
    ax.set_ylabel("USD per tCO2e")
    ax.set_ylim(0, _top(pd.concat([price, index]), 1.0))
    vol_ax = ax.twinx()
    volatility = moving_volatility(index) * 100
    vol_ax.plot(x, volatility, color=palette.VOLATILITY[0], linestyle="--", linewidth=1.2,
                label=f"{palette.VOLATILITY[1]} (right axis)")
    vol_ax.set_ylabel("volatility, % per year")
    vol_ax.set_ylim(0, _top(volatility, 10.0))
    _time_axis(ax, results, events)
    if not price.notna().any():
        _waiting(ax, "no trade yet: press Step or ▶" if len(results) else
                 "press Step or ▶ to run the market")
    _legend(fig, ax, vol_ax)
    return fig


def draw_stocks(results: pd.DataFrame, events: Events = Events(), **_) -> Figure:
    """Issued, active, retired, buffer and cancelled stocks (credits)."""
    fig, ax = _new_figure()
    for column, label, colour in palette.STOCKS:
        if column in results:
            ax.plot(months(results), results[column], label=label, color=colour,
                    linewidth=1.4, **_marker(results))
    ax.set_ylabel("credits (tCO2e)")
    ax.yaxis.set_major_formatter(EngFormatter())
    ax.set_ylim(0, _top(results["issued"], 1000.0, 1.1))
    _time_axis(ax, results, events)
    _legend(fig, ax)
    return fig


def draw_integrity(results: pd.DataFrame, events: Events = Events(), **_) -> Figure:
    """Greenwashing index and integrity ratio (both 0-1)."""
    fig, ax = _new_figure()
    for column, (colour, label) in (("greenwashing_index", palette.GREENWASHING),
                                    ("integrity_ratio", palette.INTEGRITY)):
        ax.plot(months(results), results[column], color=colour, linewidth=1.6, label=label,
                **_marker(results))
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share (0-1)")
    _time_axis(ax, results, events)
    if not results["integrity_ratio"].notna().any():
        _waiting(ax, "no credit retired yet")
    _legend(fig, ax)
    return fig


def draw_holdings(results: pd.DataFrame, holdings: Mapping[str, int] | None = None,
                  **_) -> Figure:
    """Credits by holder now, with retired and cancelled (credits)."""
    fig, ax = _new_figure()
    holdings = dict(holdings or {})
    labels = list(holdings)[::-1]
    values = [holdings[label] for label in labels]
    colours = ["0.6" if label.startswith(("Retired", "Cancelled")) else "tab:blue"
               for label in labels]
    bars = ax.barh(labels, values, color=colours)
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=7, padding=2)
    ax.xaxis.set_major_formatter(EngFormatter())
    ax.set_xlabel("credits (tCO2e)")
    ax.set_xlim(0, max(values + [1000]) * 1.2)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


CHARTS: tuple[Chart, ...] = (
    Chart("price", "Price of a credit (USD per tCO2e) and its volatility (% per year)",
          "Dots: the average price paid this month (none: nothing traded). Line: a price index "
          "that keeps the mix of project types fixed. Dashed: how much the index swings "
          "(12-month volatility).", draw_price),
    Chart("stocks", "Credit stocks (credits, 1 credit = 1 tCO2e claimed)",
          "Every credit ever issued is still in circulation (active), insures against fires "
          "in the buffer pool, has been retired behind a claim, or was cancelled.",
          draw_stocks),
    Chart("integrity", "Greenwashing index and integrity ratio (0-1)",
          "Integrity ratio: real tonnes of CO2 behind each retired credit (1 = all real). "
          "Greenwashing index: share of the tonnes firms claim that never happened.",
          draw_integrity),
    Chart("holdings", "Who holds the credits now (credits)",
          "Developers hold what they have not sold, firms what they bought but not yet "
          "retired, the buffer pool the insurance reserve; grey bars have left the market.",
          draw_holdings),
)
"""The charts on the page, in order."""
