"""Market linking: two voluntary markets with different integrity rules, apart and linked by
mutual recognition at transfer costs of USD 0-4 per credit, and linked with developers
selling only at home, with and without traders' arbitrage: price convergence, price
stability in each market, and where low-integrity credits end up. Writes
results/market_linking/.

Run: ``python experiments/market_linking.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from common import (PAIRED_NOTE, arguments, by_level, ci_text, markdown_table, paired,
                    paired_row, paired_text, resolved, run, series, write_readme)

NAME = "market_linking"
LINK = "link"
LEVELS = ["apart", "cost_0", "cost_0_25", "cost_1", "cost_4"]
COST = {"cost_0": 0.0, "cost_0_25": 0.25, "cost_1": 1.0, "cost_4": 4.0}
ARBITRAGE = ["apart", "arbitrage", "arbitrage_x5", "cost_0_25", "cost_0_25_arbitrage"]
"""Apart; linked at USD 0.25 with developers selling only at home and 20 arbitrageurs per
market (five times as aggressive at ``arbitrage_x5``); developers selling abroad, without and
with arbitrageurs."""
MARKETS = ("strict", "lax")
METRICS = {
    "price_gap": "price gap (mean |log ratio| of the price indices)",
    "type_price_gap": "price gap type by type (mean |log ratio| of each type's prices)",
    "arbitraged_tco2": "credits arbitrageurs sold abroad",
    "mean_price_usd": "mean price (USD/t)",
    "price_volatility": "annualised volatility of the price index",
    "max_drawdown": "max drawdown of the price index",
    "claims_integrity": "real tonnes per credit behind buyers' claims",
    "integrity_ratio": "real tonnes per credit retired in the registry",
    "bought_abroad": "credits bought abroad",
    "bought_abroad_integrity": "real tonnes per credit bought abroad",
    "real_mitigation_tco2": "real mitigation (tCO2e)",
    "developer_profit_usd": "developer profit (USD)",
}


def column(metric: str, market: str | None) -> str:
    return metric if market is None else f"{metric}_{market}"


def per_market(metric: str) -> list[str | None]:
    return [None] if metric in ("price_gap", "type_price_gap") else list(MARKETS)


def direction(d: dict, up: str, down: str) -> str:
    """``up`` or ``down`` by the sign of a resolved paired difference, else 'no resolved
    change'."""
    if not resolved(d):
        return "no resolved change"
    return up if d["mean"] > 0 else down


def steps_by_level(runs: pd.DataFrame) -> pd.DataFrame:
    """The sweep's per-step series, each row with its run's link level."""
    steps = series(NAME)
    return steps.assign(link=steps["run_id"].map(runs.set_index("run_id")[LINK]))


def import_months(steps: pd.DataFrame) -> dict[str, float]:
    """Per linked level, the share of recorded months in which the strict market's buyers
    bought abroad, over all runs (``steps``: :func:`steps_by_level`)."""
    bought = steps.groupby("run_id")["bought_abroad_strict"].diff().fillna(
        steps["bought_abroad_strict"])
    return (bought > 0).groupby(steps[LINK]).mean().to_dict()


def panels(axes, runs: pd.DataFrame, metrics: list[str], levels: list[str],
           ticks: list[str]) -> None:
    """One panel per metric on ``axes``: its mean and 95% interval at each of the link
    ``levels`` (labelled ``ticks``), one line per market."""
    x = np.arange(len(levels))
    for ax, metric in zip(axes, metrics):
        for k, market in enumerate(per_market(metric)):
            table = by_level(runs, LINK, column(metric, market)).set_index(LINK).loc[levels]
            err = np.array([table["mean"] - table["ci_low"], table["ci_high"] - table["mean"]])
            ax.errorbar(x + 0.08 * k, table["mean"], yerr=np.nan_to_num(err), marker="o", ms=4,
                        capsize=3, label=market or "between the markets")
        ax.set_xticks(x, ticks, fontsize=8)
        ax.set_title(METRICS[metric], fontsize=9)
        ax.legend(fontsize=7)


