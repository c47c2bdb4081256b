"""Write ``results/validation/``: tables as CSV, figures, and a README with the findings.

Everything is computed here from the runs; the README's words about what fits and what does
not are chosen by the numbers (a criterion that fails is reported as failing).
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from vcm_sim import hindcast
from vcm_sim.hindcast_figures import plot_fit
from vcm_sim.validate import checks, literature
from vcm_sim.validate.runs import Draw, RunRecord, as_runs, draw, read_posterior, run_all


@dataclass(frozen=True)
class Options:
    """What ``vcm-sim validate`` runs."""

    calibration: Path
    out: Path
    draws: int = 20
    seed: int = 2025
    workers: int = 2
    zi_periods: int = 20


@dataclass
class Validation:
    """The runs with and without drivers and what was computed from them."""

    options: Options
    draws: list[Draw]
    with_drivers: list[RunRecord]
    without_drivers: list[RunRecord]
    seconds: float = 0.0


def validate(options: Options, progress: bool = True) -> Validation:
    """Run the posterior draws with and without drivers and rebuild ``options.out``."""
    began = time.monotonic()
    posterior = read_posterior(options.calibration)
    draws = draw(posterior, options.draws, options.seed)
    say = print if progress else (lambda *_: None)
    say(f"validate: {len(draws)} posterior draws with driver series, on "
        f"{options.workers} worker(s)")
    on = run_all(draws, True, options.workers)
    say(f"validate: the same {len(draws)} draws with driver series off")
    off = run_all(draws, False, options.workers)
    result = Validation(options, draws, on, off)
    if options.out.exists():
        shutil.rmtree(options.out)
    options.out.mkdir(parents=True)
    result.seconds = time.monotonic() - began
    write(result)
    say(f"validate: wrote {options.out} in {time.monotonic() - began:.0f} s")
    return result


def write(v: Validation) -> None:
    """Tables, figures and README of ``v`` into its output folder."""
    out, targets = v.options.out, hindcast.targets()
    runs_on, runs_off = as_runs(v.with_drivers), as_runs(v.without_drivers)
    table_on = checks.target_table(runs_on, targets)
    table_off = checks.target_table(runs_off, targets)
    table_on.to_csv(out / "targets.csv", index=False)
    table_off.to_csv(out / "targets_without_drivers.csv", index=False)
    crit_on, crit_off = checks.criteria(runs_on, targets), checks.criteria(runs_off, targets)
    directions = checks.directions(runs_on, targets)
    directions.to_csv(out / "directions_2021_2023.csv", index=False)
    over = literature.over_crediting_table(v.with_drivers, hindcast.scenario())
    buffer = literature.buffer_table(v.with_drivers)
    returns = literature.returns_table(v.with_drivers)
    zi = literature.gode_sunder(v.options.zi_periods, v.options.seed)
    for name, frame in (("over_crediting.csv", over), ("buffer.csv", buffer),
                        ("returns.csv", returns), ("gode_sunder.csv", zi)):
        frame.round(4).to_csv(out / name, index=False)
    pd.DataFrame([{**d.overrides, "seed": d.seed} for d in v.draws]).to_csv(
        out / "draws.csv", index=False)
    plot_fit(runs_on, targets, out / "fit.png")
    plot_fit(runs_off, targets, out / "fit_without_drivers.png")
    plot_integrity(over, buffer, out / "integrity.png")
    (out / "README.md").write_text(readme(v, table_on, crit_on, crit_off, directions, over,
                                          buffer, returns, zi), encoding="utf-8")


def plot_integrity(over: pd.DataFrame, buffer: pd.DataFrame, path: Path) -> None:
    """Model over-crediting by type (median and 90% band) with the published points, and
    the buffer pool's consumption by reversals."""
    fig = Figure(figsize=(11, 4.5))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    x = range(len(over))
    left.bar(x, over.model_median * 100, color="#1f77b4", alpha=0.7, label="model, median")
    left.errorbar(x, over.model_median * 100,
                  yerr=[(over.model_median - over.model_low) * 100,
                        (over.model_high - over.model_median) * 100],
                  fmt="none", color="#1f77b4", capsize=4, label="model, 90% band")
    published = {"redd_plus": 94.0, "ifm": 29.4}
    for k, kind in enumerate(over.project_type):
        if kind in published:
            left.plot(k, published[kind], "D", color="#222222", ms=8,
                      label="published (West 2023; Badgley 2022)" if kind == "redd_plus"
                      else None)
    left.set_xticks(list(x), over.project_type)
    left.plot(list(x), over.from_additionality * 100, "_", color="#ff7f0e", ms=30, mew=3,
              label="1 - additionality (the settings alone)")
    left.set_ylabel("% of credits with no real tonne")
    left.set_ylim(0, 100)
    left.set_title("Over-crediting by project type (hidden truth)")
    left.legend(fontsize=8, loc="upper right")
    row = buffer.iloc[0]
    right.bar([0], [row.model_median * 100], color="#d62728", alpha=0.7, label="model, median")
    right.errorbar([0], [row.model_median * 100],
                   yerr=[[(row.model_median - row.model_low) * 100],
                         [(row.model_high - row.model_median) * 100]],
                   fmt="none", color="#d62728", capsize=4)
    right.plot([0], [33.0], "D", color="#222222", ms=8,
               label="California, ~10 years (Badgley 2022)")
    right.set_xticks([0], ["buffer used by\nreversals"])
    right.set_ylabel("% of buffer deposits")
    right.set_xlim(-1, 1)
    right.set_ylim(0, 100)
    right.legend(fontsize=7, loc="upper left")
    right.set_title("Buffer pool")
    fig.suptitle("Integrity in the hindcast against the literature "
                 "(sources: shared/CALIBRATION.md)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _fmt(x: float, digits: int = 1) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _target_lines(table: pd.DataFrame) -> list[str]:
    lines = ["| target | sample | data | model median | model 90% band | data in band |",
             "|---|---|---|---|---|---|"]
    for r in table.itertuples():
        inside = {True: "in", False: "out", None: "n/a"}[r.data_in_band]
        lines.append(f"| {r.target} | {r.sample} | {_fmt(r.data, 2)} {r.unit} | "
                     f"{_fmt(r.model_median, 2)} | {_fmt(r.model_low, 2)}-"
                     f"{_fmt(r.model_high, 2)} | {inside} |")
    return lines


def _criteria_lines(on: list[checks.Criterion], off: list[checks.Criterion]) -> list[str]:
    lines = ["| criterion | asks | with drivers | holds | draws meeting it | drivers off | "
             "holds | draws meeting it |",
             "|---|---|---|---|---:|---|---|---:|"]
    for a, b in zip(on, off):
        lines.append(f"| {a.name} | {a.asks} | {a.gives} | {'yes' if a.holds else 'no'} | "
                     f"{a.draws_meeting:.0%} | {b.gives} | {'yes' if b.holds else 'no'} | "
                     f"{b.draws_meeting:.0%} |")
    return lines


def _placebo_lines(placebo: checks.Placebo, rise: checks.Criterion) -> list[str]:
    years = placebo.years
    return [f"A year without a known boom: the same statistic measured from June of each of "
            f"{years[0]}-{years[-1]} in the same draws (windows that close before June "
            f"{checks.BOOM_YEAR}) has median {placebo.median:.2f}x and reaches "
            f"{checks.PRICE_RISE:g}x in {placebo.share_doubling:.0%} of them. The "
            f"{checks.BOOM_YEAR} figure ({rise.gives}) is to be read against that, not "
            "against 1: the peak of a noisy price over 19 months rises above its first "
            "month by chance alone.", ""]


def readme(v: Validation, table: pd.DataFrame, crit_on: list[checks.Criterion],
           crit_off: list[checks.Criterion], directions: pd.DataFrame,
           over: pd.DataFrame, buffer: pd.DataFrame, returns: pd.DataFrame,
           zi: pd.DataFrame) -> str:
    """The README of ``results/validation/``."""
    o, t = v.options, hindcast.targets()
    held = sum(c.holds for c in crit_on)
    runs = as_runs(v.with_drivers)
    dead = len(checks.dead_draws(runs, t))
    price_crit = crit_on[-1]
    lines = [
        "# Validation: the 2010-2025 hindcast against the observed market",
        "",
        f"Generated by `vcm-sim validate --calibration {o.calibration} --draws {o.draws} "
        f"--seed {o.seed}` in {v.seconds:.0f} s: {len(v.draws)} parameter sets drawn from the "
        f"calibrated posterior (by weight), each run once with its own seed, with the "
        f"`history` preset's driver series and again without them. Model credits are "
        f"reported times {t.scale:g} (the model's world is a sample of the market; see "
        f"`vcm_sim/data/targets.toml`). In-sample years {t.in_sample[0]}-{t.in_sample[-1]} "
        f"are what the calibration saw; {t.held_out[0]}-{t.held_out[-1]} are held out. "
        "How it is calibrated and how to recalibrate: `docs/validation.md`.",
        "",
        "## Acceptance criteria (in-sample, median of the draws)",
        "",
        f"{held} of {len(crit_on)} hold with the driver series.",
        "",
        *_criteria_lines(crit_on, crit_off),
        "",
        "A criterion holds on the median over draws, as the issue asks; \"draws meeting it\" "
        "is the share of draws whose own figure meets it (for retirement levels: at least "
        f"{checks.RETIRED_YEARS_NEEDED} close years in the draw itself). A median can hold "
        "while most draws miss on both sides of it.",
        "",
        f"Dead markets: {dead} of {len(v.draws)} draws retire no credit in at least one "
        f"whole in-sample year. With {len(v.draws)} draws the 90% band's lower end is the "
        "smallest draw, so one dead draw puts it at zero and \"data in band\" then tests "
        "only the upper end.",
        "",
        *_placebo_lines(checks.placebo_rise(runs.prices, t), price_crit),
    ]
    if not price_crit.holds:
        lines += [
            "**The 2021 price boom is missing.** The model's price is set by developers' "
            "asks (their expected price, less the cost of carrying stock) against firms' "
            "demand curves, and every expectation in it is adaptive: the recent price, moved "
            "by part of its recent trend (`expectations.trend_weight`). Demand that buys "
            "ahead of claims is in the model "
            "but off in `history`: speculative traders (`population.traders`) and firms "
            "buying part of next year's credits when they sell below the firms' forecast "
            "(`firms.buy_ahead_response`, experiment `buying_ahead`); `docs/validation.md` "
            "says what each did when tried. What adaptive forecasts cannot give is demand "
            "bought on the pledge wave itself: buyers and intermediaries reading the net-zero "
            "targets (the SBTi count the model uses as a driver) as future demand.",
            "",
        ]
    lines += [
        "## Held out: 2021 to 2023",
        "",
        "| what | data 2021 | data 2023 | data | model 2021 | model 2023 | model |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in directions.itertuples():
        lines.append(f"| {r.what} | {_fmt(r.data_from, 1)} | {_fmt(r.data_to, 1)} | "
                     f"{r.data_direction} | {_fmt(r.model_from, 1)} | {_fmt(r.model_to, 1)} | "
                     f"{r.model_direction} |")
    lines += ["", "Flows in Mt per year; prices in USD/t (November 2021 and December 2023).",
              "", "![fit](fit.png)", "",
              "Without the driver series (the settings they move keep their 2021 values "
              "throughout), the same draws give:", "", "![fit without drivers]"
              "(fit_without_drivers.png)", "",
              "## Every target", "", *_target_lines(table), "",
              "`targets.csv` holds this table, `targets_without_drivers.csv` the same without "
              "drivers, `draws.csv` the parameter sets and seeds.", "",
              "## Integrity against the literature", "",
              "Over-crediting: the share of credits issued 2010-2025 with no real tonne "
              "behind them when issued (hidden truth).", "",
              "| project type | model median | model 90% band | 1 - additionality | "
              "published | source |",
              "|---|---|---|---|---|---|"]
    for r in over.itertuples():
        lines.append(f"| {r.project_type} | {_fmt(100 * r.model_median)}% | "
                     f"{_fmt(100 * r.model_low)}-{_fmt(100 * r.model_high)}% | "
                     f"{_fmt(100 * r.from_additionality)}% | {r.published} | {r.source} |")
    gap = (over.model_median - over.from_additionality).abs().max()
    b = buffer.iloc[0]
    lines += ["", f"**This comparison is mostly by construction.** Each type's mean "
              f"additionality is a setting taken from these same literature rows "
              f"(`baseline.toml`), and a credit's real tonnes are its verifiable tonnes times "
              f"its project's additionality, so over-crediting sits near 1 - additionality "
              f"(at most {100 * gap:.0f} points away in the medians): agreement with the "
              f"published figures restates the settings. What the agents add is the gap: "
              f"baseline inflation that verifiers let through raises it, conservative "
              f"reviews that cut real tonnes too lower it.", "",
              f"All types: published {literature.ALL_TYPES[0]} ({literature.ALL_TYPES[1]}).",
              "", f"Buffer pool: {_fmt(100 * b.model_median)}% of the deposits made up to 2025 "
              f"(90% band {_fmt(100 * b.model_low)}-{_fmt(100 * b.model_high)}%) were cancelled "
              f"to cover reversals; published: {b.published} ({b.source}). The two are not "
              f"like for like: California's pool is mostly improved forest management in a "
              f"fire-prone region over its worst decade, the model's a mix of every type and "
              f"region under the baseline's hazard (`nature`, `project_types.*.reversal_*`), "
              f"with no wildfire season scheduled.", "",
              "![integrity](integrity.png)", "",
              "## Stylized facts of monthly returns", "",
              "Log returns of the monthly nature-based price from January 2015, between "
              "months that traded (the thin early market has months without trades).", "",
              "| statistic | model median | model 90% band |", "|---|---|---|"]
    for r in returns.itertuples():
        lines.append(f"| {r.statistic} | {_fmt(r.model_median, 2)} | {_fmt(r.model_low, 2)}-"
                     f"{_fmt(r.model_high, 2)} |")
    zic = zi[zi.traders == "ZI-C"]
    ziu = zi[zi.traders == "ZI-U"]
    lines += ["", f"Published: {literature.RETURNS[0]} ({literature.RETURNS[1]}).", "",
              "## Gode and Sunder efficiency", "",
              f"Zero-intelligence traders on the model's continuous double auction "
              f"(`vcm_sim.market.OrderBook`), {o.zi_periods} periods per market: ZI-C "
              f"{zic.mean_pct.mean():.1f}% (published {zic.published_pct.mean():.1f}%), ZI-U "
              f"{ziu.mean_pct.mean():.1f}% (published {ziu.published_pct.mean():.1f}%); "
              "per market in `gode_sunder.csv` (published: Gode and Sunder 1993, Table 2, as "
              "transcribed by a replication guide). The `history` preset clears by call "
              "auction, which trades at one price the volume that maximises the surplus of "
              "the orders submitted: its efficiency against those orders is 100% by "
              "construction, not a finding.", ""]
    return "\n".join(lines)
