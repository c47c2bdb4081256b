"""The market for lemons: the high-integrity share of claims when buyers keep, lose (quality
books merged after three or after nine recorded years) or never have sight of quality, by
how far a project's costs follow its additionality. Writes results/lemons/.

Run: ``python experiments/lemons.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import numpy as np
import pandas as pd

from common import (PAIRED_NOTE, arguments, by_level, cell, ci_text, fmt, markdown_table,
                    paired, paired_row, paired_text, resolved, run, series, write_readme,
                    yearly_spread)
from vcm_sim.model import VCMModel
from vcm_sim.registry import Registry
from vcm_sim.scenario import load_scenario
from vcm_sim.sweep.report import mean_ci

NAME = "lemons"
SIGNALS = "signals"
COST = "projects.opportunity_cost_share"
CUTOFF = "cutoff"
SHARE, ISSUED, GI = "high_integrity_share", "issued_high_integrity_share", "greenwashing_index"
WITHDRAWAL = {"withdrawn": 36, "withdrawn_late": 108}
"""Recorded month of each withdrawal arm's event (experiments/lemons.toml)."""
WINDOWS = {"year before": (-12, 0), "years 1-3 after": (0, 36), "years 7-9 after": (72, 108),
           "years 16-18 after": (180, 216)}
"""Months [start, stop) relative to a withdrawal that each comparison averages over."""
EARLY, LATE = "years 1-3 after", "years 16-18 after"
ARMS = {"kept": ("books kept", "#2a6f97"), "withdrawn": ("books merged after year 3", "#c8553d"),
        "withdrawn_late": ("books merged after year 9", "#e9a03b"),
        "never": ("never any books", "#6c757d")}
CUTOFFS = {"none": "unsold credits keep", "five_years": "a five-year vintage cut-off on claims"}
OVERHANG_SEEDS = range(1, 11)
DELIVERY_SEEDS = range(1, 6)
OVERHANG_MONTHS = 36
HIGH_TONNES = 0.7
"""Real tonnes per credit from which a credit counts as high-integrity (the threshold of
:func:`vcm_sim.metrics.high_integrity_share`: a credit rated A or above)."""


def window_means(runs: pd.DataFrame, steps: pd.DataFrame, column: str,
                 month: int) -> pd.DataFrame:
    """The run table with, per run, the mean of series ``column`` in each of
    :data:`WINDOWS` around recorded month ``month``."""
    out = runs.set_index("run_id")
    for name, (start, stop) in WINDOWS.items():
        window = steps[(steps["step"] >= month + start) & (steps["step"] < month + stop)]
        out[name] = window.groupby("run_id")[column].mean()
    return out.reset_index()


def figure(runs: pd.DataFrame, steps: pd.DataFrame, cutoff: str, path) -> None:
    """Yearly high-integrity share of claims and of issuance and greenwashing index per arm
    (mean and 5-95% range over replications) at vintage cut-off level ``cutoff``, one
    column per opportunity-cost share, the withdrawals marked."""
    from matplotlib.figure import Figure

    runs = runs[runs[CUTOFF] == cutoff]
    costs = sorted(runs[COST].unique())
    fig = Figure(figsize=(4.0 * len(costs), 8.4), layout="constrained")
    grid = fig.subplots(3, len(costs), squeeze=False, sharey="row")
    rows = ((SHARE, "high-integrity share of claims"),
            (ISSUED, "high-integrity share of issuance"),
            (GI, "greenwashing index (cumulative)"))
    for j, cost in enumerate(costs):
        for i, (column, label) in enumerate(rows):
            ax = grid[i][j]
            for arm, (text, colour) in ARMS.items():
                ids = set(cell(runs, {SIGNALS: arm, COST: cost})["run_id"])
                table = yearly_spread(steps[steps["run_id"].isin(ids)], column)
                ax.plot(table.index, table["mean"], marker="o", ms=2, color=colour,
                        label=text)
                ax.fill_between(table.index, table["low"], table["high"], color=colour,
                                alpha=0.1)
            for arm, month in WITHDRAWAL.items():
                ax.axvline(month / 12 + 0.5, color=ARMS[arm][1], lw=0.8, ls="--")
            ax.set_title(f"opportunity_cost_share {cost:g}", fontsize=9)
            ax.set_xlabel("year of the run (after burn-in)")
            if j == 0:
                ax.set_ylabel(label)
    grid[0][0].legend(fontsize=7)
    fig.suptitle("Once buyers cannot tell credits apart, do low-integrity credits drive out "
                 f"high ones? ({CUTOFFS[cutoff]}; mean, 5-95% over 10 seeds; dashed: books "
                 "merged)", fontsize=10)
    fig.savefig(path, dpi=110)


