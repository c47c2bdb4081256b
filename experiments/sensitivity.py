"""Sensitivity: Sobol first- and total-order indices of the greenwashing index and of price
volatility over nine main parameters. Writes results/sensitivity/.

Run: ``python experiments/sensitivity.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

import pandas as pd

from common import arguments, fmt, markdown_table, run, write_readme

NAME = "sensitivity"


def main() -> None:
    args = arguments(__doc__)
    spec, runs, target = run(NAME, args)
    sobol = pd.read_csv(target / "sobol.csv", keep_default_na=False, na_values=[""])
    findings, sections = [], []
    ok = runs[runs["status"] == "ok"]
    for metric in spec.report.metrics or []:
        t = sobol[sobol["metric"] == metric].copy()
        if t["S1"].isna().all():
            note = t["note"].iloc[0] if len(t) else "no value"
            findings.append(f"{metric}: no Sobol indices ({note}).")
            continue
        t = t.sort_values("ST", ascending=False)
        t["parameter"] = t["parameter"].str.rsplit(".", n=1).str[-1]
        share, shift = noise_share(ok, metric)
        clear = t[t["S1"] - t["S1_conf"] > 0]
        findings.append(
            f"{metric}: largest total-order indices " + ", ".join(
                f"{r.parameter} (ST {fmt(r.ST, 2)} +/- {fmt(r.ST_conf, 2)}, S1 "
                f"{fmt(r.S1, 2)} +/- {fmt(r.S1_conf, 2)})" for r in t.iloc[:3].itertuples())
            + f". Run-to-run noise that does not cancel between points (the point x "
              f"replication interaction of the {spec.replications} paired runs, divided by "
              f"{spec.replications}) is {100 * share:.0f}% of the variance of the point means "
              f"and inflates every ST by about that much ({100 * shift:.0f}% with the shift "
              f"each replication's seed gives every point alike, which cancels in the "
              f"indices); "
            + (f"only {', '.join(clear['parameter'])} "
               f"{'has' if len(clear) == 1 else 'have'} a first-order index whose 95% "
               f"interval excludes zero." if len(clear) else
               "no first-order index has a 95% interval that excludes zero.")
            + (f" ({t['note'].iloc[0]}.)" if isinstance(t["note"].iloc[0], str)
               and t["note"].iloc[0] else ""))
        rho = rank_correlations(ok, list(spec.parameters), metric)
        strong = rho[rho["p"] < 0.01]
        findings.append(
            f"{metric}, cross-check on all {len(ok)} runs (Spearman rank correlation with each "
            f"parameter, p < 0.01): " + (", ".join(f"{r.parameter} {r.rho:+.2f}"
                                                   for r in strong.itertuples())
                                        if len(strong) else "none") + ".")
        shown = t[["parameter", "S1", "S1_conf", "ST", "ST_conf"]]
        shown = shown.assign(**{c: shown[c].map(lambda v: fmt(v, 2))
                                for c in ("S1", "S1_conf", "ST", "ST_conf")})
        sections += [f"## Sobol indices of {metric}", "", markdown_table(shown), "",
                     f"![sobol {metric}](sobol_{metric}.png)", ""]
    missing = runs[["greenwashing_index", "price_volatility"]].isna().sum()
    if missing.any():
        findings.append("Runs without a value: " + ", ".join(
            f"{k} {v}" for k, v in missing.items() if v) + ".")
    write_readme(target, spec, runs,
                 "Which of the main rule and world parameters drive the greenwashing index and "
                 "price volatility, alone (first-order Sobol index S1) and including their "
                 "interactions (total-order ST)?",
                 findings, sections,
                 "Nine parameters, Saltelli design with N = 64 (N x (9 + 2) = 704 points), "
                 "two runs per point; indices are computed on each point's mean with SALib "
                 "(95% bootstrap half-widths after +/-). Ranges: rigour, satellite MRV, "
                 "additionality strictness and watchdog intensity 0-1; verifier assignment "
                 "developer/regulator; buffer share 0.05-0.3; offset cap 0.05-1; traders 0-90; "
                 "hazard multiplier 0.5-10 (log scale). Scaled-down world: 400 firms, 80 "
                 "developers, 8 verifiers (baseline: 1000, 200, 20) over the baseline's 240 "
                 "monthly steps, to afford 1408 runs.")


def noise_share(ok: pd.DataFrame, metric: str) -> tuple[float, float]:
    """Share of the variance of the point means that is run-to-run noise, two ways.

    The points are paired (replication r of every point shares one seed), so part of the
    noise is a shift common to every point of a replication, which the Sobol estimators'
    differences between points cancel. What they do not cancel is the point x replication
    interaction: residual mean square of the two-way table point x replication, over the
    number of replications. Second value: the within-point variance over the number of
    replications, the measure for independent runs, which includes the common shift."""
    table = ok.pivot(index="point", columns="replication", values=metric).dropna()
    points, reps = table.shape
    residual = (table.sub(table.mean(axis=1), axis=0).sub(table.mean(axis=0), axis=1)
                + table.to_numpy().mean())
    interaction = float((residual ** 2).to_numpy().sum()) / ((points - 1) * (reps - 1))
    between = float(table.mean(axis=1).var(ddof=1))
    within = float(table.var(axis=1, ddof=1).mean())
    return interaction / reps / between, within / reps / between


def rank_correlations(ok: pd.DataFrame, params: list[str], metric: str) -> pd.DataFrame:
    """Spearman correlation of the metric with each parameter (categorical ones as codes),
    strongest first."""
    from scipy.stats import spearmanr

    rows = []
    for p in params:
        x = ok[p] if pd.api.types.is_numeric_dtype(ok[p]) else ok[p].astype("category").cat.codes
        keep = ok[metric].notna()
        rho, pvalue = spearmanr(x[keep], ok.loc[keep, metric])
        rows.append({"parameter": p.rsplit(".", 1)[-1], "rho": rho, "p": pvalue})
    return pd.DataFrame(rows).sort_values("rho", key=abs, ascending=False)


if __name__ == "__main__":
    main()
