"""Figures of a single run (the core never imports this module)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from vcm_sim import palette
from vcm_sim.ets.reporters import price_columns

LINES = ("-", "--", ":", "-.")
"""Line style of each market's curves (markets beyond four repeat them)."""


FIGSIZE_IN = (16.0, 9.0)
"""16:9, the shape of a slide."""


def plot_run(results: pd.DataFrame, title: str, markets: Sequence[str] = ("",)) -> Figure:
    """Price, credit stocks, integrity and volume over time for one run's per-step table, on
    a 16:9 grid, in the page's colours (:mod:`vcm_sim.palette`); with several ``markets``
    (their names, as in the columns ``<reporter>_<market>``) each market's curves in its own
    line style, and, when they are linked, the credits their buyers bought abroad."""
    months = results["step"]
    linked = f"bought_abroad_{markets[0]}" in results
    ets = {market: price_columns(results.columns, market) for market in markets}
    ets = {market: columns for market, columns in ets.items() if columns}
    panels = 4 + linked + bool(ets)
    fig = Figure(figsize=FIGSIZE_IN, layout="constrained")
    axes = fig.subplots(math.ceil(panels / 2), 2, sharex=True, squeeze=False).ravel()
    ax_price, ax_stock, ax_integrity, ax_volume = axes[:4]
    for k, market in enumerate(markets):
        def column(name: str) -> pd.Series:
            return results[f"{name}_{market}" if market else name]
        style, tag = LINES[k % len(LINES)], f"{market}: " if market else ""
        ax_price.plot(months, column("price_usd"), ".", ms=3, alpha=0.5,
                      color=palette.PRICE[0], label=f"{tag}{palette.PRICE[1]}")
        ax_price.plot(months, column("price_index_usd"), style, lw=2,
                      color=palette.PRICE_INDEX[0], label=f"{tag}{palette.PRICE_INDEX[1]}")
        for name, label, colour in palette.STOCKS:
            ax_stock.plot(months, column(name) / 1e6, style, color=colour, label=f"{tag}{label}")
        for name, (colour, label) in (("greenwashing_index", palette.GREENWASHING),
                                      ("integrity_ratio", palette.INTEGRITY)):
            ax_integrity.plot(months, column(name), style, color=colour, label=f"{tag}{label}")
        ax_volume.plot(months, column("volume") / 1e6, style, color=palette.VOLUME[0],
                       label=f"{tag}{palette.VOLUME[1]}")
        if linked:
            axes[4].plot(months, column("bought_abroad") / 1e6, style, color=palette.VOLUME[0],
                         label=f"{tag}bought abroad")
    _panel(ax_price, "Price (USD per tCO2e)", "upper right")
    _panel(ax_stock, "Registry stocks (million credits)", "upper left")
    ax_integrity.set_ylim(0, 1)
    _panel(ax_integrity, "Integrity of retired credits, hidden truth (0-1)", "upper right")
    _panel(ax_volume, "Credits traded (million per month)", "upper right")
    if linked:
        _panel(axes[4], "Bought in the linked markets (million credits, cumulative)",
               "upper left")
    if ets:
        _plot_ets(axes[panels - 1], months, results, ets)
    for ax in axes[panels:]:
        ax.set_visible(False)
    for ax in axes[max(panels - 2, 0):panels]:
        ax.set_xlabel("recorded month (after burn-in)")
        ax.xaxis.set_tick_params(labelbottom=True)
    fig.suptitle("\n".join(textwrap.wrap(title, 150)))
    return fig


def _panel(ax, title: str, legend: str) -> None:
    """A panel's plain title (what, in which unit), its legend and a light grid."""
    ax.set_title(title, loc="left")
    ax.legend(loc=legend, fontsize=8, ncols=2)
    ax.grid(alpha=0.3)


def _plot_ets(ax, months: pd.Series, results: pd.DataFrame,
              ets: dict[str, tuple[str, str, str]]) -> None:
    """The ETS panel: each market's allowance quote and clearing prices, and the price its
    covered firms paid for credits, in the ETS's currency."""
    for k, (market, (quote, cleared, credit)) in enumerate(ets.items()):
        style, tag = LINES[k % len(LINES)], f"{market}: " if market else ""
        ax.plot(months, results[quote], style, lw=2, color="C0", label=f"{tag}allowance quote")
        ax.plot(months, results[cleared], ".", ms=3, color="C0", alpha=0.5,
                label=f"{tag}allowances traded")
        ax.plot(months, results[credit], "o", ms=3, color="C1",
                label=f"{tag}credits bought by covered firms")
    currency = next(iter(ets.values()))[0].removeprefix("allowance_quote_").split("_")[0]
    ax.set_yscale("symlog", linthresh=1.0)
    _panel(ax, f"Compliance ETS: allowance and offset prices ({currency.upper()} per tCO2e)",
           "upper left")
