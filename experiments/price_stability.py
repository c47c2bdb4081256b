"""Price stability: volatility, drawdown and crash frequency of the credit price index vs
integrity rules, offset cap, trader share and supply shocks. Writes results/price_stability/.

Run: ``python experiments/price_stability.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from common import (arguments, by_level, ci_text, fmt, level, markdown_table, run, series,
                    write_readme)

NAME = "price_stability"
FACTORS = {"integrity": "integrity rules", "rules.market.offset_cap": "offset cap",
           "population.traders": "traders (per 400 firms)", "supply_shock": "supply shock"}
METRICS = {"price_volatility": "annualised volatility", "max_drawdown": "max drawdown",
           "crash_count": "crashes (months with a fall >= 25%)"}
EARLY = 24            # recorded months 0-23: where the empty start's bust fell before issue 11
CRASH = math.log(0.75)  # a crash month: the index falls by 25% or more (metrics.crash_count)
# Issue 11's measurements on the code before it (empty start, no burn-in), same sweep file.
BEFORE = {"max_drawdown": 0.77, "max_drawdown_from_24": 0.30, "early_crash_share": 0.63}


def main() -> None:
    args = arguments(__doc__)
    spec, runs, target = run(NAME, args)
    main_effects_figure(runs, target / "main_effects.png")

    findings, rows = [], []
    for metric, label in METRICS.items():
        spans = {}
        for factor, name in FACTORS.items():
            table = by_level(runs, factor, metric)
            spans[factor] = np.ptp(table["mean"])
            for _, r in table.iterrows():
                rows.append({"metric": metric, "factor": name, "level": level(r[factor]),
                             "n": int(r["n"]), "mean [95% CI]": ci_text(r)})
        ranked = sorted(spans, key=lambda f: -spans[f])
        top = ranked[0]
        table = by_level(runs, top, metric)
        levels = ", ".join(f"{level(r[top])}: {ci_text(r)}" for _, r in table.iterrows())
        overall = by_level(runs.assign(all="all"), "all", metric).iloc[0]
        findings.append(
            f"{label[0].upper() + label[1:]} over all runs: {ci_text(overall)}. The factor that moves it "
            f"most is {FACTORS[top]} ({levels}); then " + ", ".join(
                f"{FACTORS[f]} (spread {fmt(spans[f])})" for f in ranked[1:]) + ".")
    shock = by_level(runs, ["supply_shock", "integrity"], "price_volatility")
    findings.append("Volatility by supply shock and integrity rules: " + "; ".join(
        f"{level(r['supply_shock'])}/{level(r['integrity'])}: {ci_text(r)}" for _, r in shock.iterrows()) + ".")
    traders = by_level(runs, ["population.traders"], "mean_price_usd")
    findings.append("Mean price (USD/t) by number of traders: " + ", ".join(
        f"{level(r['population.traders'])}: {ci_text(r)}" for _, r in traders.iterrows()) + ".")
    when = timing(series(NAME))
    timing_figure(when, spec.overrides.get("burn_in", "the scenario's"), target / "timing.png")
    findings.append(timing_finding(when, len(runs)))
    undefined = int(runs["price_volatility"].isna().sum())
    if undefined:
        findings.append(f"{undefined} runs have no volatility (fewer than two priced months); "
                        f"they are left out of its means.")
    sections = ["## Main effects (each level averaged over the other factors)", "",
                markdown_table(pd.DataFrame(rows)), "", "![main effects](main_effects.png)", "",
                "## When crashes and drawdowns happen", "", "![timing](timing.png)"]
    write_readme(target, spec, runs,
                 "Does the credit price get more volatile, fall further or crash more often "
                 "under lax integrity rules, a tight offset cap, more speculative traders, or "
                 "a supply shock (an issuance suspension, a large wildfire)?",
                 findings, sections,
                 "Integrity levels: lax = rigour 0.3, satellite MRV 0.1, developer-picked "
                 "verifiers; strict = rigour 0.8, satellite MRV 0.6, regulator-assigned. Supply "
                 "shocks at month 48: issuance suspended for three years, or a wildfire hitting "
                 "60% of regions. Prices are measured on the fixed-weight price index. "
                 "Scaled-down world: 400 firms, 80 developers, 8 verifiers (baseline: 1000, 200, "
                 "20) over 180 monthly steps (baseline: 240).")


def timing(steps: pd.DataFrame) -> dict:
    """Where in the recorded months crashes and max drawdowns fall, from the kept index series.

    Crashes are counted as :func:`vcm_sim.metrics.crash_count` counts them (a log return of
    the index between two consecutive priced months at or below log 0.75), each dated by the
    month of the fall; a run's max drawdown (on the forward-filled index, as
    :func:`vcm_sim.metrics.max_drawdown`) is dated by its trough. Also the max drawdown of
    each run's index from month ``EARLY`` on, to compare with the one over all months."""
    crash_months, troughs, whole, later = [], [], [], []
    per_run = []
    for _, g in steps.sort_values(["run_id", "step"]).groupby("run_id"):
        step = g["step"].to_numpy()
        price = g["price_index_usd"].to_numpy(dtype=float)
        r = np.diff(np.log(price))
        crashed = step[1:][np.isfinite(r) & (r <= CRASH)]
        crash_months.append(crashed)
        per_run.append(((crashed < EARLY).sum(), len(crashed)))
        filled = pd.Series(price).ffill()
        ok = filled.notna().to_numpy()
        if not ok.any():
            continue
        p, s = filled.to_numpy()[ok], step[ok]
        dd = (np.maximum.accumulate(p) - p) / np.maximum.accumulate(p)
        troughs.append(s[int(np.argmax(dd))])
        whole.append(float(dd.max()))
        tail = p[s >= EARLY]
        later.append(float(((np.maximum.accumulate(tail) - tail)
                            / np.maximum.accumulate(tail)).max()) if len(tail) else np.nan)
    months = int(steps["step"].max()) + 1
    crashes = np.concatenate(crash_months) if crash_months else np.zeros(0)
    early = float((crashes < EARLY).mean()) if len(crashes) else np.nan
    # A 95% interval of the early share that respects the clustering of crashes within runs:
    # bootstrap over runs (fixed seed, so the README is reproducible).
    counts = np.array(per_run, dtype=float).reshape(-1, 2)
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(2000):
        pick = counts[rng.integers(0, len(counts), len(counts))]
        if pick[:, 1].sum():
            boot.append(pick[:, 0].sum() / pick[:, 1].sum())
    troughs = np.array(troughs)
    return {"months": months, "crashes": len(crashes),
            "early_crashes": int((crashes < EARLY).sum()),
            "early_share": early,
            "early_ci": tuple(np.quantile(boot, [0.025, 0.975])) if boot else (np.nan, np.nan),
            "crash_months": crashes, "troughs": troughs,
            "median_trough": float(np.median(troughs)) if len(troughs) else np.nan,
            "early_troughs": float((troughs < EARLY).mean()) if len(troughs) else np.nan,
            "drawdown": float(np.mean(whole)) if whole else np.nan,
            "drawdown_from_24": float(np.nanmean(later)) if later else np.nan}