def widening(frame: pd.DataFrame, arm: str, where: dict) -> dict:
    """Per replication, the gap of ``arm`` behind 'kept' in :data:`LATE` less the gap in
    :data:`EARLY`, among runs matching ``where`` (column: level): negative when the share
    keeps falling behind (unravelling), positive when it catches up."""
    at = cell(frame[frame["status"] == "ok"], where).set_index(["replication", SIGNALS])
    early, late = at[EARLY].unstack(SIGNALS), at[LATE].unstack(SIGNALS)
    d = ((late[arm] - late["kept"]) - (early[arm] - early["kept"])).dropna()
    n, mean, _, low, high = mean_ci(d)
    return {"n": n, "mean": mean, "ci_low": low, "ci_high": high}


def verdict(trend: dict) -> str:
    """Whether the withdrawal gap widens, narrows or neither (:func:`widening`)."""
    if resolved(trend) and trend["mean"] < 0:
        return "keeps falling further behind (unravelling)"
    if resolved(trend) and trend["mean"] > 0:
        return "catches up part of the way"
    return "neither falls further behind nor catches up beyond noise"


def arm_findings(frames: dict, issued: dict, params: list[str], where: dict,
                 rows: list[dict]) -> list[str]:
    """Per withdrawal arm, the sentence on its gaps behind 'kept' among runs matching
    ``where``; appends their table rows to ``rows``."""
    parts = []
    for arm, month in WITHDRAWAL.items():
        claims, supply = (cell(f[arm], where) for f in (frames, issued))
        trend = widening(frames[arm], arm, where)
        gaps = {w: paired(claims, params, SIGNALS, arm, "kept", w) for w in WINDOWS}
        new = {w: paired(supply, params, SIGNALS, arm, "kept", w) for w in (EARLY, LATE)}
        before = ("identical runs" if gaps["year before"]["identical"] == 1
                  else paired_text(gaps["year before"]))
        parts.append(
            f"merged after month {month}, claims {paired_text(gaps[EARLY])} in years 1-3 "
            f"after (the year before: {before}), {paired_text(gaps['years 7-9 after'])} in "
            f"years 7-9 and {paired_text(gaps[LATE])} in years 16-18, so the share "
            f"{verdict(trend)} (late gap less early {ci_text(trend)}); the share of issuance "
            f"{paired_text(new[EARLY])} in years 1-3 and {paired_text(new[LATE])} in years "
            "16-18")
        label = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                          for k, v in where.items())
        rows += [{"runs": label, "comparison": f"{arm} minus kept, claims, {w}",
                  **paired_row(gaps[w])} for w in WINDOWS]
        rows += [{"runs": label, "comparison": f"{arm} minus kept, issuance, {w}",
                  **paired_row(new[w])} for w in (EARLY, LATE)]
    return parts


def held_high_share(model: VCMModel) -> tuple[float, int]:
    """Sellers' stock (developers' and traders' accounts) now: its type-adjusted share of
    credits with at least :data:`HIGH_TONNES` real tonnes each (weighted as
    :func:`vcm_sim.metrics.high_integrity_share` weighs types), and its size (credits)."""
    market = model.market
    truth = market.truth
    kind = market.projects.kind[truth.view("project")]
    real = truth.view("real_per_credit") * truth.view("survival")
    n_types = len(market.types.names)
    key = np.zeros(len(market.registry.batches), dtype=np.int64)  # imports: none here
    key[:truth.size] = kind * 2 + (real >= HIGH_TONNES)
    sellers = np.concatenate([market.developer_ids, market.trader_ids])
    held, _ = market.registry.held_and_weighed_by(sellers, key, 2 * n_types,
                                                  np.zeros(len(key)))
    by_type = held.sum(axis=0).reshape(n_types, 2)
    total = by_type.sum(axis=1)
    some = total > 0
    weight = market.types.credit_mix[some]
    share = np.dot(weight, by_type[some, 1] / total[some]) / weight.sum()
    return float(share), int(total.sum())


def overhang() -> pd.DataFrame:
    """Sellers' stock after :data:`OVERHANG_MONTHS` recorded months of the rated preset
    with and without quality books, per seed of :data:`OVERHANG_SEEDS`, beside the
    high-integrity share of claims in its last year: does steering buyers to better-rated
    credits leave the rest with sellers?"""
    rows = []
    for books in (True, False):
        for seed in OVERHANG_SEEDS:
            scenario = load_scenario("rated", steps=OVERHANG_MONTHS,
                                     rules={"market": {"quality_books": books}})
            model = VCMModel(scenario, rng=seed).run()
            share, held = held_high_share(model)
            claims = model.results()[SHARE].iloc[-12:].mean()
            rows.append({"books": books, "seed": seed, "held_high_share": share,
                         "held_credits": held, "claims_high_share": claims})
    return pd.DataFrame(rows)


