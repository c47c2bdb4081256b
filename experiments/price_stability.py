"""Price stability: volatility, drawdown and crash frequency of the credit price index vs
integrity rules, offset cap, trader share and supply shocks. Writes results/price_stability/.

Run: ``python experiments/price_stability.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from common import (EXPERIMENTS, PAIRED_NOTE, arguments, by_level, ci_text, fmt, level,
                    markdown_table, paired, paired_row, paired_text, run, series,
                    write_readme)
from vcm_sim.sweep import load_sweep

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
    steps = series(NAME)
    params = list(spec.parameters)
    table = paired_table(runs, params)
    findings += paired_findings(runs, params)
    findings.append(suspension_finding(runs, steps, params))
    findings.append(wildfire_finding(runs, steps, params))
    _, scenario = load_sweep(EXPERIMENTS / f"{NAME}.toml")
    findings += outlier_findings(runs, scenario.traders.min_price_usd)
    when = timing(steps, runs.set_index("run_id")["replication"])
    timing_figure(when, spec.overrides.get("burn_in", "the scenario's"), target / "timing.png")
    findings.append(timing_finding(when, len(runs)))
    undefined = int(runs["price_volatility"].isna().sum())
    if undefined:
        findings.append(f"{undefined} runs have no volatility (fewer than two priced months); "
                        f"they are left out of its means.")
    sections = ["## Main effects (each level averaged over the other factors)", "",
                markdown_table(pd.DataFrame(rows)), "", "![main effects](main_effects.png)", "",
                "## Paired differences (level A minus level B, each averaged over the other "
                "factors)", "",
                PAIRED_NOTE, "",
                markdown_table(table), "",
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


COMPARISONS = [("integrity", "strict", "lax"), ("rules.market.offset_cap", 0.3, 0.05),
               ("rules.market.offset_cap", 1.0, 0.05), ("population.traders", 40, 0),
               ("population.traders", 120, 0), ("supply_shock", "suspension", "none"),
               ("supply_shock", "wildfire", "none")]


def paired_table(runs: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """Every comparison of :data:`COMPARISONS` for every metric, as paired differences."""
    rows = []
    for factor, a, b in COMPARISONS:
        for metric in [*METRICS, "mean_price_usd"]:
            rows.append({"factor": FACTORS[factor], "A - B": f"{level(a)} - {level(b)}",
                         "metric": metric,
                         **paired_row(paired(runs, params, factor, a, b, metric))})
    return pd.DataFrame(rows)


def paired_findings(runs: pd.DataFrame, params: list[str]) -> list[str]:
    """The comparisons the findings rest on, as paired differences."""
    def diff(factor, a, b, metric):
        return paired(runs, params, factor, a, b, metric)

    cap = {m: diff("rules.market.offset_cap", 1.0, 0.05, m) for m in METRICS}
    suspension = {m: diff("supply_shock", "suspension", "none", m) for m in METRICS}
    traders = {n: diff("population.traders", n, 0, "crash_count") for n in (40, 120)}
    integrity = {m: diff("integrity", "strict", "lax", m) for m in METRICS}
    without = by_level(runs, "population.traders", "crash_count").set_index(
        "population.traders").loc[0]
    return [
        "Paired differences (mean over replications of level A minus level B, averaged over "
        "the other factors; 95% interval over replications): no cap minus a 5% cap: volatility "
        + paired_text(cap["price_volatility"]) + ", max drawdown "
        + paired_text(cap["max_drawdown"]) + ", crashes " + paired_text(cap["crash_count"])
        + ".",
        "Issuance suspension minus no shock: max drawdown "
        + paired_text(suspension["max_drawdown"]) + ", volatility "
        + paired_text(suspension["price_volatility"]) + ", crashes "
        + paired_text(suspension["crash_count"]) + ".",
        f"Traders and crashes: {ci_text(without)} crashes per run without traders; paired "
        f"differences 40 minus 0 traders {paired_text(traders[40])}, 120 minus 0 "
        f"{paired_text(traders[120])}.",
        "Strict minus lax integrity rules: " + ", ".join(
            f"{METRICS[m]} {paired_text(d)}" for m, d in integrity.items()) + ".",
    ]


def _paired_index(runs: pd.DataFrame, steps: pd.DataFrame, params: list[str], shock: str
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(shock run's index, its paired no-shock run's index) for every pair, by month."""
    ok = runs[runs["status"] == "ok"]
    keys = [p for p in params if p != "supply_shock"] + ["replication"]
    index = {rid: g.sort_values("step")["price_index_usd"].to_numpy(dtype=float)
             for rid, g in steps.groupby("run_id")}
    base = ok[ok["supply_shock"] == "none"].set_index(keys)["run_id"]
    hit = ok[ok["supply_shock"] == shock].set_index(keys)["run_id"]
    return [(index[rid], index[base.loc[key]]) for key, rid in hit.items()]


