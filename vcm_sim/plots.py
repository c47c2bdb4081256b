"""Figures of a single run (the core never imports this module)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from vcm_sim.ets.reporters import price_columns
from vcm_sim.metrics import STOCKS

LINES = ("-", "--", ":", "-.")
"""Line style of each market's curves (markets beyond four repeat them)."""


def plot_run(results: pd.DataFrame, title: str, markets: Sequence[str] = ("",)) -> Figure:
    """Price, credit stocks and integrity over time for one run's per-step table; with
    several ``markets`` (their names, as in the columns ``<reporter>_<market>``) each
    market's curves in its own line style, and, when they are linked, the credits their
    buyers bought abroad."""
    months = results["step"]
    linked = f"bought_abroad_{markets[0]}" in results
    ets = {market: price_columns(results.columns, market) for market in markets}
    ets = {market: columns for market, columns in ets.items() if columns}
    panels = 3 + linked + bool(ets)
    fig = Figure(figsize=(9, 3.3 * panels))
    axes = fig.subplots(panels, 1, sharex=True)
    ax_price, ax_stock, ax_integrity = axes[:3]
    for k, market in enumerate(markets):
        def column(name: str) -> pd.Series:
            return results[f"{name}_{market}" if market else name]
        style, tag = LINES[k % len(LINES)], f"{market}: " if market else ""
        ax_price.plot(months, column("price_usd"), ".", ms=3, alpha=0.5,
                      label=f"{tag}VWAP (all types)")
        ax_price.plot(months, column("price_index_usd"), style, lw=2,
                      label=f"{tag}fixed-weight price index")
        for j, name in enumerate(STOCKS):
            ax_stock.plot(months, column(name) / 1e6, style, color=f"C{j}", label=f"{tag}{name}")
        ax_integrity.plot(months, column("greenwashing_index"), style, color="C0",
                          label=f"{tag}greenwashing index")
        ax_integrity.plot(months, column("integrity_ratio"), style, color="C1",
                          label=f"{tag}integrity ratio")
        if linked:
            axes[3].plot(months, column("bought_abroad") / 1e6, style, color="C0",
                         label=f"{tag}bought abroad")
    ax_price.set_ylabel("USD per tCO2e")
    ax_price.set_title("Price: monthly VWAP and the index volatility is measured on")
    ax_price.legend(loc="upper right")
    ax_stock.set_ylabel("million credits (tCO2e)")
    ax_stock.set_title("Registry stocks")
    ax_stock.legend(loc="upper left", ncols=3)
    ax_integrity.set_ylim(0, 1)
    ax_integrity.set_ylabel("share (0-1)")
    ax_integrity.set_title("Integrity of retired credits (hidden truth)")
    ax_integrity.legend(loc="upper right")
    if linked:
        axes[3].set_ylabel("million credits (tCO2e)")
        axes[3].set_title("Credits each market's buyers bought in the linked markets, cumulative")
        axes[3].legend(loc="upper left")
    if ets:
        _plot_ets(axes[-1], months, results, ets)
    axes[-1].set_xlabel("recorded month (after burn-in)")
    fig.suptitle("\n".join(textwrap.wrap(title, 90)))
    fig.tight_layout()
    return fig


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
    ax.set_ylabel(f"{currency.upper()} per tCO2e")
    ax.set_title("Compliance ETS: allowance and offset prices")
    ax.legend(loc="upper left")
