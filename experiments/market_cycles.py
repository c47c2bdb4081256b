"""Market cycles: booms and busts of the credit price index without scheduled events, against
developers' weight on the cost of new supply, trend following, pledge diffusion, the supply
lag and the offset cap. Writes results/market_cycles/.

Run: ``python experiments/market_cycles.py [--workers N] [--fresh]``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from common import (EXPERIMENTS, PAIRED_NOTE, arguments, by_level, ci_text,  # noqa: E402
                    fmt, level, markdown_table, paired, paired_row, paired_text, run, series,
                    write_readme)
from vcm_sim.metrics import BOOM_FACTOR, BUST_FACTOR, episodes  # noqa: E402
from vcm_sim.sweep import load_sweep  # noqa: E402

NAME = "market_cycles"
FACTORS = {"developers.cost_anchor": "cost anchor", "developers.carry_weight": "carry weight",
           "expectations.trend_weight": "trend weight",
           "firms.pledge_imitation_yr": "pledge imitation (per year)",
           "supply_lag": "supply lag", "rules.market.offset_cap": "offset cap"}
METRICS = {"boom_count": "booms per run", "bust_count": "busts per run",
           "max_drawdown": "max drawdown"}
BASELINE = {"developers.cost_anchor": 0.3, "developers.carry_weight": 1.0,
            "expectations.trend_weight": 0.2,
            "firms.pledge_imitation_yr": 0.1, "supply_lag": "baseline",
            "rules.market.offset_cap": 1.0}
COMPARISONS = [("developers.cost_anchor", 0.1, 0.3), ("developers.cost_anchor", 0.2, 0.3),
               ("developers.cost_anchor", 0.5, 0.3), ("developers.carry_weight", 0.0, 1.0),
               ("expectations.trend_weight", 0.5, 0.2),
               ("expectations.trend_weight", 0.0, 0.2), ("firms.pledge_imitation_yr", 0.4, 0.1),
               ("supply_lag", "long", "baseline"), ("supply_lag", "short", "baseline"),
               ("rules.market.offset_cap", 0.3, 1.0)]
WINDOW = 36
"""Months either side of a bust's peak in the event study."""
EARLY = 24
"""Recorded months counted as early when checking for what is left of the start-up transient."""
LIVE_TICKS = 10
"""A market trades when its median price index is above this many price ticks: below it,
moves of a tick or two count as booms and busts."""


