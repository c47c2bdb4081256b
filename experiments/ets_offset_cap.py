"""ETS offset cap: China's ETS with CCER offsets, the cap from July 2021 at 0-20% and covered
emissions at the preset's and ten times them: the allowance and CCER prices, their spread,
offset use and the real tonnes behind surrendered credits. Writes results/ets_offset_cap/.

Run: ``python experiments/ets_offset_cap.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from common import (PAIRED_NOTE, arguments, by_level, ci_text, markdown_table, paired,
                    paired_row, paired_text, resolved, run, series, write_readme)

NAME = "ets_offset_cap"
CAP = "events.1.value"
SCALE = "ets.emissions_t_yr"
CAPS = [0.0, 0.05, 0.1, 0.2]
REGIMES = {60000.0: "preset (cap binds)", 600000.0: "10x covered emissions"}
START_YEAR = 2013
WINDOW = (2025, 2030)
"""Years compared: after the relaunched CCERs' first issuance burst of 2024."""
DATA = {"allowance": (70.0, 100.0), "ccer": (60.0, 80.0)}
"""CNY per tCO2e in 2024-2025 (CALIBRATION.md, China's compliance and offset prices)."""
WINDOW_METRICS = {
    "quote": "allowance price (CNY/t, mean of monthly quotes)",
    "ccer": "CCER price (CNY/t, mean over months with trades)",
    "spread": "CCER minus allowance price (CNY/t)",
    "offsets_yr": "credits surrendered per year",
}