def figure(runs: pd.DataFrame, path) -> None:
    """Each metric per link level, one line per market, mean and 95% interval."""
    shown = ["price_gap", "mean_price_usd", "price_volatility", "max_drawdown",
             "claims_integrity", "real_mitigation_tco2"]
    fig = Figure(figsize=(10, 9), layout="constrained")
    panels(fig.subplots(3, 2).ravel(), runs, shown, LEVELS,
           ["apart", "linked\ncost 0", "linked\n0.25", "linked\n1", "linked\n4"])
    fig.suptitle("Two voluntary markets apart and linked by mutual recognition "
                 "(transfer cost USD per credit; mean and 95% CI over replications)",
                 fontsize=10)
    fig.savefig(path, dpi=110)


def arbitrage_figure(runs: pd.DataFrame, path) -> None:
    """The arbitrage levels side by side: price gaps, volatility and the real tonnes behind
    the strict buyers' claims, mean and 95% interval."""
    shown = ["type_price_gap", "mean_price_usd", "price_volatility", "claims_integrity"]
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    panels(fig.subplots(2, 2).ravel(), runs, shown, ARBITRAGE,
           ["apart", "arbitrage\nonly", "arbitrage\nx5", "linked", "linked\n+ arbitrage"])
    fig.suptitle("Traders' arbitrage (transfer cost USD 0.25): developers selling only at home "
                 "(arbitrage only), or abroad too; mean and 95% CI over replications",
                 fontsize=10)
    fig.savefig(path, dpi=110)


def paths_figure(steps: pd.DataFrame, path) -> None:
    """Mean price index of each market month by month, apart and linked at USD 0.25
    (``steps``: :func:`steps_by_level`)."""
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    for level_name, style in (("apart", "--"), ("cost_0_25", "-")):
        sub = steps[steps[LINK] == level_name]
        for k, market in enumerate(MARKETS):
            mean = sub.groupby("step")[f"price_index_usd_{market}"].mean()
            ax.plot(mean.index, mean.to_numpy(), style, color=f"C{k}",
                    label=f"{market}, {'apart' if level_name == 'apart' else 'linked (0.25)'}")
    ax.set_xlabel("recorded month (after 72 months of burn-in)")
    ax.set_ylabel("price index, USD/t (mean over runs)")
    ax.set_title("Price indices month by month", fontsize=10)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