def _first_difference(a: np.ndarray, b: np.ndarray) -> int | None:
    differs = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    return int(np.argmax(differs)) if differs.any() else None


SUSPEND, RESUME = 48, 84  # the suspension's months (price_stability.toml)


def suspension_finding(runs: pd.DataFrame, steps: pd.DataFrame, params: list[str]) -> str:
    """The suspension's path against its paired no-shock run: where they part, and the ratio
    of their indices (forward-filled) while issuance is shut and after it resumes."""
    pairs = _paired_index(runs, steps, params, "suspension")
    first = [_first_difference(a, b) for a, b in pairs]
    before = sum(f is None or f >= SUSPEND for f in first)
    ratio = {}
    for month in (SUSPEND - 1, RESUME - 1, RESUME + 12, RESUME + 36):
        values = [pd.Series(a).ffill().iloc[month] / pd.Series(b).ffill().iloc[month]
                  for a, b in pairs]
        ratio[month] = float(np.nanmedian(values))
    crashes = [step for a, _ in pairs
               for step in np.nonzero(np.diff(np.log(a)) <= CRASH)[0] + 1]
    after = sum(RESUME <= c < RESUME + 12 for c in crashes)
    return (f"Issuance suspension (months {SUSPEND}-{RESUME - 1}) against no shock, pair by "
            f"pair: {before} of {len(pairs)} paired runs have the same index until month "
            f"{SUSPEND - 1}; the median ratio of the suspension run's index to its pair's is "
            + ", ".join(f"{ratio[m]:.2f} in month {m}" for m in ratio)
            + f". {after} of the suspension runs' {len(crashes)} crashes fall in the year "
              f"after issuance resumes (months {RESUME}-{RESUME + 11}).")


def wildfire_finding(runs: pd.DataFrame, steps: pd.DataFrame, params: list[str]) -> str:
    """Whether the wildfire's paired runs have the no-shock runs' index, month by month."""
    ok = runs[runs["status"] == "ok"]
    keys = [p for p in params if p != "supply_shock"] + ["replication"]
    fire = ok[ok["supply_shock"] == "wildfire"].set_index(keys)
    pairs = _paired_index(runs, steps, params, "wildfire")
    first = [_first_difference(a, b) for a, b in pairs]
    parted = [f for f in first if f is not None]
    text = (f"Wildfire against no shock, pair by pair: {len(first) - len(parted)} of "
            f"{len(first)} paired runs have exactly the no-shock run's price index in every "
            f"month (the buffer pool absorbs the fire's reversals, which only cancel buffer "
            f"credits)")
    if not parted:
        return text + "."
    split = pd.DataFrame([dict(zip(keys, key)) for key, f in zip(fire.index, first)
                          if f is not None])
    counts = "; ".join(", ".join(f"{name} {level(v)}: {n}" for v, n in
                                 split[k].value_counts().sort_index().items())
                       for k, name in (("rules.market.offset_cap", "cap"),
                                       ("replication", "replication")))
    return (text + f"; in the other {len(parted)} the index first differs in month "
            f"{min(parted)}-{max(parted)} (the fire is in month 48; by cap and replication: "
            f"{counts}). A fire reaches prices only through what the buffer pool cannot "
            f"cover: real tonnes written off behind credits change which claims are exposed, "
            f"and with them buyers' trust.")