def per_year(runs: pd.DataFrame) -> pd.DataFrame:
    """The per-step series with each run's cap, regime and calendar year."""
    steps = series(NAME)
    keys = runs.set_index("run_id")
    return steps.assign(cap=steps["run_id"].map(keys[CAP]),
                        scale=steps["run_id"].map(keys[SCALE]),
                        year=START_YEAR + steps["step"] // 12)


def window_metrics(steps: pd.DataFrame, years: tuple[int, int]) -> pd.DataFrame:
    """Per run, the means over ``years`` (inclusive) of :data:`WINDOW_METRICS`."""
    inside = steps[(steps["year"] >= years[0]) & (steps["year"] <= years[1])]
    by_run = inside.groupby("run_id")
    out = pd.DataFrame({"quote": by_run["allowance_quote_cny"].mean(),
                        "ccer": by_run["ccer_price_cny"].mean()})
    out["spread"] = out["ccer"] - out["quote"]
    surrendered = by_run["offsets_surrendered"]
    out["offsets_yr"] = (surrendered.last() - surrendered.first()) / (years[1] - years[0])
    return out


def figure(steps: pd.DataFrame, path) -> None:
    """Yearly mean allowance and CCER prices by cap, one row per emissions regime."""
    fig = Figure(figsize=(11, 7), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True)
    for row, (scale, label) in enumerate(REGIMES.items()):
        regime = steps[steps["scale"] == scale]
        for col, (column, what) in enumerate((("allowance_quote_cny", "allowance price"),
                                              ("ccer_price_cny", "CCER price"))):
            ax = axes[row, col]
            for cap in CAPS:
                yearly = regime[regime["cap"] == cap].groupby("year")[column].mean()
                ax.plot(yearly.index, yearly.values, label=f"cap {cap:.0%} from July 2021")
            low, high = DATA["allowance" if col == 0 else "ccer"]
            ax.fill_between([2024, 2025], low, high, color="grey", alpha=0.3,
                            label="2024-2025 data (CALIBRATION.md)")
            ax.axvline(2021.5, color="k", lw=0.5, ls=":")
            ax.set_yscale("log")
            ax.set_title(f"{what}, {label}")
            ax.set_ylabel("CNY per tCO2e (log)")
            ax.set_xlabel("year")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("ccer_ets: yearly mean prices over 20 paired replications by offset cap")
    fig.savefig(path, dpi=110)


def main() -> None:
    args = arguments(__doc__)
    spec, runs, target = run(NAME, args)
    steps = per_year(runs)
    runs = runs.join(window_metrics(steps, WINDOW), on="run_id")
    early = window_metrics(steps, (2024, 2025)).add_suffix("_2024_25")
    runs = runs.join(early, on="run_id")
    figure(steps, target / "prices.png")

    def at(scale: float, cap: float, metric: str) -> str:
        table = by_level(runs[runs[SCALE] == scale], CAP, metric).set_index(CAP)
        return ci_text(table.loc[cap], 1)

    def diff(scale: float, a: float, b: float, metric: str) -> dict:
        return paired(runs[runs[SCALE] == scale], [CAP], CAP, a, b, metric)

    findings = []
    for scale, label in REGIMES.items():
        quote = diff(scale, 0.1, 0.05, "quote")
        used = diff(scale, 0.1, 0.05, "offsets_yr")
        findings.append(
            f"{label}: raising the cap from 5% to 10% changes the credits surrendered by "
            f"{paired_text(used, 0)} a year and the allowance price by {paired_text(quote, 1)} "
            f"CNY/t in {WINDOW[0]}-{WINDOW[1]} (paired; at 5% the price is "
            f"{at(scale, 0.05, 'quote')}, at 10% {at(scale, 0.1, 'quote')}, with no offsets "
            f"{at(scale, 0.0, 'quote')}, at 20% {at(scale, 0.2, 'quote')}). The CCER price is "
            f"{at(scale, 0.05, 'ccer')} at 5% and {at(scale, 0.1, 'ccer')} at 10%.")
    binds = runs[(runs[SCALE] == 60000.0) & (runs[CAP] == 0.05)]
    findings.append(
        "Against 2024-2025 (allowances CNY 70-100, CCER 60-80): at the 5% cap the model's "
        f"allowance price is {ci_text(by_level(binds, CAP, 'quote_2024_25').iloc[0], 1)} and "
        f"the CCER price {ci_text(by_level(binds, CAP, 'ccer_2024_25').iloc[0], 1)} in the "
        "preset's regime; the spread (CCER minus allowance) is "
        f"{ci_text(by_level(binds, CAP, 'spread_2024_25').iloc[0], 1)} CNY/t, against a "
        "spread near zero in the data, where CCERs traded both below and above allowances.")
    findings.append(
        "Which part of the spread is arbitrage: covered firms buy credits up to the "
        "allowance price they expect (a credit within the cap replaces an allowance), so "
        "while the cap has room they bid the CCER price up towards the allowance price; once "
        "every firm's cap is filled that arbitrage stops, and the rest of the spread is the "
        "cap's rent, which no trade can close. A CCER above the allowance price is voluntary "
        "buyers outbidding covered firms for a scarce stock (in the model, during the "
        "2017-2023 suspension). Nature-based supply here answers the covered firms' bids "
        "within a few years (developers invest at prices far above their costs), so the cap, "
        "not supply, binds even at ten times the covered emissions; the real relaunched "
        "CCER had four methodologies and a slow pipeline, a supply constraint the model "
        "lacks, which is the likely reason its spread is too wide.")
    findings.append(
        "What is built in: the allowance price level follows from `allocation_share`, its "
        "decline and `mac_slope` (assumptions, set so the 5% price of 2024-2025 falls near "
        "the data); that offsets lower the allowance price follows from a credit within the "
        "cap replacing an allowance. How far they lower it, how prices move from month to "
        "month, the CCER price and the spread come from the covered firms' and developers' "
        "orders. The allowance market is myopic: covered firms look no further than their "
        "compliance year and bank only what no one buys, so nothing here says what a "
        "forward-looking bank (Hotelling) would do.")
    table = pd.DataFrame([
        {"regime": REGIMES[scale], "metric": WINDOW_METRICS.get(m, m),
         **{f"cap {cap:.0%}": at(scale, cap, m) for cap in CAPS}}
        for scale in REGIMES for m in [*WINDOW_METRICS, "offset_integrity",
                                       "compliance_shortfall_tco2", "real_mitigation_tco2"]])
    pairs = pd.DataFrame([
        {"regime": REGIMES[scale], "A - B": f"cap {a:.0%} - cap {b:.0%}",
         "metric": WINDOW_METRICS.get(m, m), **paired_row(diff(scale, a, b, m))}
        for scale in REGIMES for a, b in ((0.05, 0.0), (0.1, 0.05), (0.2, 0.1))
        for m in ("quote", "ccer", "offsets_yr", "offset_integrity")])
    sections = [f"## Means per point, {WINDOW[0]}-{WINDOW[1]} unless named, 95% CI over "
                "replications", "", markdown_table(table), "",
                "## Paired differences (cap A minus cap B, same emissions regime)", "",
                PAIRED_NOTE, "", markdown_table(pairs), "", "![prices](prices.png)"]
    if not all(resolved(diff(s, 0.1, 0.05, "offsets_yr")) for s in REGIMES):
        findings.append("The 5% to 10% difference in offset use is not resolved in every "
                        "regime: read the table, not the sentence above.")
    write_readme(target, spec, runs,
                 "In an ETS whose covered firms may surrender nature-based credits for part of "
                 "their obligation (China's CCER, capped at 5%), what do the cap and the "
                 "supply of credits do to the allowance price, the credit price, their "
                 "spread, offset use and the real tonnes behind surrendered credits?",
                 findings, sections,
                 "The `ccer_ets` preset at full size (1000 voluntary firms, 200 developers, 20 "
                 "verifiers, 200 covered firms), 216 recorded months (2013-2030) after 72 of "
                 "burn-in; the cap is 10% until July 2021 in every run and the swept value "
                 "after it; CCER issuance is suspended from March 2017 to January 2024. "
                 "Covered emissions against the eligible supply are an assumption, varied "
                 "here.")


if __name__ == "__main__":
    main()
