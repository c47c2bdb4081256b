"""Steady start: does a run begin where a running market would be, and how long is burn-in?

For the baseline and for the scaled-down world the sweeps use (400 firms, 80 developers, 8
verifiers), runs seeds 0..N-1 at several burn-in lengths and measures, on the price index:

- the month-0 ratio: the first recorded month's index over its mean over months 12-36 (the
  issue's acceptance test: within 25%, median over seeds);
- drift: the mean log index over the first recorded year minus its mean over months 36 to the
  end, in percent (a start-up transient shows as a first year away from the later level);
- the trend after month 36, in percent a year (demand grows by design, so some trend is the
  market, not the start);
- the start-up transient left, by the MSER-5 truncation rule (months; 0 = none).

Writes ``results/steady_start/``: ``summary.csv`` (one row per world, burn-in and seed),
``README.md`` (the tables) and ``price_paths.png``.

Run: ``python experiments/steady_start.py [--seeds 10] [--months 120]`` (about a minute on
two cores).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from vcm_sim import VCMModel, load_scenario
from vcm_sim.metrics import transient_months
from vcm_sim.scenario import BURN_IN, with_overrides
from vcm_sim.sweep import load_sweep

OUT = Path(__file__).resolve().parents[1] / "results" / "steady_start"
SWEEP_FILE = Path(__file__).resolve().parent / "price_stability.toml"
SWEEP_OVERRIDES = load_sweep(SWEEP_FILE)[0].overrides
WORLDS = {"baseline": {}, "sweep world": {key: value for key, value in SWEEP_OVERRIDES.items()
                                          if key.startswith("population.")}}
"""The baseline, and the scaled-down population of the experiments' sweep files."""
WORLD_BURN_IN = {"baseline": BURN_IN, "sweep world": SWEEP_OVERRIDES["burn_in"]}
"""The burn-in each world runs with: the scenario default, and the sweep files' own."""
BURN_INS = tuple(sorted({0, 12, 24, 36, 48, 60, 72, 96, 120, *WORLD_BURN_IN.values()}))
"""Burn-in lengths compared, months (the scenario default among them)."""
EARLY, WINDOW, LATE = 12, (12, 36), 36
"""Months of the first year; the window the month-0 price is compared with; where the
later level starts."""


def measure(world: str, burn_in: int, seed: int, months: int) -> tuple[dict, np.ndarray]:
    """One run's figures and its price index path (USD/tCO2e)."""
    scenario = with_overrides(load_scenario("baseline", burn_in=burn_in, steps=months),
                              WORLDS[world])
    index = VCMModel(scenario, rng=seed).run().results()["price_index_usd"].to_numpy()
    log = np.log(index)
    late = np.arange(LATE, months)
    slope = np.polyfit(late, log[LATE:], 1)[0] if months > LATE + 1 else np.nan
    row = {"world": world, "burn_in": burn_in, "seed": seed,
           "month0_usd": index[0],
           "month0_ratio": index[0] / np.nanmean(index[WINDOW[0]:WINDOW[1] + 1]),
           "first_year_drift_pct": 100 * (np.nanmean(log[:EARLY]) - np.nanmean(log[LATE:])),
           "late_trend_pct_yr": 100 * 12 * slope,
           "transient_months": transient_months(index)}
    return row, index


def run_all(seeds: int, months: int) -> tuple[pd.DataFrame, dict]:
    """Every world x burn-in x seed, in parallel processes."""
    jobs = [(w, b, s, months) for w in WORLDS for b in BURN_INS for s in range(seeds)]
    with ProcessPoolExecutor() as pool:
        done = list(pool.map(measure, *zip(*jobs)))
    rows = pd.DataFrame([row for row, _ in done])
    paths = {(w, b, s): path for (w, b, s, _), (_, path) in zip(jobs, done)}
    return rows, paths


