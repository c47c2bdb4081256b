"""Quality signals: greenwashing, price dispersion, premium per rating notch and volume with and
without quality books, across rating accuracy and coverage, label strictness and disclosure;
the lemons case (no signals). Writes results/quality_signals/.

Run: ``python experiments/quality_signals.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

import pandas as pd

from common import (PAIRED_NOTE, arguments, by_level, cell, ci_text, lines_figure,
                    markdown_table, paired, paired_row, paired_text, resolved, run, series,
                    write_readme, yearly_figure)
from vcm_sim import palette
from vcm_sim.sweep.report import mean_ci

NAME = "quality_signals"
BOOKS = "rules.market.quality_books"
COVERAGE = "rating_agencies.coverage"
ERROR = "rating_agencies.error_sd"
LABEL = "label"
DISCLOSE = "rules.disclosure.retired_credit_disclosure"
GI = "greenwashing_index"
LABELS = {BOOKS: "quality books", COVERAGE: "coverage (share of projects rated)",
          ERROR: "agencies' error sd", GI: "greenwashing index",
          "price_dispersion": "price dispersion within types (sd of log price)",
          "rating_premium": "premium per rating notch", "volume_total": "credits traded",
          "high_integrity_change": "change in the high-integrity share (last - first 5 yrs)",
          "high_integrity_share": "high-integrity share of credits retired",
          "integrity_ratio": "integrity ratio", "mean_price_usd": "mean price (USD/t)",
          "developer_exits": "developer exits", "real_mitigation_tco2": "real mitigation"}
PRESET = {BOOKS: True, COVERAGE: 0.5, ERROR: 0.15, LABEL: "strict", DISCLOSE: False}
"""The rated preset's point."""
LEMONS = {BOOKS: False, COVERAGE: 0.0, LABEL: "none"}
"""No signal at all: one book per type, no ratings, no label (the agencies' error is moot,
and so is disclosure of ratings: at coverage 0 the agencies publish nothing)."""
BANDS = {column: (label, colour) for column, label, colour in palette.BANDS}
"""Prices by rating band: name and colour (the page's, :data:`vcm_sim.palette.BANDS`)."""


def steps_at(runs: pd.DataFrame, where: dict) -> pd.DataFrame:
    """The per-step series of the runs at ``where``, one row per run and step."""
    steps = series(NAME)
    ids = set(cell(runs, where)["run_id"])
    return steps[steps["run_id"].isin(ids)]


def difference_in_changes(runs: pd.DataFrame) -> dict:
    """Per replication, the lemons cells' mean ``high_integrity_change`` less the preset
    point's; mean and 95% interval over replications (a shared trend, such as the type mix
    or sentiment, cancels)."""
    ok = runs[runs["status"] == "ok"]
    lemons = cell(ok, LEMONS).groupby("replication")["high_integrity_change"].mean()
    preset = cell(ok, PRESET).groupby("replication")["high_integrity_change"].mean()
    d = (lemons - preset).dropna()
    n, mean, _, low, high = mean_ci(d)
    return {"n": n, "pairs": len(d), "mean": mean, "ci_low": low, "ci_high": high}


def lemons_verdict(change: pd.Series, gap: dict) -> str:
    """What the lemons case shows: the market for lemons is the no-signal market's share of
    high-integrity credits falling, and falling more than with signals."""
    if change["ci_high"] < 0 and resolved(gap) and gap["mean"] < 0:
        return "The market for lemons emerges: without signals the share falls, and more " \
               "than with them."
    if change["ci_low"] > 0:
        return ("The market for lemons does not emerge: without signals the share rises "
                "(see below for the channels it could emerge through, and results/lemons "
                "for a market that loses its signals).")
    return ("No resolved market for lemons: without signals the share does not fall beyond "
            "noise (see below for why, and results/lemons for a market that loses its "
            "signals).")


def lemons_figure(runs: pd.DataFrame, path) -> None:
    """The high-integrity share of credits retired, by year, with no signal and at the
    preset's signals (mean and 5-95% range over replications)."""
    yearly_figure([(steps_at(runs, where), "high_integrity_share", label, None)
                   for where, label in (
                       (LEMONS | {ERROR: 0.15, DISCLOSE: False}, "no signal"),
                       (PRESET, "ratings, label and quality books (the rated preset)"))],
                  path, alpha=0.2,
                  ylabel="share of credits retired with\nthe real tonnes of an A (>= 0.7)",
                  title="Does the market for lemons emerge? (mean, 5-95% over replications)")


