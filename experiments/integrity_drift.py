"""Integrity drift: is a scenario stationary in integrity over decades, or do verifiers'
rigour and the cohort of seeded projects move it? Prints, every four years of a long run
(mean over seeds), the detection developers plan with (``Jurisdiction.expected_detection``),
the share of running projects that inflate at all, the share of running projects seeded
before recording, the high-integrity share of issuance and the greenwashing index.

A diagnostic for the next modelling step, not an experiment with findings: levels measured
over 15-30 recorded years sit on whatever drift this shows (paired comparisons cancel it).

Run: ``python experiments/integrity_drift.py [--scenario baseline] [--seeds 3] [--years 40]``
(a few seconds).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from vcm_sim.model import VCMModel
from vcm_sim.projects import STEPS_PER_YEAR
from vcm_sim.scenario import load_scenario

EVERY_YEARS = 4


def snapshot(model: VCMModel) -> dict[str, float]:
    """The market's integrity state now."""
    market = model.market
    projects = market.projects
    running = projects.active(market.month_index)
    return {"planned_detection": market.expected_detection(),
            "inflating_share": float((projects.inflation[running] > 0).mean()),
            "seeded_share": float((projects.registered_step[running] < 0).mean())}


def drift(scenario: str, seeds: int, years: int) -> pd.DataFrame:
    """Per :data:`EVERY_YEARS` years, the mean over seeds 1..``seeds`` of :func:`snapshot`
    and of the period's issuance quality and greenwashing index."""
    rows = []
    months = years * STEPS_PER_YEAR
    period = EVERY_YEARS * STEPS_PER_YEAR
    for seed in range(1, seeds + 1):
        model = VCMModel(load_scenario(scenario, steps=months), rng=seed)
        for month in range(months):
            model.step()
            if (month + 1) % period == 0:
                rows.append({"seed": seed, "year": (month + 1) // STEPS_PER_YEAR,
                             **snapshot(model)})
        results = model.results()
        block = np.arange(len(results)) // period
        flows = results.groupby(block)[["issued_high_integrity_share",
                                        "greenwashing_index"]].mean()
        for k, (issued, gi) in enumerate(flows.itertuples(index=False)):
            rows[len(rows) - len(flows) + k].update(issued_high_integrity_share=issued,
                                                    greenwashing_index=gi)
    return pd.DataFrame(rows).drop(columns="seed").groupby("year").mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--years", type=int, default=40)
    args = parser.parse_args()
    print(drift(args.scenario, args.seeds, args.years).round(3).to_string())


if __name__ == "__main__":
    main()
