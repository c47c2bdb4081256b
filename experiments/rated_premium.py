"""Rated premium: the rated preset's premium per rating notch and its A-or-above over below-A
price ratio against the targets, and how much of them buyers' expected real tonnes and the
risk of exposure each make. Writes results/rated_premium/.

Run: ``python experiments/rated_premium.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

import pandas as pd

from common import (PAIRED_NOTE, arguments, by_level, ci_text, markdown_table, paired,
                    paired_row, paired_text, run, series, write_readme, yearly_figure)
from vcm_sim import palette

NAME = "rated_premium"
CHANNELS = "channels"
LEVELS = {"both": "expected tonnes and exposure risk (the preset)",
          "tonnes_only": "expected tonnes only (exposure_cost 0)",
          "exposure_only": "exposure risk only (quality_preference 0)",
          "neither": "neither (both 0)"}
PREMIUM_TARGET = (0.15, 0.40)
"""Premium per notch the issue asks of the preset (BeZero: about 0.25, widening to 0.4)."""
RATIO_TARGET = (1.5, 3.0)
"""A-or-above over below-A price ratio asked (50-200% above; BeZero: about +80%)."""
BAND_TARGET = (0.5, 2.0)
"""The same as a premium (0.5-2.0), for the within-type measure ``band_premium``."""
METRICS = ("rating_premium", "band_premium", "rating_band_ratio")
BANDS = {column: (label, colour) for column, label, colour in palette.BANDS}
"""Prices by rating band: name and colour (the page's, :data:`vcm_sim.palette.BANDS`)."""


def medians(runs: pd.DataFrame, metric: str) -> pd.Series:
    """Per level, the median of ``metric`` over the replications (the issue's criterion)."""
    ok = runs[runs["status"] == "ok"]
    return ok.groupby(CHANNELS)[metric].median()


def band_figure(runs: pd.DataFrame, path) -> None:
    """Price by rating band over the years of the preset's runs (mean of the yearly means
    over replications, and their 5-95% range)."""
    steps = series(NAME)
    steps = steps[steps["run_id"].isin(set(runs.loc[runs[CHANNELS] == "both", "run_id"]))]
    yearly_figure([(steps, column, label, colour)
                   for column, (label, colour) in BANDS.items()], path,
                  xlabel="year of the run (after burn-in)", ylabel="price, USD per tCO2e",
                  title="Price by rating band, rated preset, 10 seeds (mean, 5-95% range)",
                  figsize=(7.5, 3.8))


def within(value: float, bounds: tuple[float, float]) -> str:
    """'within' or 'outside' the target ``bounds``."""
    return "within" if bounds[0] <= value <= bounds[1] else "outside"


def main() -> None:
    args = arguments(__doc__)
    spec, runs, target = run(NAME, args)
    band_figure(runs, target / "price_by_band.png")
    median = {m: medians(runs, m) for m in METRICS}
    tables = {m: by_level(runs, CHANNELS, m).set_index(CHANNELS) for m in METRICS}
    params = list(spec.parameters)

    def diff(a, b, metric):
        return paired(runs, params, CHANNELS, a, b, metric)

    premium, band, ratio = (median[m] for m in METRICS)
    findings = [
        f"The rated preset, median over {spec.replications} seeds: premium per rating notch "
        f"within type, label, vintage and month {premium['both']:.3f} "
        f"({within(premium['both'], PREMIUM_TARGET)} the target "
        f"{PREMIUM_TARGET[0]:g}-{PREMIUM_TARGET[1]:g}); credits rated A or above trade "
        f"{band['both']:.2f} above those rated below A within type "
        f"({within(band['both'], BAND_TARGET)} the target {BAND_TARGET[0]:g}-"
        f"{BAND_TARGET[1]:g}, i.e. 50-200%) and at {ratio['both']:.2f} times their price "
        f"across types ({within(ratio['both'], RATIO_TARGET)} {RATIO_TARGET[0]:g}-"
        f"{RATIO_TARGET[1]:g}). Means with 95% intervals: "
        + ", ".join(ci_text(tables[m].loc["both"]) for m in METRICS) + ".",
        "By buyers' reasons to pay for quality (median over seeds: premium per notch; "
        "A-or-above premium within type; A-or-above over below-A across types): "
        + "; ".join(f"{LEVELS[lvl]}: {premium[lvl]:.3f}, {band[lvl]:.2f}, {ratio[lvl]:.2f}"
                    for lvl in LEVELS) + ".",
        "Paired against neither, the premium per notch with expected tonnes only "
        f"{paired_text(diff('tonnes_only', 'neither', 'rating_premium'))}, with exposure "
        f"risk only {paired_text(diff('exposure_only', 'neither', 'rating_premium'))}, with "
        f"both {paired_text(diff('both', 'neither', 'rating_premium'))}: what each reason "
        "adds on its own, and together (the two need not add up: they can interact).",
        f"Without either reason, credits rated A or above trade at {ratio['neither']:.2f} "
        f"times those below A across types but {band['neither']:.2f} above them within type: "
        "the gap across types is composition (REDD+, whose additionality is 0.25, is rated "
        "below A and is the cheapest type), not buyers paying for quality. Firms whose claims "
        "are exposed turn quality-seeking even at quality_preference 0, so 'neither' keeps a "
        "little of the tonnes channel.",
    ]
    sections = [
        "## What is built in", "",
        "Buyers' worth of a credit in each rating grade is a formula (`vcm_sim/valuation.py`): "
        "a grade's middle over the prior `firms.unrated_real_tonnes` for quality-seekers, and "
        "one minus `firms.exposure_cost` times the yearly exposure probability for everyone. "
        "What emerges is how much of that worth reaches prices: a book's price is set by its "
        "bids only where they, not the asks, are marginal, and buyers spread over books by "
        "the credits on offer there.", "",
        "## Paired differences", "", PAIRED_NOTE, "",
        markdown_table(pd.DataFrame([
            {"comparison": f"{a} minus {b}: {m}", **paired_row(diff(a, b, m))}
            for m in METRICS
            for a, b in (("both", "neither"), ("tonnes_only", "neither"),
                         ("exposure_only", "neither"))])),
    ]
    write_readme(target, spec, runs,
                 "Does the rated preset price ratings as the market does (BeZero: about +25% "
                 "per notch, +80% for A or above), and how much of its premium comes from "
                 "buyers' expected real tonnes and how much from the risk of exposure?",
                 findings, sections, "Populations: the rated preset's (1,000 firms, 200 "
                 "developers, 20 verifiers, three rating agencies). ")
    print((target / "README.md").read_text())


if __name__ == "__main__":
    main()
