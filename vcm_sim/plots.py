"""Figures of a single run (the core never imports this module)."""

from __future__ import annotations

import textwrap

import pandas as pd
from matplotlib.figure import Figure

from vcm_sim.metrics import STOCKS


def plot_run(results: pd.DataFrame, title: str) -> Figure:
    """Price, credit stocks and integrity over time for one run's per-step table."""
    months = results["step"]
    fig = Figure(figsize=(9, 10))
    ax_price, ax_stock, ax_integrity = fig.subplots(3, 1, sharex=True)
    ax_price.plot(months, results["price_usd"], ".", ms=3, alpha=0.5, label="VWAP (all types)")
    ax_price.plot(months, results["price_index_usd"], lw=2, label="fixed-weight price index")
    ax_price.set_ylabel("USD per tCO2e")
    ax_price.set_title("Price: monthly VWAP and the index volatility is measured on")
    ax_price.legend(loc="upper right")
    for name in STOCKS:
        ax_stock.plot(months, results[name] / 1e6, label=name)
    ax_stock.set_ylabel("million credits (tCO2e)")
    ax_stock.set_title("Registry stocks")
    ax_stock.legend(loc="upper left", ncols=3)
    ax_integrity.plot(months, results["greenwashing_index"], label="greenwashing index")
    ax_integrity.plot(months, results["integrity_ratio"], label="integrity ratio")
    ax_integrity.set_ylim(0, 1)
    ax_integrity.set_ylabel("share (0-1)")
    ax_integrity.set_xlabel("recorded month (after burn-in)")
    ax_integrity.set_title("Integrity of retired credits (hidden truth)")
    ax_integrity.legend(loc="upper right")
    fig.suptitle("\n".join(textwrap.wrap(title, 90)))
    fig.tight_layout()
    return fig
