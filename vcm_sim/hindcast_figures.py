"""Figures of the hindcast against the data (the core never imports this module)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from vcm_sim.hindcast import Runs, Targets

MODEL, DATA, HELD_OUT = "#1f77b4", "#222222", "#f2e6c9"


def _shade_held_out(ax: Axes, targets: Targets, monthly: bool = False) -> None:
    start, stop = targets.held_out.start - 0.5, targets.held_out.stop - 0.5
    if monthly:
        start, stop = targets.held_out.start, targets.held_out.stop
    ax.axvspan(start, stop, color=HELD_OUT, zorder=0, label="held out (not calibrated on)")


def _flow_panel(ax: Axes, runs: Runs, frame: pd.DataFrame, data: pd.Series,
                targets: Targets, title: str) -> None:
    band = runs.band(frame)
    years = band.index.to_numpy()
    ax.fill_between(years, band["low"], band["high"], color=MODEL, alpha=0.25,
                    label=f"model, 90% band of {frame.shape[1]} runs")
    ax.plot(years, band["median"], color=MODEL, lw=2, label="model, median")
    shown = data.reindex(years)
    ax.plot(years, shown, "o-", color=DATA, ms=4, lw=1, label="data (Berkeley VROD)")
    _shade_held_out(ax, targets)
    ax.set_ylabel("Mt CO2e per year")
    ax.set_title(title)
    ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    ax.set_ylim(bottom=0)


def _price_panel(ax: Axes, runs: Runs, targets: Targets) -> None:
    band = runs.band(runs.prices)
    t = np.array([int(m[:4]) + (int(m[5:7]) - 0.5) / 12 for m in band.index])
    ax.fill_between(t, band["low"], band["high"], color=MODEL, alpha=0.25,
                    label="model, 90% band")
    ax.plot(t, band["median"], color=MODEL, lw=1.5, label="model, median (monthly VWAP)")
    for k, anchor in enumerate(targets.prices):
        x = int(anchor.date[:4]) + (int(anchor.date[5:7]) - 0.5) / 12
        label = "price anchors (generic nature-based)" if k == 0 else None
        if anchor.relation == "within":
            ax.plot([x, x], [anchor.low, anchor.high], color=DATA, lw=3, label=label)
        elif anchor.relation == "below":
            ax.plot(x, anchor.value, "v", color=DATA, ms=8, label=label)
        else:
            ax.plot(x, anchor.value, "D", color=DATA, ms=6, label=label)
    _shade_held_out(ax, targets, monthly=True)
    ax.set_ylabel("USD per tCO2e")
    ax.set_title("Nature-based price (anchors: Platts, S&P Global, Quantum, Xpansiv, press)")
    ax.set_xlim(t[0], t[-1] + 1 / 12)
    ax.set_ylim(bottom=0)


def plot_fit(runs: Runs, targets: Targets, path: str | Path) -> None:
    """Three panels: yearly issuance and retirements (model band against the data) and the
    monthly price against the dated anchors; written to ``path``."""
    fig = Figure(figsize=(12, 9))
    top, middle, bottom = fig.subplots(3, 1)
    _flow_panel(top, runs, runs.issued, targets.flows["issued_mt"], targets,
                f"Forestry and land-use issuance (model credits x {targets.scale:g})")
    _flow_panel(middle, runs, runs.retired, targets.flows["retired_mt"], targets,
                f"Forestry and land-use retirements (model credits x {targets.scale:g})")
    _price_panel(bottom, runs, targets)
    for ax in (top, middle, bottom):
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
    bottom.set_xlabel("year")
    fig.suptitle("Hindcast 2010-2025 against the registry data and price anchors "
                 "(source: Berkeley Voluntary Registry Offsets Database, year-end 2025)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
