"""The state of a running market at the first simulated month.

A run does not start from an empty market. Before its first month, the seeded projects
(started up to ``projects.initial_age_years`` earlier) have accrued tonnes, been verified in
their verification month each year and been issued credits, with the type's buffer share
going to the pool, and fires and pests have reversed some of their carbon, which the buffer
pool covered as far as it held; their developers have sold the oldest of those credits, which
firms retired, and hold the newest ones, up to ``developers.initial_inventory_years`` of their
projects' yearly issuance. :func:`seed_history` writes that past into the market through the
same nature, verification and issuance code as the monthly step, so the registry, the buffer
pool, the hidden truth and the projects' tonnes pending verification are those of a market
that has been running.

What the seeded past leaves out: no money changes hands (``developers.initial_cash_usd`` is
the cash at the first month), no audit looks at it, no scheduled event fires in it, and
verifiers neither drift nor are suspended in it (the burn-in months run all of that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vcm_sim.agents.developer import yearly_credits
from vcm_sim.projects import STEPS_PER_YEAR, draw_region_hazard
from vcm_sim.streams import SETUP

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction


def seed_history(market: Jurisdiction) -> None:
    """Accrue, reverse, verify and issue the seeded projects' past month by month, then sell
    down developers' inventories."""
    rng = market.streams.get("history", SETUP)
    nature = market.config.nature
    first = market.first_month
    begin = int(market.projects.start_step.min()) if len(market.projects) else first
    for month in range(begin, first):
        market.registry.step = month
        if month % STEPS_PER_YEAR == 0:
            market.region_hazard = draw_region_hazard(rng, nature.regions,
                                                     nature.bad_year_probability,
                                                     nature.bad_year_multiplier)
            market.verifiers.reset_capacity()
        market.projects.accrue(month)
        market.reversals(rng)
        result, developer = market.verify_due(month, rng, rng)
        if result is not None:
            market.issue(result, developer)
    sell_down(market, rng, first - 1)


def sell_down(market: Jurisdiction, rng: np.random.Generator, month: int) -> None:
    """Sales before the first month: each developer keeps the newest of its credits, up to
    ``initial_inventory_years`` of its active projects' yearly issuance; firms drawn at
    random bought the older ones and retired them behind their claims for the year before
    the first month."""
    accounts = market.developer_accounts
    held = market.registry.balances(accounts)
    annual, _ = yearly_credits(market.projects, market.types, len(accounts), month)
    keep = np.floor(market.config.developers.initial_inventory_years * annual).astype(np.int64)
    excess = np.maximum(held - keep, 0)
    seller = excess.nonzero()[0]
    if not len(seller):
        return
    buyers = [market.firm_accounts[f]
              for f in rng.integers(0, len(market.firm_accounts), len(seller)).tolist()]
    year = market.year_of(month)
    legs = market.registry.deliver([accounts[d] for d in seller.tolist()], buyers,
                                  excess[seller], retire=[True] * len(seller),
                                  claims=[f"{firm}/{year}" for firm in buyers])
    market.record_retirements(np.array(legs.batch, dtype=np.int64),
                             np.array(legs.quantity, dtype=np.int64))
