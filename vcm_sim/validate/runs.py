"""Posterior draws and the hindcast runs made from them.

A draw is a parameter set taken from the calibration's last generation with probability
proportional to its weight, and a model seed; both come from the validation's root seed, so
the same posterior and seed give the same runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vcm_sim import hindcast
from vcm_sim.errors import UserError
from vcm_sim.metrics import stylized_facts
from vcm_sim.registry import BUFFER

FACTS_FROM = 2015
"""First year whose returns the stylized facts use: the thin early market has months without
trades and, in some runs, a slow start (returns are taken only between months that traded)."""

NOT_PARAMETERS = {"weight", "distance", "model_seed"}
"""Columns of ``posterior.csv`` that are not calibrated settings."""


class ValidationError(UserError):
    """The calibration folder or the validation's arguments are unusable."""


@dataclass(frozen=True)
class Draw:
    """One parameter set of the posterior (dotted path -> value) and the seed of its run."""

    overrides: Mapping[str, float]
    seed: int


def read_posterior(calibration: Path) -> pd.DataFrame:
    """The last generation's particles in ``calibration/posterior.csv``."""
    path = Path(calibration) / "posterior.csv"
    if not path.is_file():
        raise ValidationError(f"{path} does not exist: run `vcm-sim calibrate "
                              f"calibration/history.toml` first, or give --calibration")
    posterior = pd.read_csv(path)
    if "weight" not in posterior or posterior["weight"].sum() <= 0:
        raise ValidationError(f"{path} has no positive 'weight' column")
    return posterior


def parameters(posterior: pd.DataFrame) -> list[str]:
    """The calibrated settings (dotted paths) in a posterior table."""
    return [c for c in posterior.columns if c not in NOT_PARAMETERS]


def draw(posterior: pd.DataFrame, count: int, seed: int) -> list[Draw]:
    """``count`` draws: particles by weight (with replacement) and fresh model seeds."""
    root = np.random.SeedSequence(seed)
    pick, seeds = root.spawn(2)
    weights = posterior["weight"].to_numpy(dtype=float)
    rows = np.random.default_rng(pick).choice(len(posterior), size=count,
                                              p=weights / weights.sum())
    names = parameters(posterior)
    model_seeds = np.random.default_rng(seeds).integers(0, 2**31 - 1, count)
    return [Draw({name: float(posterior[name].iloc[row]) for name in names}, int(s))
            for row, s in zip(rows, model_seeds)]


@dataclass
class RunRecord:
    """What validation keeps of one hindcast run."""

    flows: pd.DataFrame
    """Per year: ``issued_mt``, ``retired_mt`` and December's ``price_usd``."""
    prices: pd.Series
    """Monthly nature-based price, ``YYYY-MM`` index."""
    over_credited: dict[str, float]
    """Per project type: share of its credits issued 2010-2025 with no real tonne behind
    them at issuance (0-1)."""
    buffer: dict[str, float] = field(default_factory=dict)
    """Buffer pool: deposits and cancellations for reversals over 2010-2025 (credits)."""
    facts: dict[str, float] = field(default_factory=dict)
    """Stylized facts of the monthly returns of the price from :data:`FACTS_FROM`, between
    months that traded (see :func:`stylized_facts`)."""


def run_one(draw: Draw, drivers: bool = True) -> RunRecord:
    """Run the hindcast for ``draw`` and keep its flows, prices and integrity."""
    from vcm_sim.model import VCMModel

    model = VCMModel(hindcast.scenario(draw.overrides, drivers), rng=draw.seed).run()
    results = model.results()
    settled = results.loc[results["year"] >= FACTS_FROM, "price_usd"]
    return RunRecord(hindcast.annual(results), hindcast.monthly_price(results),
                     over_credited(model), buffer_use(model),
                     stylized_facts(settled.to_numpy()))


def over_credited(model: object) -> dict[str, float]:
    """Per project type, the share of credits issued since recording began that no real
    tonne stood behind when issued (hidden truth; NaN for a type never issued)."""
    truth, first = model.market.truth, model.market.first_recorded_batch
    quantity = truth.view("quantity")[first:].astype(float)
    real = quantity * truth.view("real_per_credit")[first:]
    kind = model.market.projects.kind[truth.view("project")[first:]]
    n = len(model.market.types.names)
    issued = np.bincount(kind, weights=quantity, minlength=n)
    backed = np.bincount(kind, weights=real, minlength=n)
    return {name: float(1.0 - backed[k] / issued[k]) if issued[k] else math.nan
            for k, name in enumerate(model.market.types.names)}


def buffer_use(model: object) -> dict[str, float]:
    """Credits deposited in the buffer pool and cancelled from it for reversals (fires,
    pests) over the whole run: its seeded past and burn-in included, so that every
    cancellation is counted against the deposits it drew on."""
    journal = model.market.registry.journal_frame()
    deposits = journal.loc[journal["kind"] == "buffer_deposit", "quantity"].sum()
    reversal = ((journal["kind"] == "cancel") & (journal["from"] == BUFFER)
                & journal["note"].astype(str).str.startswith("reversal"))
    return {"deposited": float(deposits),
            "cancelled_for_reversals": float(journal.loc[reversal, "quantity"].sum())}


def run_all(draws: list[Draw], drivers: bool, workers: int) -> list[RunRecord]:
    """:func:`run_one` for every draw, on ``workers`` processes (1: in this process)."""
    if workers <= 1:
        return [run_one(d, drivers) for d in draws]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(run_one, draws, [drivers] * len(draws)))


def as_runs(records: list[RunRecord]) -> hindcast.Runs:
    """The records' flows and prices, one column per run (for the fit figure)."""
    return hindcast.Runs(pd.DataFrame({k: r.flows["issued_mt"] for k, r in enumerate(records)}),
                         pd.DataFrame({k: r.flows["retired_mt"] for k, r in enumerate(records)}),
                         pd.DataFrame({k: r.prices for k, r in enumerate(records)}))