def main() -> None:
    args = arguments(__doc__)
    spec, runs, target = run(NAME, args)
    runs = runs.assign(real_mitigation_tco2_both=runs["real_mitigation_tco2_strict"]
                       + runs["real_mitigation_tco2_lax"])
    steps = steps_by_level(runs)
    figure(runs, target / "market_linking.png")
    paths_figure(steps, target / "price_paths.png")
    arbitrage_figure(runs, target / "arbitrage.png")
    params = list(spec.parameters)

    def diff(a: str, b: str, name: str) -> dict:
        return paired(runs, params, LINK, a, b, name)

    def at(name: str, lvl: str) -> str:
        return ci_text(by_level(runs, LINK, name).set_index(LINK).loc[lvl])

    gap = {lvl: diff(lvl, "apart", "price_gap") for lvl in COST}
    months = import_months(steps)
    findings = [
        "Prices move together when linked, as far as the transfer cost lets them: the gap "
        f"between the two price indices is {at('price_gap', 'apart')} apart and "
        + ", ".join(f"{at('price_gap', lvl)} linked at USD {COST[lvl]:g}" for lvl in COST)
        + "; linked minus apart, paired: "
        + "; ".join(f"USD {COST[lvl]:g} {paired_text(gap[lvl])}" for lvl in COST) + ". "
        "Mean prices: the strict market's "
        f"{at('mean_price_usd_strict', 'apart')} apart and "
        f"{at('mean_price_usd_strict', 'cost_0_25')} linked at 0.25, the lax market's "
        f"{at('mean_price_usd_lax', 'apart')} and {at('mean_price_usd_lax', 'cost_0_25')}: "
        "the lax market issues several times the strict market's credits, so the strict "
        "market's price moves most."]
    stability = []
    for market in MARKETS:
        vol = diff("cost_0_25", "apart", f"price_volatility_{market}")
        dd = diff("cost_0_25", "apart", f"max_drawdown_{market}")
        stability.append(
            f"the {market} market's volatility {at(f'price_volatility_{market}', 'apart')} "
            f"apart, {at(f'price_volatility_{market}', 'cost_0_25')} linked "
            f"({direction(vol, 'more volatile', 'steadier')}: paired {paired_text(vol)}), its "
            f"max drawdown {direction(dd, 'deeper', 'shallower')} ({paired_text(dd)})")
    findings.append(
        "Does linking stabilise prices, as the source report hopes? At a transfer cost of "
        "USD 0.25, " + "; ".join(stability) + ". Markets of unequal size do not share "
        "stability equally: the one that imports supply and the one that exports it are "
        "told apart here. A costly link is another matter: the strict market's volatility "
        "is " + ", ".join(f"{at('price_volatility_strict', lvl)} at USD {COST[lvl]:g}"
                          for lvl in COST)
        + f" (USD 4 minus apart, paired: "
        f"{paired_text(diff('cost_4', 'apart', 'price_volatility_strict'))}). Imports flow "
        "only while the strict market's bids clear the lax sellers' asks plus the cost; the "
        "strict market's buyers bought abroad in "
        + ", ".join(f"{100 * months[lvl]:.0f}%" for lvl in COST)
        + " of months at USD " + ", ".join(f"{COST[lvl]:g}" for lvl in COST)
        + ". That imports switching on and off make the strict price swing at USD 4 is the "
        "likely reading, not one these runs establish.")
    where = []
    for market in MARKETS:
        d = diff("cost_0_25", "apart", f"claims_integrity_{market}")
        where.append(f"{market} buyers' claims {at(f'claims_integrity_{market}', 'apart')} "
                     f"apart and {at(f'claims_integrity_{market}', 'cost_0_25')} linked "
                     f"(paired {paired_text(d)})")
    findings.append(
        "Low-integrity credits flow to the strict market's buyers: the credits they buy "
        f"abroad carry {at('bought_abroad_integrity_strict', 'cost_0_25')} real tonnes per "
        f"credit (linked at 0.25) against {at('integrity_ratio_strict', 'apart')} for those "
        "retired in their own registry apart. Real tonnes per credit behind claims: "
        + "; ".join(where) + ". The strict market's rules screen what it issues, not what "
        "its buyers may claim once it recognises a lax market's credits: mutual recognition "
        "between unequal rules is a channel for greenwashing.")
    mitigation = []
    for market in MARKETS:
        d = diff("cost_0_25", "apart", f"real_mitigation_tco2_{market}")
        mitigation.append(f"{market} {direction(d, 'up', 'down')}, {paired_text(d)}")
    both = diff("cost_0_25", "apart", "real_mitigation_tco2_both")
    mitigation.append(f"both markets together {direction(both, 'up', 'down')}, "
                      f"{paired_text(both)}")
    findings.append(
        "Real mitigation (firms' abatement plus the real tonnes behind their credits), linked "
        "at 0.25 minus apart: " + "; ".join(mitigation) + " tCO2e over the 20 years. A "
        "market's figure is its firms' abatement plus the real tonnes behind the credits "
        "retired in its registry, whoever bought them, so the sum over the two markets is "
        "the one to read.")
    findings.append(
        "That strict buyers claim low-integrity credits rests on their not telling where a "
        "credit comes from or how good it is: books are per project type. Quality books "
        "(rules.market.quality_books: books by rating grade and label) are not built across "
        "a link yet, so this sweep cannot test it.")
    findings.append(
        "What is built in and what is not: a developer spreads its offer over the markets by "
        "their depth, whatever their prices, and asks everywhere at the best price it "
        "expects net of the transfer cost, plus that cost abroad (`vcm_sim/linking.py`). "
        "That prices converge up to about the transfer cost is this rule at work, and the "
        "lower strict price follows from the lax market's larger supply reaching the strict "
        "market's book in proportion to its depth; the steadier strict price is that book "
        "made deeper. A rule that sent each type's whole offer to the market with the best "
        "forecast was tried and dropped: prices swung from market to market. That strict "
        "buyers' claims lose real tonnes follows from their books not telling credits apart "
        "(untested here: see above). The sizes, how each market's volatility and drawdown "
        "respond, and what the transfer cost does come from the agents' bids, asks, "
        "learning, entry and exit.")
    doubled = {m: runs[f"double_claimed_tco2_{m}"] == runs[f"bought_abroad_{m}"]
               for m in MARKETS}
    findings.append(
        "Double claiming, an identity here: no firm in these markets makes contribution "
        "claims and mutual recognition transfers no credit with a corresponding adjustment, "
        "so every credit bought abroad is counted by its host's inventory and by its buyer "
        "(`double_claimed_tco2` equals `bought_abroad` in "
        + " and ".join(f"{int(doubled[m].sum())} of {len(runs)} runs for the {m} market"
                       for m in MARKETS)
        + "): linked at USD 0.25, "
        + "; ".join(f"{at(f'double_claimed_tco2_{m}', 'cost_0_25')} tCO2e by the {m} "
                    "market's buyers" for m in MARKETS)
        + " over the 20 years. How many are double claimed is the volume of trade abroad, "
        "which the agents decide; that all are follows from the rules. "
        "`experiments/article6.py` measures sales with adjustments (the `corsia` preset).")
    findings.extend(arbitrage_findings(runs, diff, at))
    findings.append(
        "Not measured here: an ETS in linked markets (refused; a compliance ETS alone is "
        "`experiments/ets_offset_cap.py`). A common registry is not a separate mode: under "
        "mutual recognition as built, a credit sold abroad already stays in the registry that "
        "issued it and is retired there on the buyer's behalf, which is what a common "
        "registry would record; what else a common registry changes (one disclosure regime, "
        "lower fees) is set with the markets' disclosure rules and `transfer_cost_usd`.")
    table = pd.DataFrame([
        {"metric": column(m, mk), **{lvl: ci_text(by_level(runs, LINK, column(m, mk))
                                                  .set_index(LINK).loc[lvl])
                                     for lvl in LEVELS + ARBITRAGE[1:3]
                                     + ARBITRAGE[4:]}}
        for m in METRICS for mk in per_market(m)])
    pairs = pd.DataFrame([{"A - B": f"{lvl} - apart", "metric": column(m, mk),
                           **paired_row(diff(lvl, "apart", column(m, mk)))}
                          for m in ("price_gap", "price_volatility", "max_drawdown",
                                    "claims_integrity", "real_mitigation_tco2")
                          for mk in per_market(m) for lvl in COST])
    sections = ["## Means per point, 95% CI over replications", "", markdown_table(table), "",
                "## Paired differences against the markets apart (link level A minus apart)",
                "", PAIRED_NOTE, "", markdown_table(pairs), "",
                "![market linking](market_linking.png)", "", "![price paths](price_paths.png)",
                "", "![arbitrage](arbitrage.png)"]
    write_readme(target, spec, runs,
                 "Two voluntary markets with different integrity rules: do their prices "
                 "converge when they recognise each other's credits, does linking stabilise "
                 "prices (the source report's hope for a joint Belt and Road market), and "
                 "where do low-integrity credits end up?",
                 findings, sections,
                 "The `linked` preset at full size: each market the baseline's 1000 firms, 200 "
                 "developers and 20 verifiers, one with the icvcm preset's integrity rules "
                 "(strict), one with the lax preset's (lax), 240 recorded months after 72 of "
                 "burn-in; linking is on from the first burn-in month. The transfer cost is "
                 "an assumption, varied here.")