def overhang_text(table: pd.DataFrame) -> str:
    """The overhang check as a sentence with means and 95% intervals over seeds."""
    def stat(books: bool, column: str, digits: int = 3) -> str:
        _, mean, _, low, high = mean_ci(table.loc[table["books"] == books, column])
        return f"{fmt(mean, digits)} [{fmt(low, digits)}, {fmt(high, digits)}]"

    return (f"Mechanism check ({len(OVERHANG_SEEDS)} seeds of the rated preset, "
            f"{OVERHANG_MONTHS} recorded months, `held_high_share` in this script): with "
            f"quality books, sellers (developers and traders) end holding "
            f"{stat(True, 'held_credits', 3)} credits, of which a type-adjusted share "
            f"{stat(True, 'held_high_share')} is high-integrity, while the claims of the last "
            f"year had {stat(True, 'claims_high_share')}; without books they hold "
            f"{stat(False, 'held_credits', 3)}, a share {stat(False, 'held_high_share')}, "
            f"against {stat(False, 'claims_high_share')} in claims.")


def merged_at(month: int) -> list[dict]:
    """The event that merges the quality books at recorded month ``month``."""
    return [{"step": month, "kind": "set", "path": "rules.market.quality_books",
             "value": False}]


def newest_first(registry: Registry, account: int, eligible) -> Iterator[tuple[int, int]]:
    """A seller's eligible holdings newest-credited first: the registry's delivery order
    (:meth:`Registry._oldest_first`) reversed, for :func:`delivery_check`."""
    return reversed(list(OLDEST_FIRST(registry, account, eligible)))


OLDEST_FIRST = Registry._oldest_first


def delivery_check() -> pd.DataFrame:
    """Per seed of :data:`DELIVERY_SEEDS` and delivery order, the high-integrity share of
    claims in the three years after the books merge at month 36 less that of the same seed
    keeping them: sellers deliver their oldest-credited credits first (the registry's rule)
    or, patched for this check, their newest first. If the fall came from delivering old
    stock first, it would shrink with newest first."""
    rows = []
    for order in ("oldest first", "newest first"):
        for seed in DELIVERY_SEEDS:
            share = {}
            for arm, events in (("kept", []), ("withdrawn", merged_at(36))):
                scenario = load_scenario("rated", steps=72, events=events)
                if order == "newest first":
                    with mock.patch.object(Registry, "_oldest_first", newest_first):
                        results = VCMModel(scenario, rng=seed).run().results()
                else:
                    results = VCMModel(scenario, rng=seed).run().results()
                share[arm] = results[SHARE].iloc[36:].mean()
            rows.append({"order": order, "seed": seed,
                         "gap": share["withdrawn"] - share["kept"]})
    return pd.DataFrame(rows)


def delivery_text(table: pd.DataFrame) -> str:
    """The delivery check as a sentence: mean gap and 95% interval over seeds per order."""
    parts = []
    for order, group in table.groupby("order", sort=False):
        _, mean, _, low, high = mean_ci(group["gap"])
        parts.append(f"{order} {fmt(mean)} [{fmt(low)}, {fmt(high)}]")
    return (f"Delivery order check ({len(DELIVERY_SEEDS)} seeds, opportunity-cost share 0, "
            "no cut-off, `delivery_check` in this script): the high-integrity share of "
            "claims in the three years after the books merge at month 36, less the same seed "
            "keeping them, with sellers delivering their " + " and their ".join(parts) + ".")