def band_figure(runs: pd.DataFrame, path) -> None:
    """Price by rating band over the years at the preset's point (mean and 5-95% range of
    the yearly means over replications)."""
    steps = steps_at(runs, PRESET)
    yearly_figure([(steps, column, label, colour)
                   for column, (label, colour) in BANDS.items()], path,
                  ylabel="price, USD per tCO2e",
                  title="Price by rating band, rated preset (mean, 5-95% over replications)")


def main() -> None:
    args = arguments(__doc__)
    spec, runs, target = run(NAME, args)
    booked = runs[runs[BOOKS]]
    lines_figure(booked, COVERAGE, [GI, "price_dispersion", "rating_premium", "volume_total"],
                 target / "signals_vs_coverage.png", hue=ERROR, labels=LABELS,
                 title="With quality books: outcomes vs rating coverage, by the agencies' "
                       "error (mean, 95% CI)")
    lemons_figure(runs, target / "lemons.png")
    band_figure(runs, target / "price_by_band.png")
    params = list(spec.parameters)

    def diff(frame, factor, a, b, metric):
        return paired(frame, params, factor, a, b, metric)

    rated = cell(runs, {COVERAGE: 0.5, ERROR: 0.15})
    books = {m: diff(rated, BOOKS, True, False, m)
             for m in (GI, "volume_total", "mean_price_usd", "high_integrity_share",
                       "price_dispersion")}
    coverage = {m: by_level(booked, COVERAGE, m).set_index(COVERAGE)
                for m in (GI, "rating_premium", "price_dispersion")}
    error = {m: by_level(cell(booked, {COVERAGE: 0.5}), ERROR, m).set_index(ERROR)
             for m in (GI, "rating_premium")}
    cover_gi = diff(booked, COVERAGE, 0.9, 0.0, GI)
    accuracy_gi = diff(cell(booked, {COVERAGE: 0.5}), ERROR, 0.3, 0.05, GI)
    lemon_pooled = by_level(cell(runs, LEMONS).assign(all=1), "all", "high_integrity_change")
    signal_change = by_level(cell(runs, PRESET).assign(all=1), "all", "high_integrity_change")
    lemon_gap = difference_in_changes(runs)
    label_gi = {lvl: diff(cell(booked, {COVERAGE: 0.5}), LABEL, lvl, "none", GI)
                for lvl in ("strict", "lenient")}
    disclose_gi = diff(runs, DISCLOSE, True, False, GI)
    premium = by_level(cell(runs, PRESET).assign(all=1), "all", "rating_premium").iloc[0]

    findings = [
        "Quality books (buyers see each credit's rating and label, at the preset's coverage "
        "0.5 and error 0.15, averaged over label and disclosure rules), paired against one "
        f"book per type: greenwashing index {paired_text(books[GI])}, credits traded "
        f"{paired_text(books['volume_total'], 3)}, mean price "
        f"{paired_text(books['mean_price_usd'])} USD, high-integrity share of credits "
        f"retired {paired_text(books['high_integrity_share'])}.",
        "With quality books, greenwashing by coverage: " + ", ".join(
            f"{c:g}: {ci_text(r)}" for c, r in coverage[GI].iterrows())
        + f"; 0.9 minus 0 paired {paired_text(cover_gi)}. By the agencies' error at coverage "
        "0.5: " + ", ".join(f"{e:g}: {ci_text(r)}" for e, r in error[GI].iterrows())
        + f"; 0.3 minus 0.05 paired {paired_text(accuracy_gi)}.",
        "Premium per rating notch (median over each run's months) with quality books, by "
        "coverage: " + ", ".join(f"{c:g}: {ci_text(r)}" for c, r in
                                 coverage["rating_premium"].iterrows() if c > 0)
        + "; by the agencies' error at coverage 0.5: " + ", ".join(
            f"{e:g}: {ci_text(r)}" for e, r in error["rating_premium"].iterrows())
        + f". At the preset's point: {ci_text(premium)} (the BeZero estimate is about 0.25).",
        "Price dispersion within types (sd of log prices across a type's books) with quality "
        "books, by coverage: "
        + ", ".join(f"{c:g}: {ci_text(r)}" for c, r in coverage["price_dispersion"].iterrows())
        + ". At coverage 0 the books still split by label and vintage, so some dispersion "
        "remains without any rating. Without quality books it is 0 by construction: a type "
        "clears in one book, so buyers who see no quality cannot pay different prices for "
        "its credits (an identity, not a finding).",
        "The lemons case (one book per type, no ratings, no label): the type-adjusted "
        "high-integrity share of credits retired changes from the first five years to the "
        f"last by {ci_text(lemon_pooled.iloc[0])} (pooled over disclosure and the moot "
        f"agencies' error), against {ci_text(signal_change.iloc[0])} at the rated preset's "
        "point; the lemons change minus the preset's, paired by replication: "
        f"{paired_text(lemon_gap)}. " + lemons_verdict(lemon_pooled.iloc[0], lemon_gap),
        "Label strictness (with quality books, coverage 0.5), greenwashing paired against no "
        "label: " + "; ".join(f"{lvl} {paired_text(d)}" for lvl, d in label_gi.items())
        + ". The label approves whole types (ARR; or ARR, IFM and REDD+), so it can move "
        "buyers between types, not within one: quality-seekers expect "
        "`firms.labelled_real_tonnes` behind an unrated labelled credit, so a lenient body's "
        "label makes REDD+ credits, with a quarter of a real tonne each, look as good as "
        "ARR's to them (the channel is that prior, an assumption; how far it moves "
        "greenwashing is the difference above). Retired-credit disclosure, paired: "
        f"{paired_text(disclose_gi)}.",
    ]
    mechanics = [
        "## What is built in and what emerges", "",
        "Built in (mechanical): a buyer's worth of a credit follows from its grade's middle, "
        "the priors `firms.unrated_real_tonnes` and `firms.labelled_real_tonnes`, the "
        "vintage discount `firms.vintage_discount_yr` and the exposure probability of "
        "`vcm_sim/claims.py` (`vcm_sim/valuation.py`), so the ordering of what buyers would "
        "pay per notch is a formula; without quality books price dispersion within a type is "
        "0 by construction; a rating is the truth plus an error, so better-rated credits are "
        "less greenwashed at any accuracy. The band prices mix project types (REDD+, with "
        "additionality 0.25, is always rated low), so the gap between A-or-above and below-A "
        "credits is mostly composition; `band_premium` measures it within types. Levels "
        "that cannot matter repeat the same runs (without quality books and at coverage 0, "
        "the agencies' error and the label change nothing): averages over them are "
        "averages of identical pairs, which dilute an effect towards 0 but do not narrow "
        "its interval (replications are averaged first).",
        "",
        "Emergent: how much of buyers' worth reaches prices (a premium appears only where a "
        "book's bids, not its asks, set the price: in an oversupplied book the price sits at "
        "sellers' asks), where demand goes (buyers draw books by credits on offer and worth "
        "per dollar), how far developers inflate new projects' baselines (with quality books "
        "they weigh the extra credits against the worse rating and the price the books have "
        "shown for it), which developers sell and survive, and so the greenwashing index, "
        "volume and the high-integrity share. The market for lemons can emerge through "
        "developers' choice of baseline (which answers to prices only where buyers see "
        "ratings), their investment (a developer that plans to over-claim counts the extra "
        "credits when it appraises a project, so at a given price it invests where an "
        "honest one does not), which projects are abandoned and which developers survive; "
        "developers' honesty is drawn at entry from a fixed distribution, and entry answers "
        "to a type's profitability, not to a developer's integrity. A market that loses its "
        "signals mid-run, and projects whose costs follow their additionality, are the "
        "subject of `results/lemons/README.md` (`experiments/lemons.py`).",
        "",
        "## Paired differences", "", PAIRED_NOTE, "",
        markdown_table(pd.DataFrame([
            {"comparison": f"quality books on minus off: {LABELS.get(m, m)}", **paired_row(d)}
            for m, d in books.items()])),
    ]
    question = ("Do ratings, an integrity label and disclosure lower greenwashing, at what "
                "price premium, and what happens to a market without them (the market for "
                "lemons)?")
    write_readme(target, spec, runs, question, findings, mechanics,
                 "Populations: 400 firms, 80 developers, 8 verifiers, three rating agencies "
                 "(the rated preset's). ")
    print((target / "README.md").read_text())


if __name__ == "__main__":
    main()
