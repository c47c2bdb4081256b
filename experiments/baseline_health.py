"""Baseline health: does the baseline market pay its developers, clear its stock and stay calm
without scheduled shocks, over many seeds? Prints a table and writes
results/baseline_health/<steps>_months/ (per-seed figures, README).

The checks (issue 12): the median over seeds of the median developer's profit over the
recorded months, counted over every developer that operated (capex included), is not
negative; unsold stock at the end stays under five years of sales; the max drawdown of the
price index stays below 0.5; the autocorrelation of absolute returns at 12 months does not
stand out from lags 6-11 (no annual buying calendar left in prices).

Run: ``python experiments/baseline_health.py [--seeds 10] [--steps 240] [--workers 2]``.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from vcm_sim import VCMModel, load_scenario
from vcm_sim.metrics import developer_profits_usd

RESULTS = Path(__file__).resolve().parent.parent / "results" / "baseline_health"
LAGS = [f"abs_returns_acf_{lag}" for lag in range(6, 12)]


def health(seed: int, steps: int) -> dict:
    """The figures of one baseline run."""
    model = VCMModel(load_scenario("baseline", steps=steps), rng=seed).run()
    s, r = model.summary(), model.results()
    profits = developer_profits_usd(model.market)
    economic = developer_profits_usd(model.market, charge_capital=True)
    return {"seed": seed, "median_developer_profit_usd": float(np.median(profits)),
            "median_profit_with_capital_charge_usd": float(np.median(economic)),
            "developers_operating": len(profits),
            "developers_losing_money": int((profits < 0).sum()),
            "final_stock_years": float(r["inventory_months"].iloc[-1] / 12),
            "max_stock_years": float(r["inventory_months"].max() / 12),
            "max_drawdown": s["max_drawdown"], "price_volatility": s["price_volatility"],
            "transient_months": s["transient_months"],
            "boom_count": s["boom_count"], "bust_count": s["bust_count"],
            "abs_returns_acf_12": s["abs_returns_acf_12"],
            "abs_returns_acf_6_11_max": max(abs(s[k]) for k in LAGS),
            "mean_price_usd": s["mean_price_usd"],
            "developer_entries": s["developer_entries"],
            "developer_exits": s["developer_exits"],
            "projects_abandoned": s["projects_abandoned"],
            "pledged_firms_final": s["pledged_firms_final"],
            "greenwashing_index": s["greenwashing_index"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("--steps", type=int, default=240, help="recorded months (default 240)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    if args.seeds < 1 or args.steps < 24:
        parser.error("--seeds must be at least 1 and --steps at least 24")
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(health, range(args.seeds), [args.steps] * args.seeds))
    table = pd.DataFrame(rows)
    checks = {
        "median over seeds of the median developer's profit (USD) >= 0":
            table["median_developer_profit_usd"].median() >= 0,
        "final unsold stock < 5 years of sales in every seed":
            (table["final_stock_years"] < 5).all(),
        "max drawdown < 0.5 (median over seeds)": table["max_drawdown"].median() < 0.5,
        "acf of absolute returns at 12 months, in size, within the largest at 6-11 (median)":
            table["abs_returns_acf_12"].abs().median()
            <= table["abs_returns_acf_6_11_max"].median(),
    }
    target = RESULTS / f"{args.steps}_months"
    target.mkdir(parents=True, exist_ok=True)
    table.to_csv(target / "seeds.csv", index=False)
    pd.set_option("display.width", 200)
    print(table.round(3).to_string(index=False))
    lines = [f"# baseline_health, {args.steps} months", "",
             f"The baseline, seeds 0-{args.seeds - 1}, {args.steps} recorded months after its "
             f"burn-in, no scheduled event (`python experiments/baseline_health.py --seeds "
             f"{args.seeds} --steps {args.steps}`). The profit check uses the cash basis "
             f"(`developer_profits_usd(model)`); `median_profit_with_capital_charge_usd` also "
             f"charges the capital of projects built before recording.", "",
             "| check | holds |", "|---|---|",
             *[f"| {name} | {'yes' if ok else 'NO'} |" for name, ok in checks.items()], "",
             "| figure | median | min | max |", "|---|---|---|---|",
             *[f"| {c} | {table[c].median():.4g} | {table[c].min():.4g} | "
               f"{table[c].max():.4g} |" for c in table.columns if c != "seed"], "",
             "Per seed: `seeds.csv`."]
    (target / "README.md").write_text("\n".join(lines) + "\n")
    for name, ok in checks.items():
        print(f"{'ok ' if ok else 'NO '} {name}")


if __name__ == "__main__":
    main()