def timing_finding(t: dict, runs: int) -> str:
    """The start-against-rest finding (issue 11's acceptance criterion), from :func:`timing`."""
    base = EARLY / t["months"]
    low, high = t["early_ci"]
    crashes = (f"{t['early_crashes']} of {t['crashes']} crashes ({100 * t['early_share']:.0f}% "
               f"[{100 * low:.0f}%, {100 * high:.0f}%], bootstrap over runs) fall"
               if t["crashes"] else "no run crashed, so no crash falls")
    return (
        f"Where crashes and drawdowns fall (from the kept index series of all {runs} runs): "
        f"{crashes} in recorded months "
        f"0-{EARLY - 1}, which are {100 * base:.0f}% of the {t['months']} months; the median "
        f"run's max drawdown bottoms out in month {t['median_trough']:g} "
        f"({100 * t['early_troughs']:.0f}% of runs in months 0-{EARLY - 1}). The mean max "
        f"drawdown is {fmt(t['drawdown'])} over all months and {fmt(t['drawdown_from_24'])} "
        f"from month {EARLY} on. Before issue 11 (empty start, no burn-in) these were "
        f"{100 * BEFORE['early_crash_share']:.0f}% of crashes in months 0-{EARLY - 1} and a "
        f"max drawdown of {BEFORE['max_drawdown']:.2f} over all months against "
        f"{BEFORE['max_drawdown_from_24']:.2f} from month {EARLY} on: the start's bust was "
        f"the drawdown.")


def timing_figure(t: dict, burn_in: object, path) -> None:
    """Histograms of crash months and of max-drawdown trough months."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.2), layout="constrained")
    a, b = fig.subplots(1, 2)
    bins = np.arange(0, t["months"] + 12, 12)
    for ax, values, title in ((a, t["crash_months"], "crash months (fall >= 25%)"),
                              (b, t["troughs"], "month of each run's max-drawdown trough")):
        ax.hist(values, bins=bins, color="steelblue")
        ax.axvspan(0, EARLY, color="crimson", alpha=0.12, linewidth=0)
        ax.set_xlabel(f"recorded month (after {burn_in} months of burn-in)", fontsize=8)
        ax.set_ylabel("count over all runs", fontsize=8)
        ax.set_title(title, fontsize=9)
    fig.suptitle(f"Price stability: when crashes and drawdowns happen (shaded: months "
                 f"0-{EARLY - 1})", fontsize=10)
    fig.savefig(path, dpi=110)


def main_effects_figure(runs, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.3 * len(FACTORS), 2.6 * len(METRICS)), layout="constrained")
    axes = fig.subplots(len(METRICS), len(FACTORS), squeeze=False)
    for i, metric in enumerate(METRICS):
        for j, factor in enumerate(FACTORS):
            table = by_level(runs, factor, metric)
            at = np.arange(len(table))
            err = np.vstack([table["mean"] - table["ci_low"], table["ci_high"] - table["mean"]])
            axes[i][j].errorbar(at, table["mean"], yerr=np.nan_to_num(err), fmt="o", capsize=3)
            axes[i][j].set_xticks(at, [level(v) for v in table[factor]], fontsize=8)
            axes[i][j].set_xlim(-0.5, len(table) - 0.5)
            if i == len(METRICS) - 1:
                axes[i][j].set_xlabel(FACTORS[factor], fontsize=8)
            if j == 0:
                axes[i][j].set_ylabel(METRICS[metric], fontsize=8)
    fig.suptitle("Price stability: main effects (mean, 95% CI)", fontsize=10)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