def main() -> None:
    args = arguments(__doc__)
    spec, runs, target = run(NAME, args)
    ok = runs[runs["status"] == "ok"]
    params = list(spec.parameters)
    steps = series(NAME)
    _, scenario = load_sweep(EXPERIMENTS / f"{NAME}.toml")
    floor = LIVE_TICKS * scenario.traders.min_price_usd
    median = steps.groupby("run_id")["price_index_usd"].median()
    live_ids = median[median > floor].index
    live = ok[ok["run_id"].isin(live_ids)]
    dead = ok[~ok["run_id"].isin(live_ids)]
    by_cap = dead.groupby("rules.market.offset_cap").size()
    findings = [f"{len(dead)} of {len(ok)} runs never trade above {LIVE_TICKS} price ticks "
                f"(median index at most USD {floor:g}/t), by offset cap: " + ", ".join(
                    f"{level(c)}: {n}" for c, n in by_cap.items())
                + ". A capped voluntary market empties (see offset_cap), and moves of a tick "
                "there count as booms; the frequencies, the carry table and the event study "
                f"below use the other {len(live)} runs, the paired differences all runs."]
    steps_live = steps[steps["run_id"].isin(live_ids)]
    events = event_table(steps_live)
    findings += frequency_findings(live) + factor_findings(runs, params) + carry_findings(live)
    findings += mechanism_findings(events, steps_live, live)
    paths_figure(ok, steps, target / "paths.png")
    event_figure(events, steps_live, target / "around_busts.png")
    rows = []
    for metric in METRICS:
        for factor, name in FACTORS.items():
            for _, r in by_level(runs, factor, metric).iterrows():
                rows.append({"metric": metric, "factor": name, "level": level(r[factor]),
                             "n": int(r["n"]), "mean [95% CI]": ci_text(r)})
    table = pd.DataFrame([{"factor": FACTORS[f], "A - B": f"{level(a)} - {level(b)}",
                           "metric": m, **paired_row(paired(runs, params, f, a, b, m))}
                          for f, a, b in COMPARISONS for m in ("boom_count", "bust_count")])
    sections = ["## Typical price paths", "",
                "The price index of the four replications at four settings (the same seed in "
                "each column of panels): the baseline, and the settings that cycle most.", "",
                "![paths](paths.png)", "",
                "## Around a bust", "",
                "Every bust in every run, aligned on its peak (month 0): the mean over busts of "
                "the price index relative to its value at the peak, of unsold stock in months "
                "of sales, of developers entering per year and projects abandoned per year, "
                "and of issuance over retirements (12-month sums).", "",
                "![around busts](around_busts.png)", "",
                "## Main effects (each level averaged over the other factors)", "",
                markdown_table(pd.DataFrame(rows)), "",
                "## Paired differences (level A minus level B, averaged over the other "
                "factors)", "", PAIRED_NOTE, "", markdown_table(table)]
    write_readme(target, spec, runs,
                 "What makes booms (the 3-month mean price index rising 1.5x or more within "
                 "24 months) and busts (falling by half or more within 24 months) without any "
                 "scheduled event: developers' weight on the cost of new supply, trend-following "
                 "expectations, the speed at which pledges spread, the supply lag or the "
                 "offset cap?",
                 findings, sections,
                 "No scheduled event in any run. Levels, each inside the setting's documented "
                 "range (`vcm_sim/scenario.py`): cost anchor (weight developers give the "
                 "levelized cost of new supply against the market's recent price in the price "
                 "they expect, 0-1) 0.1, 0.2, 0.3 (baseline), 0.5; carry weight (the cost of "
                 "waiting to sell the stock developers hold, in their asks) 0 or 1 (baseline); "
                 "trend weight (expectations "
                 "extrapolating the last six months' trend) 0, 0.2 (baseline), 0.5; Bass "
                 "imitation rate of pledges 0.1 (baseline) and 0.4 (the mean q of new products, "
                 "Sultan, Farley and Lehmann 1990); supply lag (validation and registration) "
                 "6-18, 12-36 (baseline) or 24-60 months; offset cap 0.3 or none (baseline). "
                 "Baseline world: 1000 firms, 200 developers, 20 verifiers, 240 recorded months "
                 "after 72 of burn-in.")


def frequency_findings(ok: pd.DataFrame) -> list[str]:
    """How often runs boom and bust, overall and at the baseline point."""
    base = ok
    for key, value in BASELINE.items():
        base = base[base[key] == value]
    both = (ok["boom_count"] > 0) & (ok["bust_count"] > 0)
    top = (ok.groupby(list(FACTORS))["bust_count"].mean().sort_values(ascending=False)
           .head(3))
    settings = "; ".join(", ".join(f"{FACTORS[k]} {level(v)}" for k, v in zip(FACTORS, key))
                         + f" ({fmt(n, 2)} busts per run)" for key, n in top.items())
    return [
        f"Over the {len(ok)} trading runs, {100 * (ok['boom_count'] > 0).mean():.0f}% have at "
        f"least one boom, {100 * (ok['bust_count'] > 0).mean():.0f}% at least one bust and "
        f"{100 * both.mean():.0f}% both; {ok['boom_count'].sum()} booms and "
        f"{ok['bust_count'].sum()} busts in all, none caused by a scheduled event (there are "
        f"none).",
        f"At the baseline point ({len(base)} runs): {base['boom_count'].sum()} booms and "
        f"{base['bust_count'].sum()} busts; max drawdown "
        f"{fmt(base['max_drawdown'].mean())} on average (largest "
        f"{fmt(base['max_drawdown'].max())}).",
        f"The settings with most busts: {settings}.",
    ]


def factor_findings(runs: pd.DataFrame, params: list[str]) -> list[str]:
    """Paired effects of each factor on busts and booms."""
    texts = []
    for factor, a, b in COMPARISONS:
        bust = paired(runs, params, factor, a, b, "bust_count")
        boom = paired(runs, params, factor, a, b, "boom_count")
        texts.append(f"{FACTORS[factor]} {level(a)} minus {level(b)}: busts per run "
                     f"{paired_text(bust, 2)}, booms per run {paired_text(boom, 2)}.")
    return ["Paired differences (other factors averaged, 95% interval over replications): "
            + " ".join(texts)]