def table(rows: pd.DataFrame) -> pd.DataFrame:
    """Medians over seeds (and the 10%-90% range of the month-0 ratio), per world and burn-in."""
    grouped = rows.groupby(["world", "burn_in"], sort=False)
    out = grouped.agg(month0_usd=("month0_usd", "median"),
                      month0_ratio=("month0_ratio", "median"),
                      ratio_p10=("month0_ratio", lambda x: x.quantile(0.1)),
                      ratio_p90=("month0_ratio", lambda x: x.quantile(0.9)),
                      first_year_drift_pct=("first_year_drift_pct", "median"),
                      late_trend_pct_yr=("late_trend_pct_yr", "median"),
                      transient_months=("transient_months", "median"),
                      transient_p90=("transient_months", lambda x: x.quantile(0.9)))
    return out.reset_index()


def figure(paths: dict, seeds: int, path: Path) -> None:
    """Median and 10-90% band of the price index over seeds, without and with burn-in."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, len(WORLDS), sharey=True)
    for ax, world in zip(axes, WORLDS):
        for burn_in, colour in ((0, "tab:orange"), (WORLD_BURN_IN[world], "tab:blue")):
            runs = np.array([paths[world, burn_in, s] for s in range(seeds)])
            months = np.arange(runs.shape[1])
            low, mid, high = np.nanpercentile(runs, [10, 50, 90], axis=0)
            ax.fill_between(months, low, high, color=colour, alpha=0.2, linewidth=0)
            ax.plot(months, mid, color=colour, label=f"burn-in {burn_in} months")
        ax.set_title(f"{world} ({seeds} seeds: median, 10-90%)")
        ax.set_xlabel("recorded month")
        ax.legend(loc="lower right")
    axes[0].set_ylabel("price index (USD/tCO2e)")
    fig.savefig(path, dpi=110)


def markdown(summary: pd.DataFrame) -> str:
    """The summary table as Markdown."""
    head = ("| world | burn-in (months) | month-0 index (USD/t) | month 0 / mean of months "
            "12-36 [10%-90%] | first-year drift (%) | trend after month 36 (%/yr) | "
            "transient left, MSER-5 (months) [90%] |\n"
            "|---|---|---|---|---|---|---|\n")
    return head + "".join(
        f"| {r.world} | {r.burn_in} | {r.month0_usd:.2f} | {r.month0_ratio:.2f} "
        f"[{r.ratio_p10:.2f}, {r.ratio_p90:.2f}] | {r.first_year_drift_pct:+.1f} | "
        f"{r.late_trend_pct_yr:+.1f} | {r.transient_months:.0f} [{r.transient_p90:.0f}] |\n"
        for r in summary.itertuples())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--months", type=int, default=120)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows, paths = run_all(args.seeds, args.months)
    rows.to_csv(OUT / "summary.csv", index=False)
    summary = table(rows)
    figure(paths, args.seeds, OUT / "price_paths.png")
    text = markdown(summary)
    print(text)
    (OUT / "README.md").write_text(README.format(seeds=args.seeds, last=args.seeds - 1,
                                                 months=args.months, burn_in=BURN_IN,
                                                 sweep_burn_in=WORLD_BURN_IN["sweep world"],
                                                 table=text))


README = """# steady_start

**Question.** Does a run start where a running market would be, or does its price still carry
a start-up transient, and how many burn-in months does it take to remove what is left?

**Set-up.** `python experiments/steady_start.py --seeds {seeds} --months {months}`: the
baseline scenario and the scaled-down world of the sweep files (400 firms, 80 developers, 8
verifiers), seeds 0-{last}, burn-in of 0-120 months, {months} recorded months each. Figures
are medians over seeds, on the chain-linked price index. The scenario's default burn-in is
{burn_in} months; the experiments' sweep files set {sweep_burn_in} for their smaller world.

{table}
- *month 0 / mean of months 12-36*: the issue's acceptance test (within 25%, so between 0.75
  and 1.25).
- *first-year drift*: mean log index over recorded months 0-11 minus its mean from month 36
  on, in percent; a transient shows as a first year away from the later level.
- *trend after month 36*: the slope of the log index, in percent a year; pledges spread by 5%
  a year, so the market's own trend is not zero.
- *transient left*: the MSER-5 truncation point of the recorded index (White 1997): how many
  months a careful analyst would still drop; median over seeds and its 90th percentile.

![price index paths](price_paths.png)

## Files

`summary.csv`: one row per world, burn-in and seed; `price_paths.png`; this README. See
`docs/measurement.md` for what the steady start seeds and what burn-in resets.
"""


if __name__ == "__main__":
    main()