def arbitrage_findings(runs: pd.DataFrame, diff, at) -> list[str]:
    """What traders' arbitrage does (``diff`` and ``at``: :func:`main`'s paired difference
    and interval text)."""
    def both(metric: str, a: str, b: str = "apart") -> str:
        return "; ".join(f"{m} {paired_text(diff(a, b, f'{metric}_{m}'))}" for m in MARKETS)

    def carried(level: str) -> str:
        return " and ".join(f"{at(f'arbitraged_tco2_{m}', level)} credits from the {m} "
                            "market" for m in MARKETS)

    def ratio(by_developers: str, by_arbitrage: str) -> float:
        bought = runs.groupby(LINK)["bought_abroad_strict"].mean()
        return float(bought[by_developers] / bought[by_arbitrage])

    def stability_verdict() -> str:
        changed = [f"the {m} market's {label} at {name}"
                   for lvl, name in (("arbitrage", "20 arbitrageurs"),
                                     ("arbitrage_x5", "five times the aggressiveness"))
                   for metric, label in (("price_volatility", "volatility"),
                                         ("max_drawdown", "drawdown"))
                   for m in MARKETS if resolved(diff(lvl, "apart", f"{metric}_{m}"))]
        if not changed:
            return "no change in either market's volatility or drawdown is resolved"
        return "the resolved changes in stability are " + ", ".join(changed)

    gap = {lvl: diff(lvl, "apart", "type_price_gap") for lvl in ("arbitrage", "arbitrage_x5")}
    beside = diff("cost_0_25_arbitrage", "cost_0_25", "type_price_gap")
    claims = {lvl: diff(lvl, "apart", "claims_integrity_strict")
              for lvl in ("arbitrage", "arbitrage_x5")}
    return [
        "Traders' arbitrage where developers sell only at home (`linking.developer_access = "
        "0`, transfer cost USD 0.25; with no one carrying credits across that is the markets "
        "apart, bit for bit, so these points pair with `apart`): the markets' prices of the "
        f"same type differ by {at('type_price_gap', 'apart')} apart (mean |log ratio| over "
        f"months and types), {at('type_price_gap', 'arbitrage')} with 20 arbitrageurs in each "
        f"market (paired {paired_text(gap['arbitrage'])}) and "
        f"{at('type_price_gap', 'arbitrage_x5')} with arbitrageurs five times as aggressive "
        f"(paired {paired_text(gap['arbitrage_x5'])}). Over the 20 years they carried "
        f"{carried('arbitrage')} abroad ({carried('arbitrage_x5')} at five times), against "
        f"{at('bought_abroad_strict', 'cost_0_25')} credits the strict market's buyers "
        "bought abroad from developers at the same transfer cost. Mean prices, arbitrage "
        "minus apart, paired: " + both("mean_price_usd", "arbitrage") + "; volatility: "
        + both("price_volatility", "arbitrage") + " (five times as aggressive: "
        + both("price_volatility", "arbitrage_x5") + "); max drawdown: "
        + both("max_drawdown", "arbitrage") + " (five times as aggressive: "
        + both("max_drawdown", "arbitrage_x5") + "). So arbitrage on this scale moves "
        f"little: {stability_verdict()}. Linked at USD 0.25 with developers selling abroad, "
        "the strict market's buyers buy "
        f"{ratio('cost_0_25', 'arbitrage'):.0f} times as many credits abroad as arbitrageurs "
        f"carry to them ({ratio('cost_0_25', 'arbitrage_x5'):.1f} times at five times the "
        "aggressiveness; means over runs), and with them the price gap closes and the strict "
        "market steadies (above).",
        "What of this is the rule and what the markets' response: an arbitrageur trades only "
        "while the spread exceeds the transfer cost and its dead band, and its position is "
        "`aggressiveness` times the relative spread (at most 1) times its type's typical "
        "monthly volume at the venue per trader of its market (with every trader an "
        "arbitrageur, spread over five types, a fifth of that per type in all), so that the "
        "spread narrows, and by more at five times the aggressiveness, is built in; that "
        "how far it narrows is set by an aggressiveness nobody has measured is the finding "
        "to take away, not the sizes. The real tonnes per credit behind the strict buyers' "
        f"claims change by {paired_text(claims['arbitrage'])} "
        f"({paired_text(claims['arbitrage_x5'])} at five times): arbitrageurs carry the lax "
        "market's credits, so this follows from their volume.",
        "Beside developers who sell abroad themselves, arbitrageurs find little to do: "
        "developers already ask the best net price everywhere, so the type-by-type gap is "
        f"{at('type_price_gap', 'cost_0_25')} without them and "
        f"{at('type_price_gap', 'cost_0_25_arbitrage')} with them (paired "
        f"{paired_text(beside)}), and they carry {carried('cost_0_25_arbitrage')} "
        "abroad.",
    ]


if __name__ == "__main__":
    main()