def carry_findings(ok: pd.DataFrame) -> list[str]:
    """Busts and booms per run by cost anchor, with and without the cost of carry in asks."""
    table = ok.groupby(["developers.cost_anchor", "developers.carry_weight"])[
        ["boom_count", "bust_count"]].mean().unstack("developers.carry_weight")
    cells = "; ".join(
        f"cost anchor {anchor:g}: " + ", ".join(
            f"carry {carry:g} {fmt(table.loc[anchor, ('boom_count', carry)], 2)} booms and "
            f"{fmt(table.loc[anchor, ('bust_count', carry)], 2)} busts"
            for carry in table["boom_count"].columns)
        for anchor in table.index)
    return [f"Booms and busts per run with the cost of carry in developers' asks (carry 1) and "
            f"without it (carry 0), other factors averaged: {cells}. The cost of carry "
            f"discounts the price a developer expects later by the years the market needs to "
            f"absorb the stock all developers hold: as stock piles up asks fall, and as it "
            f"drains they spring back."]


def event_table(steps: pd.DataFrame) -> pd.DataFrame:
    """Every boom and bust of every run: its run, kind, start and end month."""
    rows = []
    for run_id, g in steps.groupby("run_id"):
        index = g.sort_values("step")["price_index_usd"].to_numpy(dtype=float)
        for kind, factor in (("boom", BOOM_FACTOR), ("bust", BUST_FACTOR)):
            rows += [{"run_id": run_id, "kind": kind, "start": s, "end": e}
                     for s, e in episodes(index, factor)]
    return pd.DataFrame(rows, columns=["run_id", "kind", "start", "end"])


def _yearly_flow(cumulative: np.ndarray) -> np.ndarray:
    """Events per year from a cumulative count, over the 12 months to each month."""
    c = np.asarray(cumulative, dtype=float)
    lagged = np.r_[np.zeros(12), c[:-12]] if len(c) > 12 else np.zeros(len(c))
    return c - lagged


def _window_means(events: pd.DataFrame, steps: pd.DataFrame, kind: str
                  ) -> dict[str, np.ndarray]:
    """Mean paths over the episodes of ``kind``, months -WINDOW..WINDOW around their start."""
    by_run = {rid: g.sort_values("step") for rid, g in steps.groupby("run_id")}
    offsets = np.arange(-WINDOW, WINDOW + 1)
    stacks: dict[str, list[np.ndarray]] = {k: [] for k in
                                           ("price", "stock", "entries", "abandoned", "ratio")}
    for e in events[events["kind"] == kind].itertuples():
        g = by_run[e.run_id]
        price = g["price_index_usd"].ffill().to_numpy(dtype=float)
        issuance = g["issuance"].rolling(12, min_periods=1).sum().to_numpy(dtype=float)
        retired = g["retirements"].rolling(12, min_periods=1).sum().to_numpy(dtype=float)
        paths = {"price": price / price[e.start],
                 "stock": g["inventory_months"].to_numpy(dtype=float),
                 "entries": _yearly_flow(g["developer_entries"].to_numpy()),
                 "abandoned": _yearly_flow(g["projects_abandoned"].to_numpy()),
                 "ratio": np.divide(issuance, retired, out=np.full(len(retired), np.nan),
                                    where=retired > 0)}
        at = e.start + offsets
        inside = (at >= 0) & (at < len(price))
        for key, path in paths.items():
            row = np.full(len(offsets), np.nan)
            row[inside] = path[at[inside]]
            stacks[key].append(row)
    return {k: np.nanmean(np.array(v), axis=0) if v else np.full(len(offsets), np.nan)
            for k, v in stacks.items()}


