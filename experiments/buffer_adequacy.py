"""Buffer adequacy: buffer share vs wildfire regime. When does the buffer pool stop covering
reversals? Writes results/buffer_adequacy/.

Run: ``python experiments/buffer_adequacy.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from common import (arguments, by_level, ci_text, fmt, markdown_table, run,
                    series, write_readme)

NAME = "buffer_adequacy"
SHARE = "rules.integrity.buffer_share"
REGIMES = ["normal", "elevated", "severe", "catastrophic"]


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
    runs["shortfall_share"] = runs["buffer_shortfall_tco2"] / runs["issued_total"]
    runs["regime"] = pd.Categorical(runs["regime"], REGIMES, ordered=True)

    rows = []
    for (regime, share), g in runs[runs["status"] == "ok"].groupby(["regime", SHARE],
                                                                    observed=True):
        first = g["first_shortfall_step"].dropna() / 12
        rows.append({"regime": regime, "buffer share": share, "runs": len(g),
                     "runs short (%)": 100 * g["short"].mean(),
                     "short in month 0 (%)": 100 * g["short_at_start"].mean(),
                     "median first shortfall (year)": first.median() if len(first) else np.nan,
                     "uncovered / issued (%)": 100 * g["shortfall_share"].mean(),
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
            f"{fmt(worst['uncovered / issued (%)'])}% of issued credits uncovered; {never}"
            + (f" (smallest safe share tried: {safe.min():g})." if len(safe) else
               f"; at {t.iloc[-1]['buffer share']:g}: {fmt(t.iloc[-1]['runs short (%)'])}% of "
               f"runs short, {fmt(t.iloc[-1]['uncovered / issued (%)'])}% uncovered."))
    at_start = table[table["short in month 0 (%)"] > 0]
    if len(at_start):
        findings.append(
            "Runs already short in the first recorded month (the pool ran dry in the seeded "
            "past or the burn-in, so their first shortfall, year 0, is censored: it says when "
            "recording began, not when the pool ran out): " + "; ".join(
                f"{r['regime']} at {r['buffer share']:g}: {fmt(r['short in month 0 (%)'])}%"
                for _, r in at_start.iterrows()) + ".")
    integrity = by_level(runs, "regime", "integrity_ratio")
    findings.append("Integrity ratio (real tonnes per retired credit, after uncovered "
                    "reversals) by regime: " + ", ".join(
                        f"{r['regime']}: {ci_text(r)}" for _, r in integrity.iterrows()) + ".")
    shown = table.assign(**{c: table[c].map(lambda v: fmt(v)) for c in table.columns
                            if c not in ("regime", "buffer share", "runs")})
    sections = ["## Per regime and buffer share", "", markdown_table(shown), "",
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
                 "'Runs short' means the pool could not cover some reversal "
                 "(`buffer_shortfall_tco2` > 0), found from the kept per-step series. "
                 "Scaled-down world: 400 firms, 80 developers, 8 verifiers (baseline: 1000, "
                 "200, 20) over the baseline's 240 monthly steps.")


def _figures(runs, steps, table, target):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.6), layout="constrained")
    a, b = fig.subplots(1, 2)
    for regime in REGIMES:
        t = table[table["regime"] == regime]
        a.plot(t["buffer share"], t["runs short (%)"], marker="o", label=regime)
        b.plot(t["buffer share"], t["uncovered / issued (%)"], marker="o", label=regime)
    a.set_xlabel("buffer share")
    a.set_ylabel("runs with a shortfall (%)")
    b.set_xlabel("buffer share")
    b.set_ylabel("uncovered reversals / issued (%)")
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