def main() -> None:
    args = arguments(__doc__)
    spec, runs, target = run(NAME, args)
    steps = series(NAME)
    for cutoff in CUTOFFS:
        figure(runs, steps, cutoff, target / f"lemons_{cutoff}.png")
    params = list(spec.parameters)
    frames = {arm: window_means(runs, steps, SHARE, m) for arm, m in WITHDRAWAL.items()}
    issued = {arm: window_means(runs, steps, ISSUED, m) for arm, m in WITHDRAWAL.items()}
    whole = runs.set_index("run_id").assign(run_mean=steps.groupby("run_id")[SHARE].mean())
    whole = whole.reset_index()
    findings, rows = [], []
    for cost in sorted(runs[COST].unique()):
        where = {COST: cost, CUTOFF: "none"}
        parts = arm_findings(frames, issued, params, where, rows)
        never = paired(cell(whole, where), params, SIGNALS, "never", "kept", "run_mean")
        rows.append({"runs": f"{COST} {cost:g}, cutoff none",
                     "comparison": "never minus kept, claims over the run", **paired_row(never)})
        started = {arm: paired(cell(runs, where), params, SIGNALS, arm, "kept",
                               "projects_started") for arm in WITHDRAWAL}
        kept = by_level(cell(runs, {**where, SIGNALS: "kept"}), SIGNALS,
                        "projects_started").iloc[0]
        findings.append(
            f"Opportunity-cost share {cost:g}, no vintage cut-off: the high-integrity share "
            "once the books merge, against the paired market that keeps them: "
            + "; ".join(parts) + f". A market that never had books: {paired_text(never)} "
            f"(claims, over the run). Projects started over the 30 years: "
            f"{ci_text(kept, 3)} where the books are kept; merged after year 3 less kept "
            f"{paired_text(started['withdrawn'], 3)}, after year 9 "
            f"{paired_text(started['withdrawn_late'], 3)}.")
    where = {COST: 0.0, CUTOFF: "five_years"}
    findings.append("With a five-year vintage cut-off on claims (opportunity-cost share 0): "
                    + "; ".join(arm_findings(frames, issued, params, where, rows)) + ".")
    check = overhang()
    check.to_csv(target / "overhang.csv", index=False)
    findings.append(overhang_text(check))
    order = delivery_check()
    order.to_csv(target / "delivery_order.csv", index=False)
    findings.append(delivery_text(order))
    levels = by_level(whole, [SIGNALS, COST, CUTOFF], "run_mean")
    sections = [
        "## What is built in and what emerges", "",
        "Built in (mechanical): with the books merged buyers see only a credit's type and "
        "price, so they cannot pick better-rated credits (`vcm_sim/valuation.py` chooses a "
        "segment only where books split); developers weigh the rating a method would earn "
        "only where buyers see ratings (`DeveloperPopulation.method_payoffs`); a project's "
        "costs are its type's times `1 - share + share * additionality / mean` "
        "(`projects.opportunity_cost_share`, an [assumption] swept here at 0, 0.5 and 1, the "
        "mean over the projects the additionality test lets through, so the type's mean "
        "cost is kept); the greenwashing index is cumulative from the first recorded month, "
        "so its rise after a merger is a level built up over years, not a monthly flow.", "",
        "Emergent: which credits are left unsold while books split (buyers taking the "
        "better-rated ones leave the rest with sellers) and so how large a stock a merger "
        "releases into claims; which sellers sell once one book per type clears on price "
        "alone; how far developers inflate, which projects they start (a developer knows "
        "its project's additionality, hence its cost, and counts the credits it expects to "
        "keep) and abandon, and which developers go "
        "bankrupt; and so whether the share keeps falling behind (unravelling, Akerlof's "
        "market for lemons) or catches up.", "",
        "What the numbers say about the mechanism. The fall is in *claims*, not in new "
        "supply: set the share of issuance beside that of claims in the findings. While "
        "books split, buyers take the better-rated credits and sellers are left with a "
        "large low-rated stock (the mechanism check); merging the books releases it into "
        "claims, one book per type clearing on price alone. Sellers delivering their oldest "
        "credits first deepen the fall, but it stays when they deliver their newest first "
        "(the delivery order check). New supply cannot turn worse where almost nothing new "
        "is built: the rated preset's market holds years of unsold stock and starts few "
        "projects (the counts in the findings), so the quality of issuance is that of "
        "projects registered long before, whose inflation checks and audits keep cutting. "
        "Credits already issued are sunk costs and sell whatever their quality; only "
        "investment, abandonment and exit could make supply unravel, and in this market "
        "they are too slow to.", "",
        "## Figures", "",
        "![lemons, unsold credits keep](lemons_none.png)", "",
        "![lemons, five-year vintage cut-off](lemons_five_years.png)", "",
        "## High-integrity share of claims by arm (mean over the run, 95% CI)", "",
        markdown_table(levels.rename(columns={COST: "opportunity_cost_share"})), "",
        "## Paired differences of the high-integrity share", "", PAIRED_NOTE, "",
        markdown_table(pd.DataFrame(rows)),
    ]
    write_readme(target, spec, runs,
                 "Do low-integrity credits drive out high ones (Akerlof's market for lemons) "
                 "once buyers cannot tell credits apart, and does it depend on whether the "
                 "least additional projects are also the cheapest?",
                 findings, sections, "Populations: the rated preset's (1,000 firms, 200 "
                 "developers, 20 verifiers, three rating agencies). ")
    print((target / "README.md").read_text())


if __name__ == "__main__":
    main()