def mechanism_findings(events: pd.DataFrame, steps: pd.DataFrame, ok: pd.DataFrame
                       ) -> list[str]:
    """What precedes and follows busts and booms, against the runs' averages."""
    busts = events[events["kind"] == "bust"]
    booms = events[events["kind"] == "boom"]
    if busts.empty:
        return ["No run busts, so no mechanism can be read from the event study."]
    mean = _window_means(events, steps, "bust")
    boom_mean = _window_means(events, steps, "boom")
    at = WINDOW  # position of month 0

    def avg(key: str, lo: int, hi: int, paths: dict = mean) -> float:
        return float(np.nanmean(paths[key][at + lo:at + hi + 1]))

    everyone = steps.groupby("run_id")
    stock_all = float(everyone["inventory_months"].median().median())
    months = len(steps) / steps["run_id"].nunique()
    entries_all = float((ok["developer_entries"] / (months / 12)).mean())
    abandoned_all = float((ok["projects_abandoned"] / (months / 12)).mean())
    early = int((events["start"] < EARLY).sum())

    def versus(value: float, reference: float) -> str:
        word = "above" if value > reference else "below" if value < reference else "at"
        return f"{fmt(value, 2)} ({word} {fmt(reference, 2)})"

    return [
        f"Around the {len(busts)} busts (event study below; month 0 is the peak), against the "
        f"average over all runs in brackets: unsold stock at the peak "
        f"{versus(avg('stock', -3, 0), stock_all)} months of sales (median month of the "
        f"median run); developers entering per year, in the year to the peak "
        f"{versus(avg('entries', -12, 0), entries_all)}, in the two years after it "
        f"{versus(avg('entries', 1, 24), entries_all)}; issuance over retirements "
        f"{fmt(avg('ratio', -12, 0), 2)} in the year to the peak and "
        f"{fmt(avg('ratio', 13, 36), 2)} in the second and third years after it (the pipeline "
        f"lasts one to three years at the baseline); projects abandoned per year, in the year "
        f"to the peak {versus(avg('abandoned', -12, 0), abandoned_all)}, in the second and "
        f"third years after it {versus(avg('abandoned', 12, 36), abandoned_all)}.",
        f"Around the {len(booms)} booms (month 0 is the trough): unsold stock at the trough "
        f"{versus(avg('stock', -3, 0, boom_mean), stock_all)} months of sales and a year later "
        f"{fmt(avg('stock', 9, 12, boom_mean), 2)}; issuance over retirements in the year to "
        f"the trough {fmt(avg('ratio', -12, 0, boom_mean), 2)}; projects abandoned per year in "
        f"the year to the trough {versus(avg('abandoned', -12, 0, boom_mean), abandoned_all)}.",
        f"{early} of the {len(events)} booms and busts start in the first {EARLY} recorded "
        f"months, where what is left of the start-up transient could weigh.",
    ]


def paths_figure(ok: pd.DataFrame, steps: pd.DataFrame, path) -> None:
    """Price index of every replication at the baseline and three cycling settings."""
    settings = [("baseline", {}),
                ("cost anchor 0.1", {"developers.cost_anchor": 0.1}),
                ("cost anchor 0.2, trend weight 0.5", {"developers.cost_anchor": 0.2,
                                                      "expectations.trend_weight": 0.5}),
                ("cost anchor 0.2, long supply lag", {"developers.cost_anchor": 0.2,
                                                     "supply_lag": "long"})]
    by_run = {rid: g.sort_values("step") for rid, g in steps.groupby("run_id")}
    fig, axes = plt.subplots(len(settings), 1, figsize=(9, 2.4 * len(settings)), sharex=True)
    for ax, (title, change) in zip(axes, settings):
        point = ok
        for key, value in {**BASELINE, **change}.items():
            point = point[point[key] == value]
        for r in point.sort_values("replication").itertuples():
            g = by_run[r.run_id]
            ax.plot(g["step"], g["price_index_usd"], lw=1, label=f"replication {r.replication}")
        ax.set_yscale("log")
        ax.set_ylabel("USD/t")
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=7, ncol=4)
    axes[-1].set_xlabel("recorded month")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def event_figure(events: pd.DataFrame, steps: pd.DataFrame, path) -> None:
    """Mean paths around busts (see :func:`_window_means`)."""
    mean = _window_means(events, steps, "bust")
    months = np.arange(-WINDOW, WINDOW + 1)
    labels = {"price": "price index / index at peak", "stock": "unsold stock, months of sales",
              "entries": "developers entering per year", "abandoned": "projects abandoned per year",
              "ratio": "issuance / retirements (12 months)"}
    fig, axes = plt.subplots(len(labels), 1, figsize=(8, 2.0 * len(labels)), sharex=True)
    for ax, (key, label) in zip(axes, labels.items()):
        ax.plot(months, mean[key], color="C3")
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_ylabel(label, fontsize=8)
    axes[0].set_title(f"Mean over {int((events['kind'] == 'bust').sum())} busts, aligned on "
                      "the peak", fontsize=10)
    axes[-1].set_xlabel("months from the peak")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
