"""Buffer adequacy: buffer share vs wildfire regime. When does the buffer pool stop covering
reversals? Writes results/buffer_adequacy/.

Run: ``python experiments/buffer_adequacy.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from common import (PAIRED_NOTE, arguments, by_level, ci_text, fmt, level, markdown_table,
                    paired, paired_row, paired_text, run, series, write_readme)

NAME = "buffer_adequacy"
SHARE = "rules.integrity.buffer_share"
REGIMES = ["normal", "elevated", "severe", "catastrophic"]
RATIO = "uncovered / ever issued (%)"


def first_shortfall(steps: pd.DataFrame) -> pd.DataFrame:
    """Per run: the first step at which reversals exceeded the buffer (NaN if never)."""
    short = steps[steps["buffer_shortfall_tco2"] > 0]
    first = short.groupby("run_id")["step"].min().rename("first_shortfall_step")
    return first.reindex(steps["run_id"].unique()).reset_index()


def main() -> None:
    args = arguments(__doc__)
    spec, runs, target = run(NAME, args)
    steps = series(NAME)
    runs = runs.merge(first_shortfall(steps), on="run_id", how="left")
    runs["short"] = runs["first_shortfall_step"].notna()
    runs["short_at_start"] = runs["first_shortfall_step"] == steps["step"].min()
    # The shortfall counts reversals, in the recorded months, of the carbon behind every
    # credit ever issued (the seeded past and the burn-in included), so it is divided by the
    # registry's stock of credits ever issued at the end of the run, not by the recorded
    # months' issuance (`issued_total`), which leaves the older credits out.
    ever = steps.sort_values("step").groupby("run_id")["issued"].last().rename("issued_ever")
    runs = runs.merge(ever, on="run_id", how="left")
    runs["shortfall_share"] = 100 * runs["buffer_shortfall_tco2"] / runs["issued_ever"]
    runs["regime"] = pd.Categorical(runs["regime"], REGIMES, ordered=True)

    rows = []
    for (regime, share), g in runs[runs["status"] == "ok"].groupby(["regime", SHARE],
                                                                    observed=True):
        first = g["first_shortfall_step"].dropna() / 12
        rows.append({"regime": regime, "buffer share": share, "runs": len(g),
                     "runs short (%)": 100 * g["short"].mean(),
                     "short in month 0 (%)": 100 * g["short_at_start"].mean(),
                     "median first shortfall (year)": first.median() if len(first) else np.nan,
                     RATIO: g["shortfall_share"].mean(),
                     "buffer at end (credits)": g["buffer_final"].mean()})
    table = pd.DataFrame(rows)
    _figures(runs, steps, table, target)

    findings = []
    for regime in REGIMES:
        t = table[table["regime"] == regime]
        safe = t[t["runs short (%)"] == 0]["buffer share"]
        never = f"no run fell short at any buffer share from {safe.min():g}" if len(safe) else \
            "every buffer share tried left some runs short"
        worst = t.iloc[0]
        findings.append(
            f"{regime.capitalize()} regime: at a {worst['buffer share']:g} buffer share "
            f"{fmt(worst['runs short (%)'])}% of runs ran short (median first shortfall in "
            f"year {fmt(worst['median first shortfall (year)'])}), leaving "
            f"{fmt(worst[RATIO])}% of the credits ever issued uncovered; {never}"
            + (f" (smallest safe share tried: {safe.min():g})." if len(safe) else
               f"; at {t.iloc[-1]['buffer share']:g}: {fmt(t.iloc[-1]['runs short (%)'])}% of "
               f"runs short, {fmt(t.iloc[-1][RATIO])}% uncovered."))
    at_start = table[table["short in month 0 (%)"] > 0]
    if len(at_start):
        findings.append(
            "Runs already short in the first recorded month (the pool ran dry in the seeded "
            "past or the burn-in, so their first shortfall, year 0, is censored: it says when "
            "recording began, not when the pool ran out): " + "; ".join(
                f"{r['regime']} at {r['buffer share']:g}: {fmt(r['short in month 0 (%)'])}%"
                for _, r in at_start.iterrows()) + ".")
    load = runs[runs["status"] == "ok"].groupby("regime", observed=True)[
        ["reversed_tco2", "abandoned_tco2", "projects_abandoned"]].mean()
    findings.append(
        "What the pool must cover over the recorded months (mean per run): " + "; ".join(
            f"{regime}: reversals {fmt(r['reversed_tco2'])} tCO2e, abandoned projects' "
            f"credited carbon {fmt(r['abandoned_tco2'])} tCO2e "
            f"({fmt(100 * r['abandoned_tco2'] / (r['reversed_tco2'] + r['abandoned_tco2']), 2)}"
            f"% of the load, {fmt(r['projects_abandoned'], 2)} projects)"
            for regime, r in load.iterrows()) + ". Since issue 12 a developer abandons a "
        "project whose credits no longer pay its running costs, and its carbon counts as "
        "reversed, so the shortfall below comes from fires and from the market.")
    integrity = by_level(runs, "regime", "integrity_ratio")
    findings.append("Integrity ratio (real tonnes per retired credit, after uncovered "
                    "reversals) by regime: " + ", ".join(
                        f"{r['regime']}: {ci_text(r)}" for _, r in integrity.iterrows()) + ".")
    params = list(spec.parameters)
    findings += paired_findings(runs, params)
    pairs = paired_table(runs, params)
    shown = table.assign(**{c: table[c].map(lambda v: fmt(v)) for c in table.columns
                            if c not in ("regime", "buffer share", "runs")})
    sections = ["## Per regime and buffer share", "",
                f"'{RATIO}': the buffer shortfall over the recorded months (reversals and "
                "abandoned projects the pool could not cover) divided by the registry's stock "
                "of credits ever issued at the end of the run (`issued`, the seeded past and "
                "burn-in included): reversals "
                "strike the carbon behind every credit ever issued, not only behind those "
                "issued while recording. Mean over the runs of each cell.", "",
                markdown_table(shown), "",
                "## Paired differences (level A minus level B)", "", PAIRED_NOTE, "",
                markdown_table(pairs), "",
                "![buffer adequacy](buffer_adequacy.png)", "",
                "![buffer over time](buffer_over_time.png)"]
    write_readme(target, spec, runs,
                 "How large must the buffer contribution be for the buffer pool to cover "
                 "reversals (fires, pests) under different wildfire regimes, and when does it "
                 "run out when it is too small?",
                 findings, sections,
                 "Regimes: normal = baseline hazards; elevated = hazard x3, bad fire years "
                 "15%/yr; severe = hazard x10, bad years 25%/yr (the `wildfire` preset's "
                 "nature); catastrophic = severe plus wildfire events hitting half of the "
                 "regions in years 3 and 10. The buffer share replaces every type's own share. "
                 "'Runs short' means the pool could not cover some reversal or abandoned "
                 "project (`buffer_shortfall_tco2` > 0), found from the kept per-step series. "
                 "Scaled-down world: 400 firms, 80 developers, 8 verifiers (baseline: 1000, "
                 "200, 20) over the baseline's 240 monthly steps.")


def _diffs(runs: pd.DataFrame, params: list[str]) -> list[tuple[str, str, dict]]:
    """The comparisons the findings rest on: within each regime, the largest buffer share
    against the smallest; within each share, every regime against the normal one (the same
    uniforms decide reversals at every hazard, so a higher hazard hits a superset of projects)
    and catastrophic against severe (the two wildfire events only)."""
    shares = sorted(runs[SHARE].unique())
    out = []
    for regime in REGIMES:
        sub = runs[runs["regime"] == regime]
        out.append((regime, f"share {level(shares[-1])} - {level(shares[0])}",
                    paired(sub, params, SHARE, shares[-1], shares[0], "shortfall_share")))
    for a, b in [("elevated", "normal"), ("severe", "normal"), ("catastrophic", "normal"),
                 ("catastrophic", "severe")]:
        out.append(("all shares", f"{a} - {b}",
                    paired(runs, params, "regime", a, b, "integrity_ratio")))
    return out


def paired_findings(runs: pd.DataFrame, params: list[str]) -> list[str]:
    diffs = _diffs(runs, params)
    share = [f"{where} {paired_text(d)}" for where, _, d in diffs[:len(REGIMES)]]
    regime = [f"{what} {paired_text(d)}" for _, what, d in diffs[len(REGIMES):]]
    first = diffs[0][1].removeprefix("share ")
    return [f"Paired differences of {RATIO} (percentage points), buffer share {first}, by "
            "regime: " + "; ".join(share) + ".",
            "Paired differences of the integrity ratio between regimes (averaged over buffer "
            "shares): " + "; ".join(regime) + "."]


def paired_table(runs: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    rows = []
    for where, what, d in _diffs(runs, params):
        metric = RATIO if what.startswith("share") else "integrity_ratio"
        rows.append({"within": where, "A - B": what, "metric": metric, **paired_row(d)})
    return pd.DataFrame(rows)


def _figures(runs, steps, table, target):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.6), layout="constrained")
    a, b = fig.subplots(1, 2)
    for regime in REGIMES:
        t = table[table["regime"] == regime]
        a.plot(t["buffer share"], t["runs short (%)"], marker="o", label=regime)
        b.plot(t["buffer share"], t[RATIO], marker="o", label=regime)
    a.set_xlabel("buffer share")
    a.set_ylabel("runs with a shortfall (%)")
    b.set_xlabel("buffer share")
    b.set_ylabel("uncovered reversals / credits ever issued (%)")
    a.legend(fontsize=8)
    fig.suptitle("Buffer adequacy by wildfire regime", fontsize=10)
    fig.savefig(target / "buffer_adequacy.png", dpi=110)

    merged = steps.merge(runs[["run_id", "regime", SHARE]], on="run_id")
    shares = sorted(runs[SHARE].unique())
    chosen = [shares[1], shares[len(shares) // 2]] if len(shares) > 2 else shares
    fig = Figure(figsize=(5 * len(chosen), 3.4), layout="constrained")
    axes = fig.subplots(1, len(chosen), squeeze=False)[0]
    for ax, share in zip(axes, chosen):
        for regime in REGIMES:
            m = merged[(merged["regime"] == regime) & (merged[SHARE] == share)]
            mean = m.groupby("step")["buffer"].mean()
            ax.plot(mean.index / 12, mean.to_numpy(), label=regime)
        ax.set_title(f"buffer share {share:g}", fontsize=9)
        ax.set_xlabel("year")
        ax.set_ylabel("buffer pool (credits, mean over runs)")
    axes[0].legend(fontsize=8)
    fig.savefig(target / "buffer_over_time.png", dpi=110)


if __name__ == "__main__":
    main()