def outlier_findings(runs: pd.DataFrame, tick: float) -> list[str]:
    """Runs whose mean price is far from the rest (more than five times the median), listed
    when they are few; when they are many the prices split into two groups, which is said
    instead, with the markets whose mean price is within two ``tick`` (the lowest price, USD)
    of nothing."""
    ok = runs[runs["status"] == "ok"]
    median = ok["mean_price_usd"].median()
    far = ok[ok["mean_price_usd"] > 5 * median]
    if not len(far):
        return []
    if len(far) > 0.05 * len(ok):
        dead = ok[ok["mean_price_usd"] <= 2 * tick]
        by_cap = dead.groupby("rules.market.offset_cap").size()
        return [f"Mean prices split in two: {len(dead)} of {len(ok)} runs average at most "
                f"USD {2 * tick:g}/t (two price ticks), by cap " + ", ".join(
                    f"{level(c)}: {n}" for c, n in by_cap.items())
                + f"; the median run's is {fmt(median)} USD/t. A cap on voluntary claims makes "
                "a claimed tonne dearer than most firms' value of it (they must abate the "
                "rest), so pledged firms claim little, and developers sit on stock nobody buys, "
                "whose worth to them the cost of carry takes to the lowest price. Volatility, "
                "drawdowns and crashes of such a market are noise around a tick: compare caps "
                "with care."]
    runs_text = f"{len(far)} run{'s' if len(far) > 1 else ''}"
    return [f"{runs_text} with a mean price above five times the median run's "
            f"({fmt(median)} USD/t): " + "; ".join(
                f"run {r['run_id']} ({r['integrity']}, cap {level(r['rules.market.offset_cap'])}"
                f", {level(r['population.traders'])} traders, {r['supply_shock']}, replication "
                f"{r['replication']}): {fmt(r['mean_price_usd'])} USD/t"
                for _, r in far.iterrows()) + ". Such a run alone sets the upper end of its "
            f"levels' intervals of the mean price."]


def timing(steps: pd.DataFrame, replication: pd.Series) -> dict:
    """Where in the recorded months crashes and max drawdowns fall, from the kept index series.

    Crashes are counted as :func:`vcm_sim.metrics.crash_count` counts them (a log return of
    the index between two consecutive priced months at or below log 0.75), each dated by the
    month of the fall; a run's max drawdown (on the forward-filled index, as
    :func:`vcm_sim.metrics.max_drawdown`) is dated by its trough. Also the max drawdown of
    each run's index from month ``EARLY`` on, to compare with the one over all months."""
    crash_months, troughs, whole, later = [], [], [], []
    per_run = []
    for run_id, g in steps.sort_values(["run_id", "step"]).groupby("run_id"):
        step = g["step"].to_numpy()
        price = g["price_index_usd"].to_numpy(dtype=float)
        r = np.diff(np.log(price))
        crashed = step[1:][np.isfinite(r) & (r <= CRASH)]
        crash_months.append(crashed)
        per_run.append((replication.loc[run_id], (crashed < EARLY).sum(), len(crashed)))
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
    # A 95% interval of the early share that respects the clustering of crashes: bootstrap
    # over replications, the independent units (the runs of one replication share a seed at
    # every point); fixed seed, so the README is reproducible.
    counts = pd.DataFrame(per_run, columns=["replication", "early", "all"]).groupby(
        "replication")[["early", "all"]].sum().to_numpy(dtype=float).reshape(-1, 2)
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
               f"[{100 * low:.0f}%, {100 * high:.0f}%], bootstrap over replications) fall"
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
